"""Routes of the pages; the admin and /api/v1/ keep their own."""

from django.urls import path

from crm.web import (
    appraisal,
    auth,
    buildings,
    channels,
    commitments,
    dashboard,
    desk,
    imports,
    lead_edit,
    leads,
    policies,
    retention,
    units,
)

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginPage.as_view(), name="login"),
    path("logout/", auth.LogoutPage.as_view(), name="logout"),
    path("password/", auth.PasswordChangePage.as_view(), name="password_change"),
    path("password/done/", auth.PasswordChangeDonePage.as_view(), name="password_change_done"),
    path("settings/notifications/", channels.notification_settings, name="notification_settings"),
    # promoter's desk
    path("desk/", desk.desk, name="desk"),
    path("notifications/<int:pk>/read/", desk.notification_read, name="notification_read"),
    path("plans/<int:pk>/done/", desk.plan_done, name="plan_done"),
    path("plans/<int:pk>/reschedule/", desk.plan_reschedule, name="plan_reschedule"),
    # leads
    path("leads/", leads.lead_list, name="leads"),
    path("leads/board/", leads.lead_board, name="board"),
    path("leads/new/", leads.lead_add, name="lead_add"),
    path("leads/new/check/", leads.lead_duplicate_check, name="lead_duplicate_check"),
    path("leads/new/industry/", leads.industry_suggestions, name="industry_suggestions"),
    path("leads/<int:pk>/", leads.lead_detail, name="lead"),
    path("leads/<int:pk>/edit/", lead_edit.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/activity/", leads.activity_add, name="activity_add"),
    path("leads/<int:pk>/units/", leads.unit_options, name="unit_options"),
    path("leads/<int:pk>/stage/", leads.stage_change, name="stage_change"),
    path("leads/<int:pk>/move/", leads.board_move, name="board_move"),
    path("leads/<int:pk>/matches/", leads.lead_matches, name="lead_matches"),
    path("leads/<int:pk>/excluded/", leads.lead_excluded, name="lead_excluded"),
    path("leads/<int:pk>/tour/", leads.site_tour_schedule, name="site_tour_schedule"),
    path("leads/<int:pk>/sign/", leads.lead_sign, name="lead_sign"),
    path("leads/<int:pk>/signing/<int:signing_id>/settle/", leads.signing_settle_view, name="signing_settle"),
    path("leads/<int:pk>/signing/<int:signing_id>/cancel/", leads.signing_cancel_view, name="signing_cancel"),
    path("leads/<int:pk>/reassign/", leads.lead_reassign_view, name="lead_reassign"),
    path("leads/<int:pk>/entry-approval/", leads.entry_exception_approve, name="lead_entry_approve"),
    # buildings and vacancies
    path("buildings/", buildings.building_list, name="buildings"),
    path("buildings/<int:pk>/", buildings.building_detail, name="building"),
    path("buildings/<int:pk>/leads/", buildings.building_leads, name="building_leads"),
    path("buildings/<int:pk>/retention/", retention.building_retention, name="building_retention"),
    path("vacancies/", buildings.vacancy_list, name="vacancies"),
    # units and holds
    path("units/<int:pk>/", units.unit_detail, name="unit"),
    path("holds/new/", units.hold_add, name="hold_add"),
    path("holds/<int:pk>/release/", units.hold_release, name="hold_release"),
    # retention (稳商)
    path("retention/", retention.retention_page, name="retention"),
    path("retention/<int:pk>/visit/", retention.retention_visit, name="retention_visit"),
    # the plan
    path("plan/", dashboard.dashboard, name="dashboard"),
    path("plan/streets/", dashboard.dashboard_streets, name="dashboard_streets"),
    path("plan/map/", dashboard.dashboard_map, name="dashboard_map"),
    path("plan/what-if/form/", dashboard.dashboard_what_if_form, name="dashboard_what_if_form"),
    path(
        "plan/what-if/buildings/", dashboard.dashboard_what_if_buildings, name="dashboard_what_if_buildings"
    ),
    path("plan/forecast/", dashboard.forecast, name="forecast"),
    path("plan/what-if/", dashboard.what_if, name="what_if"),
    # appraisal, assessment, white paper
    path("appraisal/", appraisal.leaderboard, name="leaderboard"),
    path("appraisal/recompute/", appraisal.appraisal_recompute, name="appraisal_recompute"),
    path("appraisal/<int:pk>/", appraisal.appraisal_detail, name="appraisal"),
    path("assessment/", appraisal.assessment_list, name="assessment"),
    path("assessment/recompute/", appraisal.assessment_recompute, name="assessment_recompute"),
    path("assessment/<int:pk>/", appraisal.assessment_detail, name="assessment_detail"),
    path("white-papers/", appraisal.white_paper_list, name="white_papers"),
    path("white-papers/<int:year>/", appraisal.white_paper_view, name="white_paper"),
    path("white-papers/<int:year>/pdf/", appraisal.white_paper_pdf, name="white_paper_pdf"),
    # policies
    path("policies/", policies.policy_list, name="policies"),
    path("policies/what-if/", policies.policy_calculator, name="policy_calculator"),
    path("policies/approvals/", policies.approval_list, name="approvals"),
    path("policies/<int:pk>/", policies.policy_detail, name="policy"),
    path("policies/<int:pk>/review/", policies.policy_review, name="policy_review"),
    path("commitments/", commitments.commitment_schedule_page, name="commitment_schedule"),
    path("commitments/<int:pk>/pay/", commitments.commitment_payment_add, name="commitment_payment_add"),
    path("commitments/<int:pk>/withhold/", commitments.commitment_withhold, name="commitment_withhold"),
    # import and export
    path("import/", imports.import_page, name="import"),
    path("import/<str:job_id>/", imports.import_job, name="import_job"),
    path("import/<str:job_id>/progress/", imports.import_progress, name="import_progress"),
    path("export/district.zip", imports.export_district_zip, name="export_district"),
]

"""Routes of /api/v1/: resources through a router, one path per workflow operation."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from crm.api.views.buildings import BuildingUnitsView, BuildingViewSet
from crm.api.views.commitments import CommitmentPaymentView, CommitmentScheduleView, CommitmentWithholdView
from crm.api.views.internal import AppraisalViewSet, EnterpriseViewSet, IndicatorsView, TaxRecordViewSet
from crm.api.views.leads import (
    LeadActivitiesView,
    LeadEntryApprovalView,
    LeadReassignView,
    LeadSigningCancelView,
    LeadSigningSettleView,
    LeadSigningView,
    LeadTransitionView,
    LeadViewSet,
)
from crm.api.views.policies import PolicyEvaluateView, PolicyViewSet
from crm.api.views.ranking import BuildingLeadMatchesView, LeadMatchesView
from crm.api.views.reference import IndustrySuggestView, IndustryViewSet
from crm.api.views.webhooks import WebhookDeliveriesView, WebhookViewSet

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False  # one URL per resource; the format is negotiated by Accept
router.register("buildings", BuildingViewSet, basename="building")
router.register("leads", LeadViewSet, basename="lead")
router.register("industries", IndustryViewSet, basename="industry")
router.register("enterprises", EnterpriseViewSet, basename="enterprise")
router.register("tax-records", TaxRecordViewSet, basename="tax-record")
router.register("appraisals", AppraisalViewSet, basename="appraisal")
router.register("policies", PolicyViewSet, basename="policy")
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = [
    # Fixed paths first, so that "suggest" is never read as an industry code.
    path("industries/suggest/", IndustrySuggestView.as_view(), name="industry-suggest"),
    path("policies/evaluate/", PolicyEvaluateView.as_view(), name="policy-evaluate"),
    path("indicators/", IndicatorsView.as_view(), name="indicators"),
    path("buildings/<int:pk>/units/", BuildingUnitsView.as_view(), name="building-units"),
    path("buildings/<int:pk>/lead-matches/", BuildingLeadMatchesView.as_view(), name="building-lead-matches"),
    path("leads/<int:pk>/matches/", LeadMatchesView.as_view(), name="lead-matches"),
    path("leads/<int:pk>/transition/", LeadTransitionView.as_view(), name="lead-transition"),
    path("leads/<int:pk>/activities/", LeadActivitiesView.as_view(), name="lead-activities"),
    path("leads/<int:pk>/signing/", LeadSigningView.as_view(), name="lead-signing"),
    path(
        "leads/<int:pk>/signing/<int:signing_id>/settle/",
        LeadSigningSettleView.as_view(),
        name="lead-signing-settle",
    ),
    path(
        "leads/<int:pk>/signing/<int:signing_id>/cancel/",
        LeadSigningCancelView.as_view(),
        name="lead-signing-cancel",
    ),
    path("leads/<int:pk>/reassign/", LeadReassignView.as_view(), name="lead-reassign"),
    path("leads/<int:pk>/entry-approval/", LeadEntryApprovalView.as_view(), name="lead-entry-approval"),
    path("commitments/schedule/", CommitmentScheduleView.as_view(), name="commitment-schedule"),
    path(
        "commitments/schedule/<int:pk>/payments/",
        CommitmentPaymentView.as_view(),
        name="commitment-payments",
    ),
    path(
        "commitments/schedule/<int:pk>/withhold/",
        CommitmentWithholdView.as_view(),
        name="commitment-withhold",
    ),
    path("webhooks/<int:pk>/deliveries/", WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
    path("", include(router.urls)),
]

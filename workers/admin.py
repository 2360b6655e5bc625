"""Admin for the workers' tables: limits, targets and weights to edit; reminders, snapshots, papers to read.

Targets, weights and stage limits are validated by their models' clean(), which the admin form runs,
and by database constraints behind it. Snapshots and reminders are written only by the workers.
Rows and lookups are scoped like every CRM admin (crm.admin.base.ScopedModelAdmin).
"""

from django.contrib import admin, messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm.admin.base import ScopedModelAdmin
from crm.models import (
    AppraisalSnapshot,
    AppraisalWeight,
    EarlyWarning,
    IndicatorSnapshot,
    Notification,
    PromoterTarget,
    Reminder,
    ReminderDigest,
    StageLimit,
    StreetAssessmentSnapshot,
    StreetTarget,
    WhitePaper,
)
from crm.models.appraisal import Metric
from crm.services.white_paper import white_paper_request
from workers.enqueue import enqueue


class ReadOnlyAdmin(ScopedModelAdmin):
    """Rows that only the workers write."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StageLimit)
class StageLimitAdmin(ScopedModelAdmin):
    list_display = ["stage", "days", "escalate_after_days"]


@admin.register(PromoterTarget)
class PromoterTargetAdmin(ScopedModelAdmin):
    list_display = [
        "promoter",
        "period_kind",
        "period_start",
        "signings",
        "signed_area_m2",
        "actual_tax_yuan",
    ]
    list_filter = ["period_kind", "period_start", "promoter__team"]
    search_fields = ["promoter__name"]
    raw_id_fields = ["promoter"]
    fieldsets = [
        (None, {"fields": ["promoter", "period_kind", "period_start"]}),
        (_("目标 / targets"), {"fields": Metric.values}),
    ]


@admin.register(AppraisalWeight)
class AppraisalWeightAdmin(ScopedModelAdmin):
    list_display = ["effective_from", *Metric.values]
    fieldsets = [
        (None, {"fields": ["effective_from"]}),
        (
            _("权重(合计100,过程指标不超过30)/ weights (total 100, effort at most 30)"),
            {"fields": Metric.values},
        ),
    ]


@admin.register(AppraisalSnapshot)
class AppraisalSnapshotAdmin(ReadOnlyAdmin):
    list_display = [
        "promoter",
        "period_kind",
        "period_start",
        "team",
        "score",
        "rank_team",
        "rank_district",
        "signings",
        "signed_area_m2",
        "actual_tax_yuan",
        "note",
    ]
    list_filter = ["period_kind", "period_start", "team", "street"]
    search_fields = ["promoter__name"]
    list_select_related = ["promoter"]


@admin.register(StreetTarget)
class StreetTargetAdmin(ScopedModelAdmin):
    list_display = ["street", "year", "key", "value"]
    list_filter = ["year", "street", "key"]


@admin.register(StreetAssessmentSnapshot)
class StreetAssessmentSnapshotAdmin(ReadOnlyAdmin):
    list_display = [
        "street",
        "year",
        "targets_met",
        "targets_set",
        "signings",
        "tax_yuan",
        "tax_growth",
        "promoter_score",
    ]
    list_filter = ["year", "street"]
    list_select_related = ["street"]


@admin.register(IndicatorSnapshot)
class IndicatorSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["taken_on", "year", "scope", "street", "building", "tier", "tax_yuan"]
    list_filter = ["taken_on", "year", "scope", "tier", "street"]
    list_select_related = ["street", "building"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["lead", "promoter", "reason", "stage", "due_on", "state", "sent_at", "escalated_at"]
    list_filter = ["state", "reason", "stage", "due_on"]
    search_fields = ["lead__ref", "lead__company_name", "promoter__name"]
    list_select_related = ["lead", "promoter"]


@admin.register(ReminderDigest)
class ReminderDigestAdmin(ReadOnlyAdmin):
    list_display = ["promoter", "recipient", "state", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = ["state"]
    search_fields = ["promoter__name", "recipient", "message_id"]
    list_select_related = ["promoter"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "title", "created_at", "read_at"]
    list_filter = ["kind", "read_at"]
    search_fields = ["title", "user__username"]
    list_select_related = ["user"]


@admin.register(EarlyWarning)
class EarlyWarningAdmin(ScopedModelAdmin):
    list_display = ["title", "kind", "assignee", "building", "due_on", "state", "created_at"]
    list_filter = ["state", "kind", "building__street"]
    search_fields = ["title", "building__name", "enterprise__name"]
    list_select_related = ["assignee", "building"]
    readonly_fields = [
        "kind",
        "assignee",
        "building",
        "enterprise",
        "title",
        "detail",
        "dedupe_key",
        "created_at",
    ]
    fields = ["title", "kind", "assignee", "building", "enterprise", "detail", "due_on", "state", "done_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WhitePaper)
class WhitePaperAdmin(ScopedModelAdmin):
    list_display = ["year", "state", "generated_at", "downloads", "pdf_note"]
    fields = ["year"]
    actions = ["regenerate"]

    def get_urls(self):
        own = [
            path(
                "<int:pk>/html/", self.admin_site.admin_view(self.download_html), name="crm_whitepaper_html"
            ),
            path("<int:pk>/pdf/", self.admin_site.admin_view(self.download_pdf), name="crm_whitepaper_pdf"),
        ]
        return own + super().get_urls()

    @admin.display(description=_("下载 / download"))
    def downloads(self, paper: WhitePaper) -> str:
        if paper.state != WhitePaper.State.READY:
            return "—"
        html = format_html('<a href="{}">HTML</a>', reverse("admin:crm_whitepaper_html", args=[paper.pk]))
        if not paper.pdf:
            return html
        pdf = format_html('<a href="{}">PDF</a>', reverse("admin:crm_whitepaper_pdf", args=[paper.pk]))
        return format_html("{} · {}", html, pdf)

    def _paper(self, request, pk: int) -> WhitePaper:
        if not self.has_view_permission(request):
            raise Http404
        return get_object_or_404(self.get_queryset(request), pk=pk, state=WhitePaper.State.READY)

    def download_html(self, request, pk: int) -> HttpResponse:
        paper = self._paper(request, pk)
        return HttpResponse(paper.html, content_type="text/html; charset=utf-8")

    def download_pdf(self, request, pk: int) -> HttpResponse:
        paper = self._paper(request, pk)
        if not paper.pdf:
            raise Http404(paper.pdf_note)
        response = HttpResponse(bytes(paper.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="white-paper-{paper.year}.pdf"'
        return response

    def save_model(self, request, obj: WhitePaper, form, change) -> None:
        # Adding a year asks for its paper; the worker renders it after this request commits.
        paper = white_paper_request(year=obj.year)
        obj.pk = paper.pk
        self._enqueue(paper.year)
        messages.info(request, _("已提交生成,稍后刷新 / generation queued, refresh in a moment"))

    @admin.action(description=_("重新生成 / generate again"), permissions=["change"])
    def regenerate(self, request, queryset) -> None:
        for paper in queryset:
            white_paper_request(year=paper.year)
            self._enqueue(paper.year)
        messages.info(request, _("已提交生成 / generation queued"))

    @staticmethod
    def _enqueue(year: int) -> None:
        from workers.tasks import generate_white_paper

        enqueue(generate_white_paper, year)

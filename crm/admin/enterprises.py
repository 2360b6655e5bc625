"""Admins of enterprises (入驻企业), their tenancies (租约) and the tax they pay (税收)."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.admin.base import (
    ReadOnlyInline,
    ScopedHistoryAdmin,
    ScopedModelAdmin,
    ServiceForm,
    ServiceFormAdmin,
    scoped,
)
from crm.admin.filters import industry_section_filter
from crm.models import Enterprise, Lead, Signing, TaxRecord, Tenancy, Unit
from crm.services.tenancies import tenancy_create
from policies.models import CommitmentLine
from policies.selectors import STATUS_LABELS, commitment_schedule, schedule_row_status


class TenancyInline(ReadOnlyInline, admin.TabularInline):
    """An enterprise's tenancies; new ones are added on the tenancy page, which checks overlaps."""

    model = Tenancy
    fields = ("building", "area_m2", "start", "end")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("building", "enterprise")


class TaxRecordInline(ReadOnlyInline, admin.TabularInline):
    model = TaxRecord
    fields = ("year", "month", "amount_yuan")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-year", "-month")


class ReferredLeadInline(ReadOnlyInline, admin.TabularInline):
    """以商招商: the companies this tenant referred, which the referral reward at signing is for.
    Scoped like the leads' own admin; set on the lead (quick add, API, leads.csv)."""

    model = Lead
    fk_name = "referred_by"
    fields = ("ref", "company_name", "stage", "outcome", "owner", "created_at")
    readonly_fields = fields
    verbose_name = _("推荐的线索")
    verbose_name_plural = _("推荐的线索(以商招商)")

    def get_queryset(self, request):
        signings = Signing.objects.select_related("building").order_by("signed_on", "pk")
        return (
            super()
            .get_queryset(request)
            .select_related("owner")
            .prefetch_related(Prefetch("signings", queryset=signings))
            .order_by("-created_at")
        )

    @admin.display(description=_("结果"))
    def outcome(self, lead):
        # What became of the referral: where and when it signed, and whether that held.
        parts = []
        for signing in lead.signings.all():
            state = (
                _("已取消") if signing.cancelled_at else _("已入驻") if signing.settled_at else _("已签约")
            )
            parts.append(f"{signing.building.name} {signing.signed_on:%Y-%m-%d} {state}")
        return "; ".join(parts) or "—"


class ReferralRewardInline(ReadOnlyInline, admin.TabularInline):
    """以商招商: what this tenant earned as referrer, the referral-reward periods of the signings it
    referred (promised at signing, written by commitment_record), with what was paid and their state."""

    model = CommitmentLine
    fk_name = "referrer"
    fields = (
        "company",
        "policy_name",
        "year_index",
        "period_start",
        "period_end",
        "amount_yuan",
        "paid",
        "state",
    )
    readonly_fields = fields
    show_change_link = False
    verbose_name = _("以商招商奖励")
    verbose_name_plural = _("作为推荐企业获得的以商招商奖励")

    def get_queryset(self, request):
        return commitment_schedule(super().get_queryset(request))

    @admin.display(description=_("被推荐企业"))
    def company(self, line):
        return line.commitment.signing.lead.company_name

    @admin.display(description=_("已兑现(元)"))
    def paid(self, line):
        return line.paid_yuan

    @admin.display(description=_("状态"))
    def state(self, line):
        status = schedule_row_status(line, today=timezone.localdate())
        return f"{STATUS_LABELS[status]} / {status.value}"


@admin.register(Enterprise)
class EnterpriseAdmin(ScopedHistoryAdmin):
    list_display = (
        "name",
        "credit_code",
        "industry",
        "registered_in_district",
        "settles_in_district",
        "is_headquarters",
        "employees",
    )
    list_filter = (
        industry_section_filter("industry"),
        "registered_in_district",
        "settles_in_district",
        "is_headquarters",
    )
    search_fields = ("name", "credit_code")
    list_select_related = ("industry",)
    autocomplete_fields = ("industry",)
    inlines = (TenancyInline, TaxRecordInline, ReferredLeadInline, ReferralRewardInline)


class TenancyForm(ServiceForm, forms.ModelForm):
    """A new tenancy, written by tenancy_create: units locked, checked free of overlaps, marked leased."""

    tenancy_units = forms.ModelMultipleChoiceField(
        label=_("房源"),
        queryset=Unit.objects.none(),
        required=False,
        help_text=_("不选房源时须填写面积 / give the area when no units are named"),
    )

    class Meta:
        model = Tenancy
        fields = ("enterprise", "building", "area_m2", "start", "end")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "area_m2" in self.fields:
            self.fields["area_m2"].required = False
        self.fields["tenancy_units"].queryset = scoped(self.request, Unit.objects.select_related("building"))

    def _get_validation_exclusions(self):
        # A blank area is tenancy_create's to fill in from the units, not an error yet.
        excluded = super()._get_validation_exclusions()
        excluded.add("area_m2")
        return excluded

    def run_service(self):
        data = self.cleaned_data
        return tenancy_create(
            enterprise=data["enterprise"],
            building=data["building"],
            start=data["start"],
            end=data.get("end"),
            units=list(data.get("tenancy_units") or ()),
            area_m2=data.get("area_m2"),
            by=self.request.user,
        )


@admin.register(Tenancy)
class TenancyAdmin(ServiceFormAdmin, ScopedHistoryAdmin):
    """Tenancies are added here through tenancy_create and then kept as they were signed."""

    form = TenancyForm
    list_display = ("enterprise", "building", "area_m2", "start", "end")
    list_filter = (("building__street", admin.RelatedOnlyFieldListFilter), "start", "end")
    search_fields = ("enterprise__name", "enterprise__credit_code", "building__name", "building__code")
    list_select_related = ("enterprise", "building")
    autocomplete_fields = ("enterprise", "building")
    readonly_fields = ("unit_list",)
    date_hierarchy = "start"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("enterprise", "building", "tenancy_units", "area_m2", "start", "end")
        return ("enterprise", "building", "unit_list", "area_m2", "start", "end")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("enterprise", "building", "unit_list", "area_m2", "start", "end")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "tenancy_units" in form.base_fields:
            units = form.base_fields["tenancy_units"]
            units.widget = AutocompleteSelectMultiple(Tenancy._meta.get_field("units"), self.admin_site)
        return form

    def has_change_permission(self, request, obj=None):
        # No service changes a tenancy yet (its unit links copy the period): view only.
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("房源"))
    def unit_list(self, tenancy):
        return ", ".join(unit.number for unit in tenancy.units.all()) or "—"


@admin.register(TaxRecord)
class TaxRecordAdmin(ScopedModelAdmin):
    list_display = ("enterprise", "year", "month", "amount_yuan")
    list_filter = ("year",)
    search_fields = ("enterprise__name", "enterprise__credit_code")
    list_select_related = ("enterprise",)
    autocomplete_fields = ("enterprise",)
    ordering = ("-year", "-month", "enterprise__name")

"""Admins of leads (招商线索) and what happens to them, every write going through crm.services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, When
from django.template.response import TemplateResponse
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.admin.base import (
    ReadOnly,
    ReadOnlyInline,
    ScopedHistoryAdmin,
    ScopedModelAdmin,
    ServiceForm,
    ServiceFormAdmin,
    hides_personal_data,
    scoped,
)
from crm.admin.filters import OwnerTeamFilter, industry_section_filter
from crm.constants import LeadStage, Role
from crm.models import Activity, ContactAccess, Lead, Promoter, Reservation, Signing, StageChange
from crm.roles import user_role
from crm.selectors.reservations import live_condition, reservations_lapsed, reservations_live
from crm.selectors.scope import CHANGE
from crm.services.activities import activity_log
from crm.services.leads import (
    EDITABLE_FIELDS,
    LEAD_FACTS,
    LeadVersionConflict,
    lead_create,
    lead_transition,
    lead_update,
)
from crm.services.privacy import contact_access_record, contact_erase
from crm.services.reservations import reservation_release, unit_reserve

# The stages an admin action can move a lead to: every target of LEAD_TRANSITIONS except
# "signed", which only signing_complete reaches. Whether the edge is allowed is the service's to say.
ACTION_STAGES = (
    LeadStage.CONTACTED,
    LeadStage.VISITING,
    LeadStage.NEGOTIATING,
    LeadStage.SETTLED,
    LeadStage.LOST,
)


def _own_promoter(request) -> Promoter | None:
    return Promoter.objects.filter(user=request.user).first()


class ActivityInline(ReadOnlyInline, admin.TabularInline):
    """A lead's follow-up history, newest first; activities are logged on the activity page."""

    model = Activity
    fields = ("occurred_at", "kind", "promoter", "building", "unit", "notes", "next_follow_up_at")
    readonly_fields = fields
    ordering = ("-occurred_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lead", "promoter", "building", "unit__building")


class StageChangeLabels:
    """Chinese column labels for the two StageChange fields that have no verbose_name."""

    @admin.display(description=_("线索"), ordering="lead__ref")
    def lead_ref(self, change):
        return change.lead.ref

    @admin.display(description=_("操作人"), ordering="changed_by__username")
    def changed_by_name(self, change):
        return change.changed_by.get_username() if change.changed_by else "—"


class StageChangeInline(StageChangeLabels, ReadOnlyInline, admin.TabularInline):
    model = StageChange
    fields = ("changed_at", "from_stage", "to_stage", "reason", "changed_by_name")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


class LeadForm(ServiceForm, forms.ModelForm):
    """A new lead through lead_create (the 撞单 protection applies), a change through lead_update."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Lead
        fields = (*LEAD_FACTS, "channel", "owner", "agency", "case_by_case")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def run_service(self):
        if self.instance.pk:
            return self._update()
        return self._create()

    def _create(self) -> Lead:
        data = self.cleaned_data
        owner = data.get("owner") if "owner" in self.fields else _own_promoter(self.request)
        industry = data.get("industry")
        # The company's name and industry go to lead_create by name below.
        given = [name for name in LEAD_FACTS if name not in ("company_name", "industry")]
        given += ["case_by_case", "agency"]
        fields = {name: data[name] for name in given if name in data}
        return lead_create(
            company_name=data["company_name"],
            channel=data["channel"],
            owner=owner,
            industry=industry.code if industry else None,
            by=self.request.user,
            **fields,
        )

    def _update(self) -> Lead:
        editable = EDITABLE_FIELDS | {"preferred_streets"}
        changes = {name: self.cleaned_data[name] for name in self.changed_data if name in editable}
        if not changes:
            return self.instance
        if "preferred_streets" in changes:
            changes["preferred_streets"] = list(changes["preferred_streets"])
        try:
            return lead_update(
                lead=self.instance,
                by=self.request.user,
                expected_version=self.cleaned_data.get("expected_version"),
                **changes,
            )
        except LeadVersionConflict as exc:
            raise forms.ValidationError(
                _("该线索已被他人修改,请刷新后重试 / the lead was changed by someone else: reload and retry")
            ) from exc


class LeadActionForm(ActionForm):
    reason = forms.CharField(
        label=_("原因"),
        required=False,
        max_length=300,
        help_text=_("标记流失时必填 / required when marking a lead lost"),
    )


def _stage_action(to_stage: LeadStage):
    def move(modeladmin, request, queryset):
        modeladmin.move_to(request, queryset, to_stage)

    move.__name__ = f"move_to_{to_stage.value}"
    if to_stage == LeadStage.LOST:
        description = _("标记流失(在“原因”中填写流失原因)")
    else:
        description = format_lazy("{}{}", _("转为:"), to_stage.label)
    return admin.action(description=description, permissions=["change"])(move)


@admin.register(Lead)
class LeadAdmin(ServiceFormAdmin, ScopedHistoryAdmin):
    form = LeadForm
    action_form = LeadActionForm
    actions = [*(_stage_action(stage) for stage in ACTION_STAGES), "erase_contacts"]
    list_display = (
        "ref",
        "company_name",
        "stage",
        "channel",
        "owner",
        "case_by_case",
        "last_activity_at",
    )
    list_filter = (
        "stage",
        "channel",
        OwnerTeamFilter,
        "case_by_case",
        industry_section_filter("industry"),
    )
    search_fields = ("company_name", "credit_code", "ref")
    list_select_related = ("owner",)
    autocomplete_fields = ("industry", "owner", "agency", "referred_by", "preferred_streets")
    date_hierarchy = "created_at"

    # Set by lead_create, or not taken by it: shown on an existing lead only.
    _not_on_add = ("ref", "stage", "lost_reason", "referred_by", "lawful_basis_recorded_at")

    def get_fieldsets(self, request, obj=None):
        owner = ("owner",) if obj is not None or user_role(request.user) != Role.PROMOTER else ()
        fieldsets = [
            (None, {"fields": ("ref", "stage", "lost_reason", "company_name", "credit_code", "industry")}),
            (_("负责与渠道"), {"fields": ("channel", *owner, "agency", "referred_by", "case_by_case")}),
            (
                _("联系人"),
                {"fields": ("contact_name", "contact_phone", "lawful_basis", "lawful_basis_recorded_at")},
            ),
            (
                _("需求"),
                {
                    "fields": (
                        ("area_min_m2", "area_max_m2"),
                        "budget_rent",
                        "expected_annual_tax",
                        "employees",
                        "is_headquarters",
                        "preferred_streets",
                        "desired_move_in",
                        "business_scope",
                    )
                },
            ),
        ]
        if obj is None:
            fieldsets = [
                (name, {"fields": [f for f in opts["fields"] if f not in self._not_on_add]})
                for name, opts in fieldsets
            ]
        else:
            dates = ("created_at", "last_activity_at", "updated_at", "version", "expected_version")
            fieldsets.append((_("记录"), {"fields": dates}))
        return self.without_personal_data(request, fieldsets)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Stage moves by the actions (lead_transition); agency and referrer are fixed at creation.
        readonly = [*self._not_on_add, "agency", "created_at", "last_activity_at", "updated_at", "version"]
        if user_role(request.user) != Role.DISTRICT_ADMIN:
            readonly.append("owner")  # handing a lead over is the office's decision
        return readonly

    def get_inlines(self, request, obj):
        return (ActivityInline, StageChangeInline) if obj is not None else ()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            self._record_contact_seen(request, object_id)
        return response

    def history_view(self, request, object_id, extra_context=None):
        # The history's diffs show old names and phones to whoever sees them unmasked.
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            self._record_contact_seen(request, object_id)
        return response

    def _record_contact_seen(self, request, object_id) -> None:
        if hides_personal_data(request):
            return
        lead = scoped(request, Lead).filter(pk=object_id).only("pk", "contact_name", "contact_phone").first()
        if lead is not None:
            contact_access_record(user=request.user, how=ContactAccess.How.ADMIN, leads=[lead])

    def has_erase_permission(self, request) -> bool:
        # Erasing personal data is the office's decision (a data subject's request, a legal duty).
        return user_role(request.user) == Role.DISTRICT_ADMIN

    @admin.action(
        description=_("删除所选线索的联系人信息(含审计历史)/ erase contacts"), permissions=["erase"]
    )
    def erase_contacts(self, request, queryset):
        """Ask once, then erase the contact person of the selected leads through contact_erase."""
        leads = scoped(request, queryset, CHANGE).order_by("ref")
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("确认删除联系人信息 / confirm erasure"),
                "leads": leads,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "reason": request.POST.get("reason", ""),
            }
            return TemplateResponse(request, "admin/crm/lead/erase_contacts.html", context)
        try:
            outcome = contact_erase(
                lead_ids=leads.values_list("pk", flat=True),
                by=request.user,
                note=request.POST.get("reason", "")[:200],
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return None
        messages.success(
            request,
            gettext("已删除 %(erased)d 条线索的联系人信息,%(clear)d 条本无联系人信息")
            % {"erased": len(outcome.erased), "clear": len(outcome.already_clear)},
        )
        return None

    def move_to(self, request, queryset, to_stage: LeadStage) -> None:
        """Move each selected lead to `to_stage` through lead_transition; report each refusal."""
        reason = request.POST.get("reason", "")
        changeable = set(scoped(request, queryset, CHANGE).values_list("pk", flat=True))
        moved = 0
        for lead in queryset.order_by("ref"):
            if lead.pk not in changeable:
                messages.error(request, f"{lead.ref}: {gettext('无权修改此线索 / not yours to change')}")
                continue
            try:
                lead_transition(lead=lead, to_stage=to_stage, by=request.user, reason=reason)
            except forms.ValidationError as exc:
                messages.error(request, f"{lead.ref}: {'; '.join(exc.messages)}")
            else:
                moved += 1
        if moved:
            messages.success(
                request,
                gettext("%(count)d 条线索已转为「%(stage)s」") % {"count": moved, "stage": to_stage.label},
            )


class ActivityForm(ServiceForm, forms.ModelForm):
    """A new activity through activity_log, which also renews the owner's protection period."""

    class Meta:
        model = Activity
        fields = ("lead", "kind", "occurred_at", "building", "unit", "notes", "next_follow_up_at")

    def run_service(self):
        data = self.cleaned_data
        return activity_log(
            lead=data["lead"],
            kind=data["kind"],
            occurred_at=data["occurred_at"],
            promoter=_own_promoter(self.request),
            building=data.get("building"),
            unit=data.get("unit"),
            notes=data.get("notes", ""),
            next_follow_up_at=data.get("next_follow_up_at"),
            by=self.request.user,
        )


@admin.register(Activity)
class ActivityAdmin(ServiceFormAdmin, ScopedModelAdmin):
    """Activities are logged here and kept as history: no change, no delete."""

    form = ActivityForm
    list_display = ("occurred_at", "lead", "kind", "promoter", "building", "next_follow_up_at")
    list_filter = ("kind", "occurred_at", "next_follow_up_at")
    search_fields = ("lead__ref", "lead__company_name", "notes")
    list_select_related = ("lead", "promoter", "building")
    autocomplete_fields = ("lead", "building", "unit")
    date_hierarchy = "occurred_at"

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else (*ActivityForm.Meta.fields, "promoter", "created_at")

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class ReservationForm(ServiceForm, forms.ModelForm):
    """A new hold through unit_reserve: only a negotiating lead, only a vacant unit, one live hold."""

    class Meta:
        model = Reservation
        fields = ("lead", "unit", "expires_on")

    def run_service(self):
        data = self.cleaned_data
        return unit_reserve(
            lead=data["lead"],
            unit=data["unit"],
            expires_on=data["expires_on"],
            by=self.request.user,
        )


class HoldStateFilter(admin.SimpleListFilter):
    """Live, lapsed (past expiry, not yet released by the nightly job) or released: "not released" alone
    would list lapsed holds as live, though they block nothing (crm.selectors.reservations)."""

    title = _("状态")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("live", _("生效中")), ("lapsed", _("已过期未释放")), ("released", _("已释放")))

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(pk__in=reservations_live().values("pk"))
        if self.value() == "lapsed":
            return queryset.filter(pk__in=reservations_lapsed().values("pk"))
        if self.value() == "released":
            return queryset.filter(released_at__isnull=False)
        return queryset


@admin.register(Reservation)
class ReservationAdmin(ServiceFormAdmin, ScopedHistoryAdmin):
    form = ReservationForm
    actions = ["release"]
    list_display = ("unit", "lead", "promoter", "created_at", "expires_on", "is_live", "released_at")
    list_filter = (HoldStateFilter, "expires_on")
    search_fields = ("lead__ref", "lead__company_name", "unit__building__name", "unit__number")
    list_select_related = ("unit__building", "lead", "promoter")
    autocomplete_fields = ("lead", "unit")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("lead", "unit", "promoter", "created_at", "expires_on", "released_at")

    def has_change_permission(self, request, obj=None):
        # A hold is released by the action below, never edited.
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                live=Case(When(live_condition(), then=True), default=False, output_field=BooleanField())
            )
        )

    @admin.display(description=_("生效中"), boolean=True, ordering="live")
    def is_live(self, reservation) -> bool:
        return reservation.live

    @admin.action(description=_("释放所选预留"), permissions=["change"])
    def release(self, request, queryset):
        changeable = scoped(request, queryset, CHANGE)
        live = list(reservations_live().filter(pk__in=changeable.values("pk")))
        # A lapsed hold blocks nothing already; closing it too gives its unit back as vacant now rather
        # than after the nightly job, but it is not counted as a hold released.
        lapsed = list(reservations_lapsed().filter(pk__in=changeable.values("pk")))
        for reservation in live + lapsed:
            reservation_release(reservation=reservation, by=request.user)
        message = gettext("已释放 %(count)d 项预留") % {"count": len(live)}
        if lapsed:
            message += gettext(";另关闭 %(count)d 项已过期预留") % {"count": len(lapsed)}
        messages.success(request, message)


class SigningUnitsMixin:
    @admin.display(description=_("房源"))
    def unit_list(self, signing):
        return ", ".join(unit.number for unit in signing.units.all()) or "—"


@admin.register(Signing)
class SigningAdmin(ReadOnly, SigningUnitsMixin, ScopedHistoryAdmin):
    """Read-only: a signing is recorded by signing_complete, which also writes tenancy, units and stage."""

    list_display = ("lead", "building", "enterprise", "area_m2", "rent", "signed_on", "signed_by")
    list_filter = ("signed_on", ("building__street", admin.RelatedOnlyFieldListFilter))
    search_fields = ("lead__ref", "enterprise__name", "enterprise__credit_code", "building__name")
    list_select_related = ("lead", "building", "enterprise", "signed_by")
    date_hierarchy = "signed_on"
    fields = (
        "lead",
        "building",
        "enterprise",
        "tenancy",
        "unit_list",
        "area_m2",
        "rent",
        "signed_on",
        "signed_by",
    )
    readonly_fields = fields
    read_only_note = _(
        "签约记录只读:签约通过签约登记(signing_complete)完成,同时写入企业、租约、房源状态和线索阶段"
    )

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"subtitle": self.read_only_note, **(extra_context or {})})

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("units")


@admin.register(StageChange)
class StageChangeAdmin(ReadOnly, StageChangeLabels, ScopedModelAdmin):
    """The log of stage moves, written only by lead_transition and signing_complete."""

    list_display = ("changed_at", "lead_ref", "from_stage", "to_stage", "reason", "changed_by_name")
    fields = ("lead_ref", "from_stage", "to_stage", "reason", "changed_by_name", "changed_at")
    readonly_fields = fields
    list_filter = ("to_stage", "from_stage", "changed_at")
    search_fields = ("lead__ref", "lead__company_name", "reason")
    list_select_related = ("lead", "changed_by")
    date_hierarchy = "changed_at"

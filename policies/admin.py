"""The district office's admin for policies: edit with validation, approve case-by-case packages,
read commitments, and try the what-if calculator; every write goes through policies.services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.admin.base import ScopedHistoryAdmin, ScopedInline, ScopedModelAdmin
from crm.models import Building
from crm.selectors.scope import scoped
from policies.engine import Offer
from policies.engine.terms import PARAMETERS
from policies.models import (
    ApprovalStatus,
    Benefit,
    Commitment,
    CommitmentLine,
    DistrictPolicySettings,
    Policy,
)
from policies.services import (
    EDITABLE_FIELDS,
    case_by_case_propose,
    case_by_case_refusal,
    district_settings_update,
    policy_approve,
    policy_create,
    policy_reject,
    policy_update,
    policy_what_if,
    profile_build,
)


class BenefitFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            raise ValidationError(_("政策至少须有一项福利 / a policy needs at least one benefit"))


class BenefitInline(ScopedInline, admin.TabularInline):
    model = Benefit
    formset = BenefitFormSet
    fields = ("kind", *PARAMETERS)
    extra = 1
    min_num = 0


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = (
            "name",
            "description",
            "active",
            "priority",
            "stacking_group",
            "scope",
            "street",
            "business_circle",
            "building",
            "valid_from",
            "valid_to",
            "condition",
            "lead",
        )
        widgets = {
            "condition": forms.Textarea(attrs={"rows": 3, "cols": 90, "style": "font-family: monospace"})
        }

    def clean(self):
        cleaned = super().clean()
        lead = cleaned.get("lead")
        if lead is not None and self.instance.pk is None:
            # A package bound to a lead is a case-by-case proposal: it waits for approval.
            refusal = case_by_case_refusal(lead)
            if refusal:
                self.add_error("lead", refusal)
            self.instance.needs_approval = True
            self.instance.approval_status = ApprovalStatus.PENDING
        return cleaned


class ReviewActionForm(ActionForm):
    note = forms.CharField(label=_("审批意见"), required=False, max_length=300)


@admin.register(Policy)
class PolicyAdmin(ScopedHistoryAdmin):
    form = PolicyForm
    inlines = [BenefitInline]
    action_form = ReviewActionForm
    actions = ["approve", "reject"]
    list_display = (
        "name",
        "scope",
        "place_name",
        "valid_from",
        "valid_to",
        "active",
        "priority",
        "stacking_group",
        "approval_status",
    )
    list_filter = ("scope", "active", "approval_status", "needs_approval", "stacking_group", "street")
    search_fields = ("name", "description", "condition", "building__name", "lead__company_name")
    list_select_related = ("street", "business_circle", "building")
    raw_id_fields = ("building", "lead")
    date_hierarchy = "valid_from"
    readonly_fields = (
        "needs_approval",
        "approval_status",
        "proposed_by",
        "proposed_at",
        "reviewed_by",
        "reviewed_at",
        "review_note",
    )
    fieldsets = (
        (None, {"fields": ("name", "description", "active", "priority", "stacking_group")}),
        (
            _("适用范围与期限"),
            {"fields": ("scope", "street", "business_circle", "building", "valid_from", "valid_to")},
        ),
        (
            _("适用条件"),
            {
                "fields": ("condition",),
                "description": _(
                    "可用字段 / fields: industry_section, industry_division, area_m2, expected_annual_tax, "
                    "expected_tax_per_m2, employees, is_headquarters, registers_in_district, "
                    "settles_in_district, "
                    "pays_tax_in_district, star_rating, featured_type, street, business_circle"
                ),
            },
        ),
        (_("一事一议"), {"fields": ("lead", *readonly_fields)}),
    )

    def get_readonly_fields(self, request, obj=None):
        # The lead of a package is fixed once proposed.
        return (*self.readonly_fields, "lead") if obj is not None else self.readonly_fields

    @admin.display(description=_("范围对象"))
    def place_name(self, policy):
        return policy.place or "—"

    def save_model(self, request, obj, form, change):
        pass  # written in save_related, through the services, once the benefit rows are known

    def save_related(self, request, form, formsets, change):
        benefits = []
        for formset in formsets:
            # The admin's change message reads what formset.save() would have recorded.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is Benefit:
                for benefit_form in formset.forms:
                    data = benefit_form.cleaned_data
                    if data and not data.get("DELETE"):
                        benefits.append({name: data.get(name) for name in ("kind", *PARAMETERS)})
        fields = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}
        try:
            if change:
                policy = policy_update(policy=form.instance, benefits=benefits, by=request.user, **fields)
            elif form.cleaned_data.get("lead") is not None:
                policy = self._propose(request, form.cleaned_data["lead"], fields, benefits)
            else:
                policy = policy_create(benefits=benefits, by=request.user, **fields)
        except ValidationError as error:
            # The form ran the same checks, so this is a race; store nothing and say why.
            transaction.set_rollback(True)
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        form.instance.pk = form.instance.id = policy.pk

    @staticmethod
    def _propose(request, lead, fields, benefits):
        keep = ("name", "description", "valid_from", "valid_to", "condition", "priority", "stacking_group")
        return case_by_case_propose(
            lead=lead,
            building=fields["building"],
            benefits=benefits,
            by=request.user,
            **{k: fields[k] for k in keep if k in fields and fields[k] is not None},
        )

    @admin.action(description=_("批准所选一事一议政策"), permissions=["change"])
    def approve(self, request, queryset):
        self._review(request, queryset, approve=True)

    @admin.action(description=_("驳回所选一事一议政策(在“审批意见”中填写理由)"), permissions=["change"])
    def reject(self, request, queryset):
        self._review(request, queryset, approve=False)

    def _review(self, request, queryset, *, approve: bool):
        note = request.POST.get("note", "")
        done = 0
        for policy in queryset:
            try:
                if approve:
                    policy_approve(policy=policy, by=request.user, note=note)
                else:
                    policy_reject(policy=policy, by=request.user, note=note)
                done += 1
            except ValidationError as error:
                self.message_user(request, f"{policy}: {'; '.join(error.messages)}", messages.ERROR)
        if done:
            self.message_user(request, _("已处理 %(n)d 项 / %(n)d reviewed") % {"n": done}, messages.SUCCESS)

    def get_urls(self):
        return [
            path("what-if/", self.admin_site.admin_view(self.what_if_view), name="policies_policy_what_if"),
            *super().get_urls(),
        ]

    def what_if_view(self, request):
        """The what-if calculator: a profile, a building and an offer in; the evaluation out."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = WhatIfForm(request.GET or None)
        form.fields["building"].queryset = scoped(request, Building.objects.order_by("code"))
        evaluation = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                profile = profile_build(
                    industry_code=data["industry_code"],
                    expected_annual_tax=data["expected_annual_tax"] or 0,
                    employees=data["employees"] or 0,
                    is_headquarters=data["is_headquarters"],
                    registers_in_district=data["registers_in_district"],
                    settles_in_district=data["settles_in_district"],
                    pays_tax_in_district=data["pays_tax_in_district"],
                    referred=data["referred"],
                )
                offer = Offer(
                    area_m2=float(data["area_m2"]),
                    on=data["on"] or timezone.localdate(),
                    rent_per_m2_day=None
                    if data["rent_per_m2_day"] is None
                    else float(data["rent_per_m2_day"]),
                )
                evaluation = policy_what_if(profile=profile, building=data["building"], offer=offer)
            except ValidationError as error:
                for field, field_messages in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, field_messages)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("政策测算 · What-if calculator"),
            "form": form,
            "evaluation": evaluation,
            "changelist_url": reverse("admin:policies_policy_changelist"),
        }
        return TemplateResponse(request, "admin/policies/policy/what_if.html", context)


class WhatIfForm(forms.Form):
    building = forms.ModelChoiceField(label=_("楼宇"), queryset=Building.objects.order_by("code"))
    industry_code = forms.CharField(label=_("行业代码(门类或大类)"), required=False, max_length=4)
    expected_annual_tax = forms.DecimalField(
        label=_("预计年纳税(元)"), required=False, min_value=Decimal("0")
    )
    employees = forms.IntegerField(label=_("员工人数"), required=False, min_value=0)
    is_headquarters = forms.BooleanField(label=_("总部企业"), required=False)
    registers_in_district = forms.BooleanField(label=_("在区内注册"), required=False, initial=True)
    settles_in_district = forms.BooleanField(label=_("在区内结算"), required=False, initial=True)
    pays_tax_in_district = forms.BooleanField(label=_("在区内纳税"), required=False, initial=True)
    referred = forms.BooleanField(label=_("以商招商(由区内租户推荐)"), required=False)
    area_m2 = forms.DecimalField(label=_("租用面积(㎡)"), min_value=Decimal("0.01"))
    rent_per_m2_day = forms.DecimalField(
        label=_("租金(元/㎡·天)"), required=False, min_value=Decimal("0"), help_text=_("留空:楼宇参考租金")
    )
    on = forms.DateField(label=_("测算日期"), required=False, help_text=_("留空:今天"))


class CommitmentLineInline(ScopedInline, admin.TabularInline):
    model = CommitmentLine
    fields = (
        "policy_name",
        "benefit_kind",
        "beneficiary",
        "referrer",
        "year_index",
        "period_start",
        "period_end",
        "amount_yuan",
        "withheld_at",
        "withheld_reason",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Commitment)
class CommitmentAdmin(ScopedModelAdmin):
    """Promises are snapshots taken at signing: read-only here."""

    list_display = ("signing", "building", "evaluated_on", "total_yuan")
    list_filter = ("evaluated_on",)
    search_fields = ("building__name", "signing__lead__company_name")
    list_select_related = ("signing__lead", "signing__building", "building")
    inlines = [CommitmentLineInline]
    readonly_fields = ("signing", "building", "evaluated_on", "total_yuan", "tax_retained_share", "snapshot")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DistrictPolicySettingsForm(forms.ModelForm):
    class Meta:
        model = DistrictPolicySettings
        fields = ("tax_retained_share",)


@admin.register(DistrictPolicySettings)
class DistrictPolicySettingsAdmin(ScopedHistoryAdmin):
    form = DistrictPolicySettingsForm
    list_display = ("__str__", "tax_retained_share")

    def has_add_permission(self, request):
        # The one row is made by migration 0002; nobody adds a second (or a first).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = district_settings_update(
            tax_retained_share=form.cleaned_data["tax_retained_share"], by=request.user
        )
        obj.pk = saved.pk

"""Editing a lead on its own page: every fact its worker may change, refused when someone else
changed the lead meanwhile (the version the API checks with If-Match), with the industry suggested
from the business scope when it is missing (a lead without one cannot be matched)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.constants import Role
from crm.credit_code import normalise_credit_code
from crm.models import ContactAccess, Industry, Lead, Street
from crm.services.leads import LeadVersionConflict, lead_update, referrer_by_credit_code
from crm.services.privacy import contact_access_record
from crm.web.access import CHANGE, object_in_scope, roles_required
from crm.web.forms import (
    BoundedDateField,
    DateInput,
    LeadFactsForm,
    add_service_errors,
)
from matching.core.types import MatchingInputError
from matching.industry_suggest import suggest_industry

WORKERS = (Role.PROMOTER, Role.DISTRICT_ADMIN)
# The lead's columns the form edits one to one (referred_by and preferred_streets are translated).
PLAIN_FIELDS = (
    "company_name",
    "credit_code",
    "business_scope",
    "industry",
    "channel",
    "contact_name",
    "contact_phone",
    "lawful_basis",
    "area_min_m2",
    "area_max_m2",
    "budget_rent",
    "expected_annual_tax",
    "employees",
    "desired_move_in",
    "is_headquarters",
    "case_by_case",
    "registers_in_district",
    "settles_in_district",
    "pays_tax_in_district",
)


class LeadEditForm(LeadFactsForm):
    """A lead's facts as its worker corrects them; `version` is the one the page was read at."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2_147_483_647)
    area_min_m2 = forms.DecimalField(label=_("最小面积(㎡)"), required=False, max_digits=12, decimal_places=2)
    area_max_m2 = forms.DecimalField(label=_("最大面积(㎡)"), required=False, max_digits=12, decimal_places=2)
    budget_rent = forms.DecimalField(
        label=_("租金预算(元/㎡·天)"), required=False, max_digits=8, decimal_places=2
    )
    expected_annual_tax = forms.DecimalField(
        label=_("预计年纳税(元)"), required=False, max_digits=16, decimal_places=2
    )
    employees = forms.IntegerField(label=_("员工人数"), required=False, min_value=0)
    desired_move_in = BoundedDateField(label=_("期望入驻日期"), required=False, widget=DateInput())
    preferred_streets = forms.ModelMultipleChoiceField(
        label=_("意向镇街"),
        queryset=Street.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_headquarters = forms.BooleanField(label=_("总部企业"), required=False)
    case_by_case = forms.BooleanField(label=_("一事一议(重大项目)"), required=False)
    registers_in_district = forms.BooleanField(label=_("拟在区内注册"), required=False)
    settles_in_district = forms.BooleanField(label=_("拟在区内结算"), required=False)
    pays_tax_in_district = forms.BooleanField(label=_("拟在区内纳税"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preferred_streets"].queryset = Street.objects.order_by("name")


def lead_form_values(lead: Lead) -> dict:
    """What the form shows for the lead as it is stored."""
    values = {name: getattr(lead, name) for name in PLAIN_FIELDS}
    values["version"] = lead.version
    values["referred_by"] = lead.referred_by.credit_code if lead.referred_by_id else ""
    values["preferred_streets"] = list(lead.preferred_streets.all())
    return values


def _comparable(name: str, value):
    if name == "preferred_streets":
        return sorted(s.pk for s in value or [])
    if name in ("credit_code", "referred_by"):
        return normalise_credit_code(value or "")
    if isinstance(value, str):
        return value.strip()
    return value


def changed_fields(before: dict, after: dict) -> list[str]:
    """The form's fields whose posted value differs from the stored one (the version aside)."""
    return [
        name
        for name in (*PLAIN_FIELDS, "referred_by", "preferred_streets")
        if _comparable(name, after.get(name)) != _comparable(name, before.get(name))
    ]


def _shown(form: LeadEditForm, name: str, value) -> str:
    """A value as the page writes it, for the table of current values beside a refused edit."""
    if value in (None, "", []):
        return "—"
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if name == "preferred_streets":
        return "、".join(s.name for s in value)
    if isinstance(value, Industry):
        return f"{value.code} {value.name}"
    choices = (
        dict(getattr(form.fields[name], "choices", None) or ()) if name in ("channel", "lawful_basis") else {}
    )
    return str(choices.get(value, value))


def conflict_rows(form: LeadEditForm, current: dict, posted: dict) -> list[dict]:
    """Each field where what is stored now differs from what the user sent: label, now, theirs."""
    return [
        {
            "label": form.fields[name].label,
            "current": _shown(form, name, current.get(name)),
            "yours": _shown(form, name, posted.get(name)),
        }
        for name in changed_fields(current, posted)
    ]


def _suggestions(lead: Lead) -> tuple[list, str | None]:
    """The likeliest divisions for the stored business scope, when the lead has no industry."""
    if lead.industry_id or len((lead.business_scope or "").strip()) < 4:
        return [], None
    try:
        return suggest_industry(lead.business_scope), None
    except MatchingInputError as exc:
        return [], exc.message


def _save(request, lead: Lead, form: LeadEditForm, before: dict) -> None:
    """Write the changed fields through lead_update at the version the page was read at."""
    data = form.cleaned_data
    names = changed_fields(before, data)
    if not names:
        messages.info(request, gettext("没有修改 / nothing changed"))
        return
    changes = {name: data[name] for name in names}
    if "referred_by" in changes:
        code = (changes["referred_by"] or "").strip()
        changes["referred_by"] = referrer_by_credit_code(code) if code else None
    for name in ("company_name", "contact_name", "contact_phone", "business_scope"):
        if name in changes:
            changes[name] = changes[name].strip()
    lead_update(lead=lead, by=request.user, expected_version=data["version"], **changes)
    messages.success(request, gettext("线索已更新:%(ref)s") % {"ref": lead.ref})


@roles_required(WORKERS)
def lead_edit(request, pk: int):
    """GET: the form with the lead's facts; POST: the changes, or the reasons they were refused."""
    related = Lead.objects.select_related("industry", "referred_by")
    lead = object_in_scope(request, related, pk, CHANGE)
    before = lead_form_values(lead)
    contact_access_record(user=request.user, how=ContactAccess.How.WEB_DETAIL, leads=[lead])
    conflict, stale, status = [], False, 200
    if request.method == "POST":
        form = LeadEditForm(request.POST)
        if form.is_valid():
            try:
                _save(request, lead, form, before)
                return redirect("web:lead", pk=lead.pk)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except LeadVersionConflict:
                current_lead = related.get(pk=lead.pk)
                current = lead_form_values(current_lead)
                conflict = conflict_rows(form, current, form.cleaned_data)
                # The user's values stay in the form; saving again, now at the current version,
                # is deciding to overwrite what is shown as current.
                data = request.POST.copy()
                data["version"] = str(current_lead.version)
                form = LeadEditForm(data)
                form.is_valid()
                lead = current_lead
                stale, status = True, 409
        if status == 200:
            status = 400
    else:
        form = LeadEditForm(initial=before)
    suggestions, problem = _suggestions(lead)
    context = {
        "lead": lead,
        "form": form,
        "conflict": conflict,
        "stale": stale,
        "suggestions": suggestions,
        "problem": problem,
    }
    return render(request, "web/lead_edit.html", context, status=status)

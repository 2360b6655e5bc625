"""Units and holds in the pages: one unit with its hold and (for who manages it) its status and
availability date; holding units for a negotiating lead until an expiry date, and releasing a hold.

Units are named by their building's name and their number ("越城大厦 401"), never by the building's
code, wherever these pages write them.
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from crm.constants import LeadStage, Role, UnitStatus
from crm.models import Building, Lead, Promoter, Reservation, Unit
from crm.selectors.reservations import reservations_live
from crm.selectors.units import read_lapsed_hold_as_vacant, units_offerable
from crm.services.reservations import LONGEST_HOLD, reservation_release, units_reserve
from crm.services.units import SETTABLE_STATUSES, unit_update
from crm.web.access import CHANGE, object_in_scope, request_viewer, roles_required, scoped, works_leads
from crm.web.forms import (
    BoundedDateField,
    DateInput,
    LongSelect,
    SafeForm,
    UnitsChoiceField,
    add_service_errors,
)
from crm.web.params import BadParameter, id_param, ids_param

WORKERS = (Role.PROMOTER, Role.DISTRICT_ADMIN)
DEFAULT_HOLD = dt.timedelta(days=14)  # what the hold form proposes; the service allows up to LONGEST_HOLD


def unit_name(unit: Unit) -> str:
    """ "越城大厦 401": how a person names a unit (the building's code is for files and the API)."""
    return f"{unit.building.name} {unit.number}"


class HoldForm(SafeForm):
    lead = forms.ModelChoiceField(
        label=_("为线索预留"), queryset=Lead.objects.none(), help_text=_("谈判中的线索"), widget=LongSelect
    )
    units = UnitsChoiceField(
        label=_("预留房源"), queryset=Unit.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    expires_on = BoundedDateField(label=_("预留到期"), widget=DateInput())

    def __init__(self, *args, leads=None, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires_on"].help_text = gettext("最长 %(days)s 天") % {"days": LONGEST_HOLD.days}
        self.fields["lead"].queryset = leads if leads is not None else Lead.objects.none()
        self.fields["units"].queryset = units if units is not None else Unit.objects.none()


class UnitStatusForm(SafeForm):
    status = forms.ChoiceField(label=_("状态"), choices=[(s.value, s.label) for s in SETTABLE_STATUSES])
    available_from = BoundedDateField(label=_("可入驻日期"), required=False, widget=DateInput())

    def __init__(self, *args, unit: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        if unit.status not in SETTABLE_STATUSES:
            # Shown as it is, so the form says why it cannot simply be changed (the service refuses).
            current = UnitStatus(unit.status)
            self.fields["status"].choices = [(current.value, current.label), *self.fields["status"].choices]


def _back(request, default: str) -> str:
    """Where to go after a hold or release: the page it was done from, if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _worker(request) -> Promoter | None:
    promoter_id = request_viewer(request).promoter_id
    return Promoter.objects.filter(pk=promoter_id).first() if promoter_id else None


# ------------------------------------------------------------------ one unit


@roles_required()
def unit_detail(request, pk: int):
    """The unit, who holds it until when (as far as the user sees the hold), and its status form for
    who manages it (a building manager their building's units, a street officer their street's, the
    district office all); a POST from anyone else is a 403."""
    unit = object_in_scope(request, Unit.objects.select_related("building", "building__street"), pk)
    changeable = scoped(request, Unit.objects.filter(pk=unit.pk), CHANGE).exists()
    offerable = unit_offerable(unit)
    # The form and the page read a hold that ran out as vacant; unit_update re-reads the row itself.
    read_lapsed_hold_as_vacant(unit, offerable=offerable)
    form = None
    status = 200
    if request.method == "POST":
        if not changeable:
            raise PermissionDenied(gettext("无权修改此房源 / you may not change this unit"))
        form = UnitStatusForm(request.POST, unit=unit)
        if form.is_valid():
            try:
                unit_update(
                    unit=unit,
                    status=form.cleaned_data["status"],
                    available_from=form.cleaned_data["available_from"],
                    by=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, gettext("房源已更新:%(unit)s") % {"unit": unit_name(unit)})
                return redirect(_back(request, reverse("web:unit", args=[unit.pk])))
        status = 400
    elif changeable:
        form = UnitStatusForm(
            initial={"status": unit.status, "available_from": unit.available_from}, unit=unit
        )
    hold = scoped(request, reservations_live()).filter(unit=unit).select_related("lead", "promoter").first()
    if hold is not None:
        with_leads_seen(request, [hold])
    context = {
        "unit": unit,
        "name": unit_name(unit),
        "hold": hold,
        "form": form,
        "can_hold": works_leads(request) and offerable,
        "can_release": hold is not None
        and scoped(request, Reservation.objects.filter(pk=hold.pk), CHANGE).exists(),
    }
    return render(request, "web/unit_detail.html", context, status=status)


def unit_offerable(unit: Unit) -> bool:
    return units_offerable().filter(pk=unit.pk).exists()


# ------------------------------------------------------------------ holds


def _hold_form(request, data=None) -> HoldForm:
    source = data if data is not None else request.GET
    building_id = id_param(source, "building")
    try:
        lead_id = id_param(source, "lead")
    except BadParameter:
        lead_id = None  # the form's own lead field then says why, beside it
    leads = scoped(request, Lead, CHANGE).filter(stage=LeadStage.NEGOTIATING).order_by("company_name")
    building = scoped(request, Building).filter(pk=building_id).first() if building_id else None
    units = None
    if building is not None:
        lead = leads.filter(pk=lead_id).first() if lead_id else None
        # Vacant units, or the lead's own held ones; never a unit another lead holds.
        units = units_offerable(lead=lead).filter(building=building).order_by("floor", "number")
    initial = {
        "lead": lead_id,
        "units": ids_param(request.GET, "units"),
        "expires_on": timezone.localdate() + DEFAULT_HOLD,
    }
    form = HoldForm(data, leads=leads, units=units, initial=initial)
    form.building = building
    return form


@roles_required(WORKERS)
def hold_add(request):
    """Hold one or more units of a building for a negotiating lead, until an expiry date: from a
    match card (the offered units ticked) or from the building's unit grid (the lead to choose)."""
    form = _hold_form(request, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.building is None:
            form.add_error(
                None, gettext("请先从楼宇或匹配结果选择房源 / pick the units from a building or a match")
            )
        elif form.is_valid():
            lead = form.cleaned_data["lead"]
            try:
                held = units_reserve(
                    lead=lead,
                    units=list(form.cleaned_data["units"]),
                    expires_on=form.cleaned_data["expires_on"],
                    promoter=_worker(request) or lead.owner,
                    by=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, _on_units(exc))
            else:
                names = "、".join(unit_name(h.unit) for h in held)
                messages.success(
                    request,
                    gettext("已预留 %(units)s 至 %(day)s")
                    % {"units": names, "day": f"{form.cleaned_data['expires_on']:%Y-%m-%d}"},
                )
                return redirect(_back(request, reverse("web:lead", args=[lead.pk])))
        status = 400
    return render(request, "web/hold_add.html", {"form": form, "building": form.building}, status=status)


def _on_units(exc: ValidationError) -> ValidationError:
    # unit_reserve names the one unit it refused; on this form that is the units field.
    if hasattr(exc, "error_dict") and "unit" in exc.error_dict:
        errors = dict(exc.error_dict)
        errors["units"] = errors.pop("unit") + errors.get("units", [])
        return ValidationError(errors)
    return exc


@require_POST
@roles_required(WORKERS)
def hold_release(request, pk: int):
    """Give a held unit back to the market (the lead's worker or the district office)."""
    hold = object_in_scope(request, Reservation.objects.select_related("unit__building", "lead"), pk, CHANGE)
    reservation_release(reservation=hold, by=request.user)
    messages.success(request, gettext("已释放预留:%(unit)s") % {"unit": unit_name(hold.unit)})
    return redirect(_back(request, reverse("web:lead", args=[hold.lead_id])))


def with_leads_seen(request, holds: list[Reservation]) -> list[Reservation]:
    """Mark each hold whose lead the user may see: a building manager sees who holds a unit of their
    building until when, but not the company the lead is (one query)."""
    lead_ids = {h.lead_id for h in holds}
    seen = set(scoped(request, Lead).filter(pk__in=lead_ids).values_list("pk", flat=True)) if holds else set()
    for hold in holds:
        hold.lead_seen = hold.lead_id in seen
    return holds


def building_holds(request, building: Building) -> list[Reservation]:
    """The live holds on a building's units that the user may see (their own leads'; all for the
    office; their building's or street's for a manager or street officer), for "who holds what"."""
    holds = list(
        scoped(request, reservations_live())
        .filter(unit__building=building)
        .select_related("unit", "lead", "promoter")
        .order_by("unit__floor", "unit__number")
    )
    return with_leads_seen(request, holds)

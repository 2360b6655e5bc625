"""Retention (稳商): the list of tenants likely to move out, by expected tax at risk, with the reasons
and one click to log a retention visit; the building page's at-risk tenants and the tier they hold."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.constants import Role
from crm.models import Building
from crm.selectors.retention import AT_RISK_PROBABILITY, at_risk_tax, building_at_risk, retention_list
from crm.services.retention import retention_visit_log
from crm.services.stored_results import RETENTION, TODAY, YEAR_FIGURES
from crm.tax_tiers import tax_tier, tier_thresholds, tier_year
from crm.web.access import object_in_scope, request_viewer, roles_required
from crm.web.forms import add_service_errors
from crm.web.fragments import fragment_of
from crm.web.stored import as_of, read_one
from crm.year_figures import building_from_json
from retention.forms import RetentionVisitForm
from retention.models import RetentionScore
from retention.reasons import reasons_in_words

PAGE_SIZE = 50
BUILDING_SHOWN = 10
# Who reads move-out risks: they carry tenant tax. Promoters and agencies see none of it.
READERS = (Role.DISTRICT_ADMIN, Role.AUDITOR, Role.STREET_OFFICER, Role.BUILDING_MANAGER)
VISITORS = (Role.DISTRICT_ADMIN, Role.STREET_OFFICER, Role.BUILDING_MANAGER)


def _with_reasons(scores):
    for score in scores:
        score.reason_words = reasons_in_words(score.reasons)
    return scores


@roles_required(READERS)
def retention_page(request):
    scores = retention_list(request.user, viewer=request_viewer(request))
    page = Paginator(scores, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_reasons(page.object_list)
    stored = read_one(RETENTION, TODAY, part="model_version")
    context = {
        "page": page,
        "as_of": as_of([stored]),
        "model_version": stored.payload,
        "can_visit": request_viewer(request).role in VISITORS,
        "form": RetentionVisitForm(),
    }
    return render(request, "web/retention_list.html", context)


@require_POST
@roles_required(VISITORS)
def retention_visit(request, pk: int):
    """Log a retention visit to the tenant of score `pk` (one click from the list; notes optional)."""
    score = object_in_scope(request, RetentionScore.objects.select_related("enterprise", "building"), pk)
    form = RetentionVisitForm(request.POST)
    done = form.is_valid()
    if done:
        try:
            retention_visit_log(
                enterprise=score.enterprise,
                building=score.building,
                by=request.user,
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            done = False
    if request.htmx:
        status = 200 if done else 400
        return render(
            request, "web/_retention_visit.html", {"score": score, "form": form, "done": done}, status=status
        )
    if done:
        messages.success(request, _("稳商走访已记录"))
    else:
        messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("web:retention")


@roles_required()
@fragment_of("web:building")
def building_retention(request, pk: int):
    """The building page's at-risk tenants and the tier the building would fall to if they left."""
    building = object_in_scope(request, Building, pk)
    viewer = request_viewer(request)
    if viewer.role not in READERS:
        return render(request, "web/_building_retention.html", {"shown": False})
    at_risk = building_at_risk(request.user, building_id=building.pk, viewer=viewer)
    tenants = _with_reasons(list(at_risk[:BUILDING_SHOWN]))
    year = tier_year()
    figures = read_one(YEAR_FIGURES, str(year), part=f"buildings__{building.pk}")
    thresholds = tier_thresholds()
    tier = fallen = None
    if figures.payload is not None:
        tax = building_from_json(building.pk, figures.payload).figures.tax_yuan
        tier = tax_tier(tax, thresholds)
        fallen = tax_tier(max(tax - at_risk_tax(at_risk), 0), thresholds)
    context = {
        "shown": True,
        "building": building,
        "tenants": tenants,
        "count": at_risk.count(),
        "threshold": AT_RISK_PROBABILITY,
        "year": year,
        "tier": tier,
        "fallen": fallen,
    }
    return render(request, "web/_building_retention.html", context)

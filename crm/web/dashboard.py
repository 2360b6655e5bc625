"""The district plan dashboard: the fourteen indicators against each milestone's target with progress,
direction and trend, the same per street, the pipeline's year-end forecast, a what-if of chosen
signings, and a map of the buildings coloured by occupancy or tax tier."""

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, Value, When
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.constants import OPEN_STAGES, IndicatorKey, Role, TaxTier
from crm.indicators import HIGHER_IS_BETTER, UNITS, building_indicators, district_values, street_values
from crm.models import Building, Lead, PlanTarget, Street, StreetTarget
from crm.tax_tiers import building_tax_tiers
from crm.web.access import OFFICE, request_viewer, roles_required, scoped, sees_whole_area
from crm.web.buildings import PALETTE, tier_year
from crm.web.charts import chart
from crm.web.forecast import FUNNEL, addition_for, indicators_with, pipeline_forecast
from crm.web.forms import YearForm
from crm.web.fragments import fragment_of
from crm.web.params import id_param
from matching.adapter import match_all_open_leads

WHAT_IF_ROWS = 6
WHAT_IF_LEADS = 300  # the open leads offered in the what-if's selects, most promising first
# Indicators whose value is a count or an area of the whole scope: a street is not held to the
# district's target for them, only to its own street targets.
RATES = {
    IndicatorKey.OCCUPANCY_RATE,
    IndicatorKey.REGISTRATION_RATE,
    IndicatorKey.INDUSTRY_CONCENTRATION,
    IndicatorKey.TAX_SOURCE_RATE,
    IndicatorKey.TAX_PER_M2,
    IndicatorKey.PARTY_COVERAGE,
    IndicatorKey.INTERMEDIARY_COVERAGE,
    IndicatorKey.SMART_PLATFORM_COVERAGE,
}


def _area(request, form: YearForm) -> tuple[int, Street | None]:
    """The year and street asked for; a street officer always sees their own street."""
    viewer = request_viewer(request)
    year = tier_year()
    street = None
    if form.is_valid():
        year = form.cleaned_data["year"] or year
        street = form.cleaned_data["street"]
    if viewer.role == Role.STREET_OFFICER:
        street = Street.objects.filter(pk=viewer.street_id).first()
    if not sees_whole_area(request, street.pk if street else None):
        raise PermissionDenied(_("无权查看该范围的指标 / you may not see this area's indicators"))
    return year, street


def milestones() -> tuple[list[int], dict[str, dict[int, Decimal]]]:
    """The plan's milestone years and each indicator's target in each (one query)."""
    targets: dict[str, dict[int, Decimal]] = defaultdict(dict)
    years = set()
    for key, year, value in PlanTarget.objects.values_list("key", "year", "value"):
        targets[key][year] = value
        years.add(year)
    return sorted(years), targets


def _target_for(targets: dict[int, Decimal], year: int) -> tuple[int | None, Decimal | None]:
    """The target of `year`, else of the next milestone after it, else of the last one."""
    if not targets:
        return None, None
    if year in targets:
        return year, targets[year]
    later = [y for y in sorted(targets) if y > year]
    chosen = later[0] if later else max(targets)
    return chosen, targets[chosen]


def indicator_rows(
    *, year: int, street: Street | None, values: dict, trend: dict[int, dict]
) -> tuple[list[dict], list[int]]:
    years, plan = milestones()
    street_targets: dict[str, dict[int, Decimal]] = defaultdict(dict)
    if street is not None:
        for key, y, value in StreetTarget.objects.filter(street=street).values_list("key", "year", "value"):
            street_targets[key][y] = value
    rows = []
    for key in IndicatorKey:
        targets = street_targets.get(key.value) if street is not None else plan.get(key.value, {})
        if street is not None and not targets and key.value in RATES:
            targets = plan.get(key.value, {})  # a rate can be held to the district's rate
        target_year, target = _target_for(targets or {}, year)
        value = values.get(key.value)
        progress = None
        if value is not None and target:
            progress = value * 100 / target
        rows.append(
            {
                "key": key.value,
                "chart_id": f"trend-{key.value}",
                "label": key.label,
                "unit": UNITS[key],
                "value": value,
                "milestones": [(y, (targets or {}).get(y)) for y in years],
                "target_year": target_year,
                "target": target,
                "gap": value - target if value is not None and target is not None else None,
                "progress": progress,
                "met": value is not None and target is not None and value >= target,
                "direction": HIGHER_IS_BETTER,
                "chart": chart(
                    "line",
                    labels=[str(y) for y in sorted(trend)],
                    datasets=[
                        {
                            "label": _("实际"),
                            "data": [_f(trend[y].get(key.value)) for y in sorted(trend)],
                            "borderColor": PALETTE[0],
                            "backgroundColor": PALETTE[0],
                        },
                        {
                            "label": _("目标"),
                            "data": [_f((targets or {}).get(y)) for y in sorted(trend)],
                            "borderColor": PALETTE[1],
                            "backgroundColor": PALETTE[1],
                            "borderDash": [4, 4],
                            "spanGaps": True,
                        },
                    ],
                    options={"plugins": {"legend": {"display": False}}},
                ),
            }
        )
    return rows, years


def _f(value) -> float | None:
    return None if value is None else round(float(value), 2)


def street_matrix(request, *, year: int) -> list[dict]:
    """Every street's fourteen indicators for the year, all streets in one query."""
    streets = list(scoped(request, Street).order_by("name"))
    by_street = street_values(year=year, street_ids=[street.pk for street in streets])
    return [
        {"street": street, "values": [by_street[street.pk].get(k.value) for k in IndicatorKey]}
        for street in streets
    ]


def building_map(request, *, year: int, colour: str) -> dict:
    """Buildings at their coordinates, one dataset per colour band (occupancy or tax tier)."""
    buildings = list(
        scoped(request, Building)
        .filter(lat__isnull=False, lng__isnull=False)
        .values("pk", "name", "lat", "lng")
    )
    missing = scoped(request, Building).filter(lat__isnull=True).count()
    ids = [b["pk"] for b in buildings]
    if colour == "tier":
        tiers = building_tax_tiers(year=year, building_ids=ids) if ids else {}
        bands = [(t.value, str(t.label)) for t in reversed(TaxTier)]

        def band_of(pk):
            tier = tiers.get(pk)
            return tier.tier.value if tier else None
    else:
        values = building_indicators(year=year, building_ids=ids) if ids else {}
        bands = [("90", "≥ 90%"), ("75", "75–90%"), ("50", "50–75%"), ("0", "< 50%")]

        def band_of(pk):
            rate = (values.get(pk) or {}).get(IndicatorKey.OCCUPANCY_RATE)
            if rate is None:
                return None
            return "90" if rate >= 90 else "75" if rate >= 75 else "50" if rate >= 50 else "0"

    points: dict[str, list] = {code: [] for code, _label in bands}
    names: dict[str, list] = {code: [] for code, _label in bands}
    for b in buildings:
        band = band_of(b["pk"])
        if band is None:
            continue
        points[band].append({"x": float(b["lng"]), "y": float(b["lat"])})
        names[band].append(b["name"])
    colours = ["#1a7f37", "#2f6db5", "#8a5a00", "#b42318", "#57606a"]
    datasets = [
        {
            "label": label,
            "data": points[code],
            "backgroundColor": colours[i % len(colours)],
            "pointRadius": 6,
        }
        for i, (code, label) in enumerate(bands)
    ]
    return {
        "chart": chart(
            "scatter",
            labels=[],
            datasets=datasets,
            options={
                "scales": {
                    "x": {"title": {"display": True, "text": _("经度")}},
                    "y": {"title": {"display": True, "text": _("纬度")}},
                }
            },
            point_names=[names[code] for code, _label in bands],
        ),
        "shown": sum(len(p) for p in points.values()),
        "missing": missing,
        "colour": colour,
    }


@roles_required(OFFICE)
def dashboard(request):
    form = YearForm(request.GET or None, streets=scoped(request, Street), initial={"year": tier_year()})
    year, street = _area(request, form)
    today = timezone.localdate()
    years, _plan = milestones()
    trend_years = sorted({y for y in years if y <= today.year} | {year})
    trend = {y: district_values(year=y, street=street) for y in trend_years}
    rows, milestone_years = indicator_rows(year=year, street=street, values=trend[year], trend=trend)
    colour = "tier" if request.GET.get("colour") == "tier" else "occupancy"
    context = {
        "form": form if request_viewer(request).role != Role.STREET_OFFICER else None,
        "year": year,
        "street": street,
        "rows": rows,
        "milestone_years": milestone_years,
        "met": sum(1 for r in rows if r["met"]),
        "streets": street_matrix(request, year=year) if street is None else None,
        "keys": [k.label for k in IndicatorKey],
        "map": building_map(request, year=year, colour=colour),
        "what_if": what_if_choices(request, street=street),
        "forecast_year": today.year,
    }
    return render(request, "web/dashboard.html", context)


@roles_required(OFFICE)
@fragment_of("web:dashboard", anchor="forecast")
def forecast(request):
    """The year-end forecast, loaded after the page (it ranks every open lead)."""
    form = YearForm(request.GET or None, streets=scoped(request, Street))
    _year, street = _area(request, form)
    today = timezone.localdate()
    leads = scoped(request, Lead)
    result = pipeline_forecast(
        leads=leads, best_buildings=match_all_open_leads(top=1), today=today, street=street
    )
    _years, plan = milestones()
    rows = []
    for key in IndicatorKey:
        target_year, target = _target_for(plan.get(key.value, {}), result.year)
        now, end = result.now[key.value], result.year_end[key.value]
        rows.append(
            {
                "label": key.label,
                "now": now,
                "year_end": end,
                "change": end - now if end is not None and now is not None else None,
                "target": target if street is None or key.value in RATES else None,
                "target_year": target_year,
            }
        )
    return render(request, "web/_forecast.html", {"forecast": result, "rows": rows, "street": street})


def what_if_choices(request, *, street: Street | None) -> dict:
    leads = list(
        scoped(request, Lead)
        .filter(stage__in=OPEN_STAGES)
        .annotate(
            funnel=Case(
                *(When(stage=stage, then=Value(i)) for i, stage in enumerate(reversed(FUNNEL))),
                output_field=IntegerField(),
            )
        )
        .order_by("funnel", F("expected_annual_tax").desc(nulls_last=True), "pk")
        .values("pk", "ref", "company_name", "stage")[:WHAT_IF_LEADS]
    )
    buildings = scoped(request, Building).order_by("code")
    if street is not None:
        buildings = buildings.filter(street=street)
    return {
        "leads": leads,
        "buildings": list(buildings.values("pk", "code", "name")),
        "rows": range(WHAT_IF_ROWS),
    }


@require_POST
@roles_required(OFFICE)
def what_if(request):
    """The indicators of the chosen year with the chosen leads signed into the chosen buildings."""
    form = YearForm(request.POST, streets=scoped(request, Street))
    year, street = _area(request, form)
    pairs = []
    for i in range(WHAT_IF_ROWS):
        lead_id, building_id = id_param(request.POST, f"lead_{i}"), id_param(request.POST, f"building_{i}")
        if lead_id and building_id:
            pairs.append((lead_id, building_id))
    leads = {
        lead.pk: lead
        for lead in scoped(request, Lead)
        .filter(pk__in=[p[0] for p in pairs], stage__in=OPEN_STAGES)
        .select_related("industry")
    }
    buildings = {b.pk: b for b in scoped(request, Building).filter(pk__in=[p[1] for p in pairs])}
    chosen = [(leads[lid], buildings[bid]) for lid, bid in pairs if lid in leads and bid in buildings]
    additions = [
        addition_for(lead, building.pk, weight=Decimal(1), tax_share=Decimal(1)) for lead, building in chosen
    ]
    before = indicators_with(year=year, street=street)
    after = indicators_with(year=year, street=street, additions=additions)
    rows = [
        {
            "label": key.label,
            "before": before[key.value],
            "after": after[key.value],
            "change": (
                after[key.value] - before[key.value]
                if after[key.value] is not None and before[key.value] is not None
                else None
            ),
        }
        for key in IndicatorKey
    ]
    return render(request, "web/_what_if.html", {"rows": rows, "chosen": chosen, "year": year})

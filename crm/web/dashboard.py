"""The district plan dashboard: the fourteen indicators against each milestone's target with progress,
direction and trend, the same per street, the pipeline's year-end forecast, a what-if of chosen
signings, and a map of the buildings coloured by occupancy or tax tier."""

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.constants import OPEN_STAGES, IndicatorKey, Role, TaxTier
from crm.indicators import HIGHER_IS_BETTER, RATE_KEYS, UNITS, indicators_of_building
from crm.models import Building, Lead, PlanTarget, Street, StreetTarget
from crm.selectors.scope import EVERYTHING, RULES, VIEW
from crm.services.stored_results import OPEN_LEADS, PLACEMENTS, RETENTION, TODAY, YEAR_FIGURES
from crm.tax_tiers import tax_tier, tier_thresholds
from crm.web.access import OFFICE, request_viewer, roles_required, scoped, sees_whole_area
from crm.web.buildings import PALETTE, tier_year
from crm.web.charts import chart
from crm.web.forecast import (
    FUNNEL,
    StageRate,
    addition_for,
    departure_removals,
    indicators_with,
    pipeline_forecast,
    summed_from_json,
    year_share,
)
from crm.web.forms import YearForm
from crm.web.fragments import fragment_of
from crm.web.params import id_param, text_param
from crm.web.stored import as_of, read_one, read_stored
from crm.year_figures import building_from_json, values_of_totals, year_figures_from_json
from policies.models import CommitmentLine
from policies.selectors import schedule_year_totals

WHAT_IF_ROWS = 6
WHAT_IF_LEADS = 300  # the open leads offered in the what-if's selects, most promising first
WHAT_IF_BUILDINGS = 20  # the buildings offered for what is typed in a row's building field
STREETS_PER_PAGE = 20  # the per-street table's page


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
        if street is not None and not targets and key.value in RATE_KEYS:
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


def street_matrix(request, *, year: int, page_number) -> tuple:
    """A page of the streets' fourteen indicators for the year, from the year's stored figures."""
    stored = read_one(YEAR_FIGURES, str(year), part="streets")
    page = Paginator(scoped(request, Street).order_by("name", "pk"), STREETS_PER_PAGE).get_page(page_number)
    totals = stored.payload or {}
    rows = [
        {
            "street": street,
            # Each figure with its unit, so that counts of buildings read whole ("10", not "10.00").
            "values": [(values_of_totals(totals.get(str(street.pk)))[k], UNITS[k]) for k in IndicatorKey]
            if not stored.missing
            else [(None, UNITS[k]) for k in IndicatorKey],
        }
        for street in page
    ]
    return page, rows, stored


OCCUPANCY_BANDS = [("90", "≥ 90%"), ("75", "75–90%"), ("50", "50–75%"), ("0", "< 50%")]


def _occupancy_band(rate: Decimal | None) -> str | None:
    if rate is None:
        return None
    return "90" if rate >= 90 else "75" if rate >= 75 else "50" if rate >= 50 else "0"


def building_map(request, *, year: int, colour: str) -> dict:
    """Buildings at their coordinates, one dataset per colour band (occupancy or tax tier), the
    bands from the year's stored figures."""
    buildings = list(
        scoped(request, Building)
        .filter(lat__isnull=False, lng__isnull=False)
        .order_by("pk")
        .values("pk", "name", "lat", "lng")
    )
    missing = scoped(request, Building).filter(lat__isnull=True).count()
    stored = read_one(YEAR_FIGURES, str(year), part="buildings")
    figures = stored.payload or {}
    thresholds = tier_thresholds()
    if colour == "tier":
        bands = [(t.value, str(t.label)) for t in reversed(TaxTier)]

        def band_of(pk):
            row = figures.get(str(pk))
            return tax_tier(building_from_json(pk, row).figures.tax_yuan, thresholds).value if row else None
    else:
        bands = OCCUPANCY_BANDS

        def band_of(pk):
            row = figures.get(str(pk))
            if row is None:
                return None
            return _occupancy_band(
                indicators_of_building(building_from_json(pk, row).figures)[IndicatorKey.OCCUPANCY_RATE]
            )

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
        "as_of": as_of([stored]),
    }


@roles_required(OFFICE)
def dashboard(request):
    """The page itself: indicators, targets and trends from the stored figures of each year shown;
    the street table, the map, the forecast and the what-if load as their own fragments."""
    form = YearForm(request.GET or None, streets=scoped(request, Street), initial={"year": tier_year()})
    year, street = _area(request, form)
    today = timezone.localdate()
    years, _plan = milestones()
    trend_years = sorted({y for y in years if y <= today.year} | {year})
    part = "district" if street is None else f"streets__{street.pk}"
    stored = read_stored(YEAR_FIGURES, [str(y) for y in trend_years], part=part)
    # A street with no building in service has no stored totals: all its sums are 0.
    trend = {
        y: values_of_totals(stored[str(y)].payload) if not stored[str(y)].missing else {} for y in trend_years
    }
    rows, milestone_years = indicator_rows(year=year, street=street, values=trend[year], trend=trend)
    colour = "tier" if request.GET.get("colour") == "tier" else "occupancy"
    context = {
        "form": form if request_viewer(request).role != Role.STREET_OFFICER else None,
        "year": year,
        "street": street,
        "rows": rows,
        "milestone_years": milestone_years,
        "met": sum(1 for r in rows if r["met"]),
        "keys": [k.label for k in IndicatorKey],
        "colour": colour,
        "forecast_year": today.year,
        "as_of": as_of(stored.values()),
    }
    return render(request, "web/dashboard.html", context)


@roles_required(OFFICE)
@fragment_of("web:dashboard", anchor="streets")
def dashboard_streets(request):
    """The dashboard's per-street table, a page of streets at a time (whole-area viewers only)."""
    form = YearForm(request.GET or None, streets=scoped(request, Street))
    year, street = _area(request, form)
    if street is not None:
        return render(request, "web/_dashboard_streets.html", {"rows": [], "year": year})
    page, rows, stored = street_matrix(request, year=year, page_number=request.GET.get("page"))
    context = {
        "rows": rows,
        "page": page,
        "year": year,
        "keys": [k.label for k in IndicatorKey],
        "as_of": as_of([stored]),
    }
    return render(request, "web/_dashboard_streets.html", context)


@roles_required(OFFICE)
@fragment_of("web:dashboard", anchor="map")
def dashboard_map(request):
    """The dashboard's map of buildings, coloured by occupancy or tax tier."""
    form = YearForm(request.GET or None, streets=scoped(request, Street))
    year, street = _area(request, form)
    colour = "tier" if request.GET.get("colour") == "tier" else "occupancy"
    context = {"map": building_map(request, year=year, colour=colour), "year": year, "street": street}
    return render(request, "web/_dashboard_map.html", context)


@roles_required(OFFICE)
@fragment_of("web:dashboard", anchor="what-if-form")
def dashboard_what_if_form(request):
    """The what-if's choices: the most promising open leads; a row's buildings are looked up as typed
    (dashboard_what_if_buildings), so the form's size does not grow with the district."""
    form = YearForm(request.GET or None, streets=scoped(request, Street))
    year, street = _area(request, form)
    context = {"what_if": what_if_choices(request, street=street), "year": year, "street": street}
    return render(request, "web/_what_if_form.html", context)


class StoredBest(Mapping):
    """The stored best building of each open lead ({"lead id": building id}) as pipeline_additions
    reads it (lead id -> [(building id, score)]), converted per lead looked up: an officer's street
    has a few hundred of a city's 11,600 open leads, and converting them all took a third of a
    second of the page."""

    def __init__(self, stored: Mapping[str, int]):
        self._stored = stored

    def __getitem__(self, lead_id: int) -> list[tuple[int, float]]:
        return [(self._stored[str(lead_id)], 1.0)]

    def __iter__(self):
        return (int(lead_id) for lead_id in self._stored)

    def __len__(self) -> int:
        return len(self._stored)


@roles_required(OFFICE)
@fragment_of("web:dashboard", anchor="forecast")
def forecast(request):
    """The year-end forecast, loaded after the page (it ranks every open lead)."""
    form = YearForm(request.GET or None, streets=scoped(request, Street))
    _year, street = _area(request, form)
    today = timezone.localdate()
    placements = read_one(PLACEMENTS, OPEN_LEADS)
    figures = read_one(YEAR_FIGURES, str(today.year))
    if placements.missing or figures.missing:
        return render(request, "web/_forecast.html", {"as_of": as_of([placements, figures])})
    rates = {
        stage.value: StageRate(stage=stage.value, label=str(stage.label), won=won, decided=decided)
        for stage in FUNNEL
        for won, decided in [placements.payload["rates"][stage.value]]
    }
    # Who sees every lead reads the worker's sums; others' leads are placed here, from the stored
    # best building of each (the scope's own rule says which).
    summed, best = None, {}
    if RULES[Lead](request_viewer(request), VIEW) is EVERYTHING:
        summed = summed_from_json(placements.payload["summed"])
    else:
        best = StoredBest(placements.payload["best"])
    # Expected move-outs (retention scores, per building), counted apart from the pipeline's gains.
    retention = read_one(RETENTION, TODAY, part="buildings")
    result = pipeline_forecast(
        leads=scoped(request, Lead),
        best_buildings=best,
        today=today,
        street=street,
        figures=year_figures_from_json(figures.payload),
        rates=rates,
        summed=summed,
        departures=departure_removals(retention.payload or {}, share=year_share(today=today)),
    )
    _years, plan = milestones()
    rows = []
    for key in IndicatorKey:
        target_year, target = _target_for(plan.get(key.value, {}), result.year)
        now, end = result.now[key.value], result.year_end[key.value]
        gain, loss = result.pipeline_only[key.value], result.departures_only[key.value]
        rows.append(
            {
                "label": key.label,
                "now": now,
                "year_end": end,
                "change": end - now if end is not None and now is not None else None,
                "pipeline": gain - now if gain is not None and now is not None else None,
                "departures": loss - now if loss is not None and now is not None else None,
                "target": target if street is None or key.value in RATE_KEYS else None,
                "target_year": target_year,
            }
        )
    # What the district has promised to pay in the year, by the commitment schedule's periods.
    lines = scoped(request, CommitmentLine)
    if street is not None:
        lines = lines.filter(commitment__building__street=street)
    context = {
        "forecast": result,
        "rows": rows,
        "street": street,
        "as_of": as_of([placements, figures, retention]),
        "commitments": schedule_year_totals(year=result.year, lines=lines),
    }
    return render(request, "web/_forecast.html", context)


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
    return {"leads": leads, "rows": range(WHAT_IF_ROWS)}


@roles_required(OFFICE)
@fragment_of("web:dashboard", anchor="what-if-form")
def dashboard_what_if_buildings(request):
    """The options of the what-if's buildings' list for what was typed: at most WHAT_IF_BUILDINGS of
    the viewer's buildings (of the street asked) whose code starts with it or whose name contains it.
    The what-if itself still accepts only a code of a building the viewer may see."""
    form = YearForm(request.GET or None, streets=scoped(request, Street))
    _year, street = _area(request, form)
    # htmx sends the typing field under its own name (building_code_<row>)
    fields = [k for k in request.GET if k.startswith("building_code_")]
    typed = next((t for t in (text_param(request.GET, k).strip() for k in fields) if t), "")
    buildings = []
    if typed:
        found = scoped(request, Building).filter(Q(code__istartswith=typed) | Q(name__icontains=typed))
        if street is not None:
            found = found.filter(street=street)
        buildings = list(found.order_by("code").values("code", "name")[:WHAT_IF_BUILDINGS])
    return render(request, "web/_what_if_buildings.html", {"buildings": buildings})


@require_http_methods(["GET", "POST"])
@roles_required(OFFICE)
def what_if(request):
    """The indicators of the chosen year with the chosen leads signed into the chosen buildings."""
    if request.method == "GET":
        # A reload or a shared link of the result: the dashboard, whose what-if form it came from.
        query = request.GET.urlencode()
        return redirect(f"{reverse('web:dashboard')}{'?' + query if query else ''}#whatif-heading")
    form = YearForm(request.POST, streets=scoped(request, Street))
    year, street = _area(request, form)
    pairs, codes = [], {}
    for i in range(WHAT_IF_ROWS):
        lead_id, building_id = id_param(request.POST, f"lead_{i}"), id_param(request.POST, f"building_{i}")
        code = (request.POST.get(f"building_code_{i}") or "").strip()
        if lead_id and building_id:
            pairs.append((lead_id, building_id))
        elif lead_id and code:
            codes[i] = (lead_id, code)  # typed from the buildings' list
    if codes:
        by_code = dict(
            scoped(request, Building)
            .filter(code__in=[c for _lead, c in codes.values()])
            .values_list("code", "pk")
        )
        pairs += [(lead, by_code[c]) for lead, c in codes.values() if c in by_code]
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
    stored = read_one(YEAR_FIGURES, str(year))
    if stored.missing:
        return render(request, "web/_what_if.html", {"as_of": as_of([stored]), "year": year})
    figures = year_figures_from_json(stored.payload)
    before = indicators_with(figures=figures, street=street)
    after = indicators_with(figures=figures, street=street, additions=additions)
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
    context = {"rows": rows, "chosen": chosen, "year": year, "as_of": as_of([stored])}
    return render(request, "web/_what_if.html", context)

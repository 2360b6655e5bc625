"""Buildings: the list with vacancy, rent, star, featured type, main industry and tax tier; one building's
units as a floor plan, tenant industry mix, tax trend, policies in force and the leads that fit it; and
the district's vacancy list."""

from collections import defaultdict
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crm.api.match_rows import lead_matches_seen
from crm.api.permissions import BUILDING_MATCH_READERS
from crm.api.views.buildings import buildings_with_vacancy
from crm.constants import TaxTier, UnitStatus
from crm.indicators import indicators_of_building
from crm.models import Building, Industry, Street, TaxRecord, Tenancy, Unit
from crm.selectors.units import read_lapsed_hold_as_vacant, units_offerable
from crm.services.stored_results import TENANT_MIX, TODAY, YEAR_FIGURES
from crm.tax_tiers import BuildingTaxTier, tax_shortfall, tax_tier, tier_thresholds, tier_year
from crm.web.access import object_in_scope, reaches, role_of, roles_required, scoped, works_leads
from crm.web.charts import chart
from crm.web.exports import export_response, wanted_format
from crm.web.forms import BuildingFilterForm, VacancyFilterForm
from crm.web.fragments import fragment_of
from crm.web.stored import as_of, read_one, read_parts, read_stored
from crm.web.units import building_holds
from crm.year_figures import building_from_json
from matching.core.types import MatchingInputError
from policies.adapter import policies_in_force

PAGE_SIZE = 50
TREND_YEARS = 3
LEADS_SHOWN = 10


# ------------------------------------------------------------------ list


def stored_tiers(*, year: int, building_ids=None):
    """Each building's tax tier of `year` from the year's stored figures (all buildings in service,
    or the ids given), and what was read (for the page's "as of")."""
    if building_ids is not None:
        # Only these buildings' rows, each extracted by the database, in one query.
        ids = list(building_ids)
        values, stored = read_parts(YEAR_FIGURES, str(year), [f"buildings__{pk}" for pk in ids])
        rows = {
            str(pk): values[f"buildings__{pk}"] for pk in ids if values.get(f"buildings__{pk}") is not None
        }
    else:
        stored = read_one(YEAR_FIGURES, str(year), part="buildings")
        rows = stored.payload or {}
    thresholds = tier_thresholds()
    tiers = {}
    for key, row in rows.items():
        tax = building_from_json(int(key), row).figures.tax_yuan
        next_tier, shortfall = tax_shortfall(tax, thresholds)
        tiers[int(key)] = BuildingTaxTier(int(key), tax, tax_tier(tax, thresholds), next_tier, shortfall)
    return tiers, stored


def filtered_buildings(request, form: BuildingFilterForm, *, year: int):
    buildings = scoped(request, buildings_with_vacancy()).select_related("main_industry")
    sort = "code"
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            buildings = buildings.filter(Q(name__icontains=data["q"]) | Q(code__iexact=data["q"].strip()))
        if data["street"]:
            buildings = buildings.filter(street=data["street"])
        if data["featured_type"]:
            buildings = buildings.filter(featured_type=data["featured_type"])
        if data["min_star"] is not None:
            buildings = buildings.filter(star_rating__gte=data["min_star"])
        if data["tier"]:
            # The year's stored building tax, the same the tiers come from.
            tiers, _stored = stored_tiers(year=year)
            buildings = buildings.filter(pk__in=[pk for pk, t in tiers.items() if t.tier == data["tier"]])
        if data["sort"] in BuildingFilterForm.SORTS:
            sort = data["sort"]
    return buildings.order_by(sort, "pk")


def _vacancy_rate(building) -> Decimal | None:
    if not building.leasable_area_m2:
        return None
    return building.vacant_area_m2 * 100 / building.leasable_area_m2


@roles_required()
def building_list(request):
    year = tier_year()
    streets = scoped(request, Street).filter(pk__in=scoped(request, Building).values("street_id"))
    form = BuildingFilterForm(request.GET or None, streets=streets)
    buildings = filtered_buildings(request, form, year=year)
    shows_tax = reaches(request, TaxRecord)
    fmt = wanted_format(request)
    if fmt:
        return _export_buildings(buildings, fmt, year=year, shows_tax=shows_tax)
    page = Paginator(buildings, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page)
    # One read of the year's stored figures for the page's buildings, whatever the page size.
    tiers, stored = stored_tiers(year=year, building_ids=[b.pk for b in rows])
    for building in rows:
        building.tier = tiers.get(building.pk)
        building.vacancy_rate = _vacancy_rate(building)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "year": year,
        "shows_tax": shows_tax,
        "as_of": as_of([stored]),
    }
    return render(request, "web/building_list.html", context)


def _export_buildings(buildings, fmt: str, *, year: int, shows_tax: bool):
    tiers, _stored = stored_tiers(year=year)
    header = [
        "编号 code",
        "名称 name",
        "镇街 street",
        "可租售面积 leasable (m²)",
        "空置面积 vacant (m²)",
        "空置房源 vacant units",
        "最低租金 rent min",
        "最高租金 rent max",
        "星级 stars",
        "特色类型 featured",
        "主导产业 main industry",
        f"{year} 税收层级 tax tier",
    ]
    if shows_tax:
        header += [f"{year} 楼宇税收 tax (元)", "距下一层级 gap to next tier (元)"]

    def rows():
        for b in buildings.iterator(chunk_size=1000):
            tier = tiers.get(b.pk)
            row = [
                b.code,
                b.name,
                b.street.name,
                b.leasable_area_m2,
                b.vacant_area_m2,
                b.vacant_units,
                b.rent_min,
                b.rent_max,
                b.star_rating,
                b.get_featured_type_display(),
                b.main_industry_id or "",
                TaxTier(tier.tier).label if tier else "",
            ]
            if shows_tax:
                row += [tier.tax_yuan if tier else None, tier.shortfall_yuan if tier else None]
            yield row

    return export_response(name="buildings", fmt=fmt, header=header, rows=rows())


# ------------------------------------------------------------------ one building


def floor_plan(units) -> list[dict]:
    """Units grouped by floor, top floor first, like a building's section drawing."""
    floors: dict[int, list[Unit]] = defaultdict(list)
    for unit in units:
        floors[unit.floor].append(unit)
    return [{"floor": floor, "units": floors[floor]} for floor in sorted(floors, reverse=True)]


def industry_mix(stored_rows: list | None) -> list[dict]:
    """The building's tenants active today by industry section (enterprises and area), from the
    stored tenant mix, with the sections' names in the page's language (one query)."""
    column = "name_en" if (get_language() or "").startswith("en") else "name_zh"
    names = dict(Industry.objects.filter(level="section").values_list("code", column))
    return [
        {"section": section, "name": names.get(section) or _("未知行业"), "count": n, "area": Decimal(area)}
        for section, n, area in stored_rows or []
    ]


PALETTE = ["#2f6db5", "#8c1d18", "#1a7f37", "#8a5a00", "#6b5196", "#0e7c86", "#b35c00", "#57606a"]


@roles_required()
def building_detail(request, pk: int):
    building = object_in_scope(
        request, Building.objects.select_related("street", "business_circle", "main_industry"), pk
    )
    today = timezone.localdate()
    year = tier_year()
    units = list(scoped(request, Unit).filter(building=building).order_by("-floor", "number"))
    offerable = set(units_offerable().filter(building=building).values_list("pk", flat=True))
    for unit in units:
        unit.offerable = unit.pk in offerable
        read_lapsed_hold_as_vacant(unit, offerable=unit.offerable)
    status_counts = defaultdict(lambda: {"n": 0, "area": Decimal(0)})
    for unit in units:
        status_counts[unit.status]["n"] += 1
        status_counts[unit.status]["area"] += unit.area_m2
    shows_tax = reaches(request, TaxRecord)
    shows_tenants = reaches(request, Tenancy)
    tiers, _stored = stored_tiers(year=year, building_ids=[building.pk])
    tier = tiers.get(building.pk)
    years = list(range(year - TREND_YEARS + 1, year + 1))
    # The tax trend's years, the tier's year among them, in one read of the stored figures.
    stored = read_stored(YEAR_FIGURES, [str(y) for y in years], part=f"buildings__{building.pk}")
    mix_stored = read_one(TENANT_MIX, TODAY, part=f"buildings__{building.pk}")
    # The stored mix is of every tenant; shown to those whose scope reaches this building's tenancies.
    sees_mix = shows_tenants and scoped(request, Tenancy).filter(building=building).exists()
    mix = industry_mix(mix_stored.payload) if sees_mix else []
    mix_chart = chart(
        "doughnut",
        labels=[f"{m['section']} {m['name']}" for m in mix],
        datasets=[
            {
                "label": _("入驻面积(㎡)"),
                "data": [float(m["area"] or 0) for m in mix],
                "backgroundColor": [PALETTE[i % len(PALETTE)] for i in range(len(mix))],
            }
        ],
    )
    trend = {
        y: indicators_of_building(building_from_json(building.pk, stored[str(y)].payload).figures)
        if stored[str(y)].payload is not None
        else None
        for y in years
    }
    datasets = [
        {
            "label": _("入驻率(%)"),
            "data": [_float(trend[y], "occupancy_rate") for y in years],
            "borderColor": PALETTE[0],
            "backgroundColor": PALETTE[0],
            "yAxisID": "rate",
            "type": "line",
        }
    ]
    if shows_tax:
        datasets.insert(
            0,
            {
                "label": _("楼宇税收(亿元)"),
                "data": [_float(trend[y], "building_tax") for y in years],
                "backgroundColor": PALETTE[1],
                "yAxisID": "tax",
            },
        )
    trend_chart = chart(
        "bar",
        labels=[str(y) for y in years],
        datasets=datasets,
        options={
            "scales": {
                "rate": {"type": "linear", "position": "right", "min": 0, "max": 100},
                **({"tax": {"type": "linear", "position": "left", "beginAtZero": True}} if shows_tax else {}),
            }
        },
    )
    policies = scoped(
        request, policies_in_force(on=today, buildings=Building.objects.filter(pk=building.pk))
    ).select_related("street", "business_circle", "building")
    context = {
        "building": building,
        "floors": floor_plan(units),
        "statuses": [{"status": s.value, "label": s.label, **status_counts[s.value]} for s in UnitStatus],
        "year": year,
        "tier": tier,
        "shows_tax": shows_tax,
        "shows_tenants": shows_tenants,
        "mix": mix,
        "mix_chart": mix_chart,
        "trend_chart": trend_chart,
        "trend": [(y, trend[y]) for y in years],
        "policies": list(policies),
        "reads_matches": role_of(request) in BUILDING_MATCH_READERS,
        # Who holds what, as far as the user sees the holds (their own leads', the office all).
        "holds": building_holds(request, building),
        "holds_units": works_leads(request),
        "as_of": as_of([*stored.values(), mix_stored]),
    }
    return render(request, "web/building_detail.html", context)


def _float(values: dict | None, key: str) -> float | None:
    if not values or values.get(key) is None:
        return None
    return round(float(values[key]), 2)


@roles_required(BUILDING_MATCH_READERS)
@fragment_of("web:building", anchor="building-leads")
def building_leads(request, pk: int):
    """The open leads that fit this building best (reverse matching), loaded on request."""
    building = object_in_scope(request, Building, pk)
    try:
        # What the API's /buildings/{id}/lead-matches/ answers this caller: a lead the caller may
        # not see is demand without a name.
        found = lead_matches_seen(request, building, limit=LEADS_SHOWN)
    except MatchingInputError as exc:
        return render(request, "web/_building_leads.html", {"problem": exc.message})
    return render(request, "web/_building_leads.html", {"results": found["results"], "found": found})


# ------------------------------------------------------------------ vacancies


def filtered_vacancies(request, form: VacancyFilterForm):
    units = scoped(request, units_offerable()).select_related("building", "building__street")
    if form.is_valid():
        data = form.cleaned_data
        if data["street"]:
            units = units.filter(building__street=data["street"])
        if data["building"]:
            text = data["building"].strip()
            units = units.filter(Q(building__name__icontains=text) | Q(building__code__iexact=text))
        if data["min_area"] is not None:
            units = units.filter(area_m2__gte=data["min_area"])
        if data["max_area"] is not None:
            units = units.filter(area_m2__lte=data["max_area"])
        if data["max_rent"] is not None:
            units = units.filter(asking_rent__lte=data["max_rent"])
    return units.order_by("building__code", "floor", "number")


@roles_required()
def vacancy_list(request):
    form = VacancyFilterForm(request.GET or None, streets=scoped(request, Street))
    units = filtered_vacancies(request, form)
    fmt = wanted_format(request)
    if fmt:
        header = [
            "楼宇编号 building",
            "楼宇 name",
            "镇街 street",
            "楼层 floor",
            "房号 unit",
            "面积 area (m²)",
            "报价租金 rent (元/㎡·天)",
            "状态 status",
            "可入驻 available from",
        ]
        rows = (
            [
                u.building.code,
                u.building.name,
                u.building.street.name,
                u.floor,
                u.number,
                u.area_m2,
                u.asking_rent,
                # Every row is offerable: one still marked reserved is a hold that ran out, vacant today.
                read_lapsed_hold_as_vacant(u, offerable=True).get_status_display(),
                u.available_from,
            ]
            for u in units.iterator(chunk_size=2000)
        )
        return export_response(name="vacancies", fmt=fmt, header=header, rows=rows)
    totals = units.aggregate(n=Count("pk"), area=Sum("area_m2"))
    page = Paginator(units, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/vacancy_list.html", {"form": form, "page": page, "totals": totals})

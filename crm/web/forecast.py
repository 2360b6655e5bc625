"""What the open pipeline may do to the plan's indicators: a year-end forecast in which each open lead
counts with its stage's historical conversion rate, and a what-if of chosen leads signed into chosen
buildings.

Both start from the district's raw totals as the indicators' own SQL statement computes them (one
query), add the leads' space, enterprises and tax to them and to their buildings, and divide again
with the formulas of crm.indicators.district_values; a test checks that with nothing added the
result equals district_values to the cent. A lead counts as the plan's entry threshold asks only
as far as it intends to: it adds to the registered enterprises only if it will register here, and
adds no tax (nor a tax source) if it will not pay tax here.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q

from crm.constants import (
    BILLION_TIER_YUAN,
    OPEN_STAGES,
    TEN_MILLION_TIER_YUAN,
    LeadStage,
)
from crm.indicators import indicators_from_totals
from crm.models import Lead, StageChange, Street
from crm.year_figures import YearFigures, year_figures_compute, year_figures_from_json

WON = (LeadStage.SIGNED, LeadStage.SETTLED)
DECIDED = (LeadStage.SIGNED, LeadStage.SETTLED, LeadStage.LOST)
# Open stages in the order a lead passes them: a lead now in a later stage has passed the earlier ones.
FUNNEL = (LeadStage.NEW, LeadStage.CONTACTED, LeadStage.VISITING, LeadStage.NEGOTIATING)
# The allowed edges lead every signed lead through these (visiting may be skipped).
ON_EVERY_PATH = (LeadStage.CONTACTED, LeadStage.NEGOTIATING)


@dataclass(frozen=True)
class Addition:
    """One lead placed in one building, counted with `weight` (1 for a what-if, its stage's rate in a
    forecast): its area, its tax in the year, and its industry for the concentration indicator."""

    building_id: int
    weight: Decimal
    area_m2: Decimal
    tax_yuan: Decimal
    industry_code: str = ""  # a division
    industry_section: str = ""
    registers: bool = True  # intends to register in the district
    # Several leads summed (pipeline_additions_summed): area and tax are already Σ weight × value.
    weighted: bool = False


@dataclass(frozen=True)
class StageRate:
    stage: str
    label: str
    won: int
    decided: int

    @property
    def rate(self) -> Decimal:
        """Share of decided leads that had reached this stage and then signed; 0 without history."""
        return Decimal(self.won) / Decimal(self.decided) if self.decided else Decimal(0)


def stage_conversion_rates() -> dict[str, StageRate]:
    """For each open stage: of the leads that reached it and have since been decided (signed, settled
    or lost), how many signed. One query; a lead reached a stage if it is in it now, passed it in a
    stage change, is now in a later open stage, or signed through a stage every signing passes
    (leads imported mid-funnel carry no history)."""
    aggregates = {}
    for position, stage in enumerate(FUNNEL):
        later = [s.value for s in FUNNEL[position:]]
        reached = (
            Q(stage__in=later)
            | Q(Exists(StageChange.objects.filter(lead=OuterRef("pk"), to_stage=stage)))
            | Q(Exists(StageChange.objects.filter(lead=OuterRef("pk"), from_stage=stage)))
        )
        if stage == LeadStage.NEW:
            reached = Q()  # every lead starts new
        elif stage in ON_EVERY_PATH:
            reached |= Q(stage__in=WON)
        aggregates[f"{stage}_won"] = Count("pk", filter=reached & Q(stage__in=WON))
        aggregates[f"{stage}_decided"] = Count("pk", filter=reached & Q(stage__in=DECIDED))
    totals = Lead.objects.aggregate(**aggregates)
    return {
        stage.value: StageRate(
            stage=stage.value,
            label=str(stage.label),
            won=totals[f"{stage}_won"],
            decided=totals[f"{stage}_decided"],
        )
        for stage in FUNNEL
    }


def indicators_with(
    *,
    year: int | None = None,
    street: Street | int | None = None,
    additions: Iterable[Addition] = (),
    figures: YearFigures | None = None,
) -> dict[str, Decimal | None]:
    """The fourteen indicators of the district (or a street) with `additions` counted in.

    From the stored `figures` of the year (what pages pass: no query), or computed now for `year`
    (the same figures, four queries).
    """
    if figures is None:
        figures = year_figures_from_json(year_figures_compute(year=year))
    street_id = street.pk if isinstance(street, Street) else street
    totals = figures.totals(street_id)
    in_scope = figures.in_scope(street_id)
    mains = {pk: b.main_industry_id for pk, b in in_scope.items()}
    tax = {pk: b.figures.tax_yuan for pk, b in in_scope.items()}
    occupied = {pk: b.figures.occupied_area_m2 for pk, b in in_scope.items()}
    added = {
        "occupied": Decimal(0),
        "settled": Decimal(0),
        "registered": Decimal(0),
        "tax_sources": Decimal(0),
    }
    added.update(settled_where_main=Decimal(0), in_main=Decimal(0), tax=Decimal(0))
    for a in additions:
        if a.building_id not in in_scope:  # not in service on 31 December, or outside the street
            continue
        area, yearly = (
            (a.area_m2, a.tax_yuan) if a.weighted else (a.weight * a.area_m2, a.weight * a.tax_yuan)
        )
        added["occupied"] += area
        added["settled"] += a.weight
        if a.registers:
            added["registered"] += a.weight
        if a.tax_yuan > 0:
            added["tax_sources"] += a.weight
        main = mains.get(a.building_id)
        if main:
            added["settled_where_main"] += a.weight
            # Same rule as the indicator: the same division, or inside the section when the main
            # industry is a section (its code is the section letter).
            if a.industry_code and (a.industry_code == main or a.industry_section == main):
                added["in_main"] += a.weight
        added["tax"] += yearly
        tax[a.building_id] += yearly
        occupied[a.building_id] += area
    key = [pk for pk, t in tax.items() if t >= TEN_MILLION_TIER_YUAN]
    adjusted = dict(totals)
    for name, extra in (
        ("occupied", added["occupied"]),
        ("settled", added["settled"]),
        ("registered", added["registered"]),
        ("tax_sources", added["tax_sources"]),
        ("in_main_industry", added["in_main"]),
        ("settled_where_main_industry", added["settled_where_main"]),
        ("tax", added["tax"]),
    ):
        adjusted[name] += extra
    adjusted["billion"] = Decimal(sum(1 for t in tax.values() if t >= BILLION_TIER_YUAN))
    adjusted["key_tax"] = sum((tax[pk] for pk in key), Decimal(0))
    adjusted["key_occupied"] = sum((occupied[pk] for pk in key), Decimal(0))
    return indicators_from_totals(adjusted)


def lead_area(lead: Lead) -> Decimal:
    """The space a lead asks for: the middle of its range (as policies.adapter.offer_for_lead takes it)."""
    return middle_area(lead.area_min_m2, lead.area_max_m2)


def middle_area(area_min: Decimal | None, area_max: Decimal | None) -> Decimal:
    known = [a for a in (area_min, area_max) if a is not None]
    return sum(known, Decimal(0)) / len(known) if known else Decimal(0)


def year_share(*, today: dt.date) -> Decimal:
    """The part of today's year still to come: a lead signed now pays that share of a year's tax in it."""
    start, end = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    return Decimal((end - today).days + 1) / Decimal((end - start).days + 1)


def addition_for(lead: Lead, building_id: int, *, weight: Decimal, tax_share: Decimal) -> Addition:
    industry = lead.industry
    return Addition(
        building_id=building_id,
        weight=weight,
        area_m2=lead_area(lead),
        # Tax paid elsewhere is no tax of the district's buildings.
        tax_yuan=(lead.expected_annual_tax or Decimal(0)) * tax_share
        if lead.pays_tax_in_district
        else Decimal(0),
        industry_code=industry.code if industry else "",
        industry_section=industry.section if industry else "",
        registers=lead.registers_in_district,
    )


@dataclass(frozen=True)
class Forecast:
    year: int
    now: dict[str, Decimal | None]
    year_end: dict[str, Decimal | None]  # the pipeline's gains and the expected move-outs together
    rates: dict[str, StageRate]
    leads_counted: int
    leads_unplaced: int
    expected_signings: Decimal
    tax_share: Decimal
    pipeline_only: dict[str, Decimal | None] | None = None  # the gains alone
    departures_only: dict[str, Decimal | None] | None = None  # the move-outs alone
    departing_area_m2: Decimal = Decimal(0)
    departing_tax_yuan: Decimal = Decimal(0)


def departure_removals(buildings: Mapping[str, Mapping[str, str]], *, share: Decimal) -> list[Addition]:
    """The expected move-outs by 31 December from the stored retention scores (per building, the
    12-month probability-weighted area and tax): with a constant hazard over the 12 months, the part
    of it falling in the rest of the year is `share`. A tenant gone on 31 December counts neither in
    the occupied area nor in the building's tax of the year (the indicators' definition), so both
    are removed whole. Settled and registered counts are left alone: the issue asks for occupancy,
    tax, tax per m² and the tiers."""
    return [
        Addition(
            building_id=int(building),
            weight=Decimal(0),
            area_m2=-Decimal(row["expected_area_m2"]) * share,
            tax_yuan=-Decimal(row["expected_tax_yuan"]) * share,
            weighted=True,
        )
        for building, row in buildings.items()
    ]


def pipeline_forecast(
    *,
    leads,
    best_buildings: Mapping[int, Sequence[tuple[int, float]]],
    today: dt.date,
    street=None,
    figures: YearFigures | None = None,
    rates: dict[str, StageRate] | None = None,
    summed: "SummedAdditions | None" = None,
    departures: Sequence[Addition] = (),
) -> Forecast:
    """Year-end indicators of today's year if each open lead in `leads` signs into its best-ranked
    building with its stage's conversion rate, paying tax for the rest of the year.

    Pages pass the stored `figures` of today's year and the stored `rates`; without them both are
    computed now."""
    rates = rates if rates is not None else stage_conversion_rates()
    year = today.year
    if figures is None:
        figures = year_figures_from_json(year_figures_compute(year=year))
    share = year_share(today=today)
    counted = None
    if summed is not None:  # the whole district's open leads, summed by a worker
        additions, unplaced, expected, counted = (
            summed.additions,
            summed.unplaced,
            summed.expected,
            summed.counted,
        )
    else:
        additions, unplaced, expected = pipeline_additions(
            leads=leads, best_buildings=best_buildings, rates=rates, share=share
        )
    pipeline_only = indicators_with(figures=figures, street=street, additions=additions)
    in_scope = figures.in_scope(street.pk if isinstance(street, Street) else street)
    # A building cannot lose more tax than it has in the year's figures (records to date): a leaver's
    # tax is estimated from its last four quarters, the year's records may be few months yet.
    counted_departures = [
        replace(d, tax_yuan=max(d.tax_yuan, -in_scope[d.building_id].figures.tax_yuan))
        for d in departures
        if d.building_id in in_scope
    ]
    return Forecast(
        year=year,
        now=indicators_with(figures=figures, street=street),
        year_end=indicators_with(figures=figures, street=street, additions=[*additions, *counted_departures])
        if counted_departures
        else pipeline_only,
        rates=rates,
        leads_counted=counted if counted is not None else len(additions),
        leads_unplaced=unplaced,
        expected_signings=expected,
        tax_share=share,
        pipeline_only=pipeline_only,
        departures_only=indicators_with(figures=figures, street=street, additions=counted_departures),
        departing_area_m2=-sum((d.area_m2 for d in counted_departures), Decimal(0)),
        departing_tax_yuan=-sum((d.tax_yuan for d in counted_departures), Decimal(0)),
    )


def pipeline_additions(
    *, leads, best_buildings: Mapping[int, Sequence[tuple[int, float]]], rates: dict[str, StageRate], share
) -> tuple[list[Addition], int, Decimal]:
    """Each open lead of `leads` in its best building at its stage's rate: (additions, leads without a
    building, expected signings)."""
    additions, unplaced, expected = [], 0, Decimal(0)
    # Plain tuples of only what an addition reads: a city has thousands of open leads, and model
    # instances of its wide rows (business scope, contacts) cost more than the arithmetic.
    rows = leads.filter(stage__in=OPEN_STAGES).values_list(
        "pk",
        "stage",
        "area_min_m2",
        "area_max_m2",
        "expected_annual_tax",
        "industry__code",
        "industry__section",
    )
    for pk, stage, area_min, area_max, tax, code, section in rows:
        best = best_buildings.get(pk) or []
        if not best:
            unplaced += 1
            continue
        weight = rates[stage].rate
        expected += weight
        additions.append(
            Addition(
                building_id=best[0][0],
                weight=weight,
                area_m2=middle_area(area_min, area_max),
                tax_yuan=(tax or Decimal(0)) * share,
                industry_code=code or "",
                industry_section=section or "",
            )
        )
    return additions, unplaced, expected


@dataclass(frozen=True)
class SummedAdditions:
    """pipeline_additions of every open lead, summed per building, industry, whether it pays tax and
    whether it registers here:
    what indicators_with adds is linear in them, so the sums give the same indicators."""

    additions: list[Addition]
    unplaced: int
    expected: Decimal
    counted: int


def additions_summed(additions: list[Addition]) -> list[Addition]:
    groups: dict[tuple, list[Decimal]] = {}
    for a in additions:
        key = (a.building_id, a.industry_code, a.industry_section, a.tax_yuan > 0, a.registers)
        sums = groups.setdefault(key, [Decimal(0), Decimal(0), Decimal(0)])
        sums[0] += a.weight
        sums[1] += a.weight * a.area_m2
        sums[2] += a.weight * a.tax_yuan
    return [
        Addition(building, weight, area, tax, code, section, registers=registers, weighted=True)
        for (building, code, section, _pays, registers), (weight, area, tax) in groups.items()
    ]


def summed_to_json(summed: SummedAdditions) -> dict:
    return {
        "additions": [
            [
                a.building_id,
                str(a.weight),
                str(a.area_m2),
                str(a.tax_yuan),
                a.industry_code,
                a.industry_section,
                a.registers,
            ]
            for a in summed.additions
        ],
        "unplaced": summed.unplaced,
        "expected": str(summed.expected),
        "counted": summed.counted,
    }


def summed_from_json(payload: Mapping) -> SummedAdditions:
    return SummedAdditions(
        additions=[
            Addition(b, Decimal(w), Decimal(area), Decimal(tax), code, section, registers=reg, weighted=True)
            for b, w, area, tax, code, section, reg in payload["additions"]
        ],
        unplaced=payload["unplaced"],
        expected=Decimal(payload["expected"]),
        counted=payload["counted"],
    )

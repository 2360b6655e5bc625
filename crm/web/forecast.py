"""What the open pipeline may do to the plan's indicators: a year-end forecast in which each open lead
counts with its stage's historical conversion rate, and a what-if of chosen leads signed into chosen
buildings.

Both start from the district's raw totals as the indicators' own SQL statement computes them (one
query), add the leads' space, enterprises and tax to them and to their buildings, and divide again
with the formulas of crm.indicators.district_values; a test checks that with nothing added the
result equals district_values to the cent. A lead that signs is taken to register, settle and pay
tax in the district (the plan's entry threshold, as policies.adapter.profile_from_lead also assumes).
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
        area, yearly = a.weight * a.area_m2, a.weight * a.tax_yuan
        added["occupied"] += area
        added["settled"] += a.weight
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
    known = [a for a in (lead.area_min_m2, lead.area_max_m2) if a is not None]
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
        tax_yuan=(lead.expected_annual_tax or Decimal(0)) * tax_share,
        industry_code=industry.code if industry else "",
        industry_section=industry.section if industry else "",
    )


@dataclass(frozen=True)
class Forecast:
    year: int
    now: dict[str, Decimal | None]
    year_end: dict[str, Decimal | None]
    rates: dict[str, StageRate]
    leads_counted: int
    leads_unplaced: int
    expected_signings: Decimal
    tax_share: Decimal


def pipeline_forecast(
    *,
    leads,
    best_buildings: Mapping[int, Sequence[tuple[int, float]]],
    today: dt.date,
    street=None,
    figures: YearFigures | None = None,
    rates: dict[str, StageRate] | None = None,
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
    additions, unplaced, expected = [], 0, Decimal(0)
    # Only what an addition reads: a lead row is wide (business scope, contacts) and a city has
    # thousands of open leads.
    open_leads = (
        leads.filter(stage__in=OPEN_STAGES)
        .select_related("industry")
        .only(
            "pk",
            "stage",
            "area_min_m2",
            "area_max_m2",
            "expected_annual_tax",
            "industry__code",
            "industry__section",
        )
    )
    for lead in open_leads:
        best = best_buildings.get(lead.pk) or []
        if not best:
            unplaced += 1
            continue
        weight = rates[lead.stage].rate
        expected += weight
        additions.append(addition_for(lead, best[0][0], weight=weight, tax_share=share))
    return Forecast(
        year=year,
        now=indicators_with(figures=figures, street=street),
        year_end=indicators_with(figures=figures, street=street, additions=additions),
        rates=rates,
        leads_counted=len(additions),
        leads_unplaced=unplaced,
        expected_signings=expected,
        tax_share=share,
    )

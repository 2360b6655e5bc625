"""The district as the ranking sees it on one date: buildings, offers, tenants, relatedness, tax.

`snapshot` turns the tables the adapter loads into everything a ranking needs, vectorised. A live
snapshot takes units by their current status (vacant, or reserved with the hold checked per lead);
an as-of snapshot rebuilds vacancy from the tenancy periods, so the offline evaluation can rank a
lead against the market of its own day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from matching.core.offers import OfferTable, build_offers
from matching.core.relatedness import relatedness, section_relatedness
from matching.core.types import (
    ALWAYS,
    UNIT_LEASED,
    UNIT_RESERVED,
    UNIT_VACANT,
    BuildingTable,
    EntryCondition,
    EntryRule,
    Industries,
    LinkTable,
    TenancyTable,
    UnitTable,
)


@dataclass(frozen=True)
class EntryGroup:
    """Buildings that share one entry condition text, tested together."""

    condition: EntryCondition
    text: str
    buildings: np.ndarray  # building rows


@dataclass(frozen=True)
class Snapshot:
    on: int  # ordinal of the ranking date
    industries: Industries
    buildings: BuildingTable
    units: UnitTable
    offers: OfferTable
    tenant_share: np.ndarray  # (buildings, divisions): share of each building's tenant area
    related: np.ndarray  # (divisions, divisions)
    related_section: np.ndarray  # (divisions, sections)
    tax_per_m2: np.ndarray  # building tax of the last year / occupied area, 0 when unknown
    shortfall: np.ndarray  # yuan a building lacks to reach its next full tax tier, 0 at the top
    next_tier: np.ndarray  # str label of that tier, "" at the top
    entry: tuple[EntryGroup, ...]
    entry_by_building: dict[int, int]  # building row -> index into entry
    use_holds: bool  # live snapshots honour unit holds; historical ones do not know them

    @property
    def on_date(self) -> dt.date:
        return dt.date.fromordinal(self.on)

    @property
    def nbytes(self) -> int:
        arrays = [self.tenant_share, self.related, self.related_section, self.tax_per_m2, self.shortfall]
        tables: list[Any] = [self.buildings, self.units]
        total = sum(a.nbytes for a in arrays) + self.offers.nbytes
        for table in tables:
            total += sum(getattr(table, f.name).nbytes for f in fields(table))
        return int(total)


def tenant_counts(
    tenancies: TenancyTable, on: int, n_buildings: int, n_divisions: int
) -> tuple[np.ndarray, np.ndarray]:
    """(area, count) of tenancies active on `on`, per (building, division)."""
    active = tenancies.active(on) & (tenancies.division >= 0)
    flat = tenancies.building[active] * n_divisions + tenancies.division[active]
    size = n_buildings * n_divisions
    area = np.bincount(flat, weights=tenancies.area[active], minlength=size).reshape(n_buildings, n_divisions)
    count = np.bincount(flat, minlength=size).reshape(n_buildings, n_divisions).astype(float)
    return area, count


def shares(area: np.ndarray) -> np.ndarray:
    total = area.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, area / total, 0.0)


def group_entry_rules(rules: Sequence[EntryRule]) -> tuple[tuple[EntryGroup, ...], dict[int, int]]:
    by_text: dict[str, list[EntryRule]] = defaultdict(list)
    for rule in rules:
        by_text[rule.text].append(rule)
    groups: list[EntryGroup] = []
    index: dict[int, int] = {}
    for text in sorted(by_text):
        members = by_text[text]
        for rule in members:
            index[rule.building] = len(groups)
        rows = np.array(sorted(rule.building for rule in members), dtype=np.int64)
        groups.append(EntryGroup(members[0].condition, text, rows))
    return tuple(groups), index


def snapshot(
    *,
    on: dt.date,
    industries: Industries,
    buildings: BuildingTable,
    units: UnitTable,
    tenancies: TenancyTable,
    tax_per_m2: np.ndarray | None = None,
    shortfall: np.ndarray | None = None,
    next_tier: np.ndarray | None = None,
    entry: Sequence[EntryRule] = (),
    links: LinkTable | None = None,
    related: np.ndarray | None = None,
) -> Snapshot:
    """Everything a ranking on `on` needs. With `links`, vacancy is rebuilt from tenancy periods
    (a historical snapshot); without, it is the units' current status (a live one)."""
    day = on.toordinal()
    n_b = len(buildings)
    n_div = len(industries.divisions)
    if links is None:
        offerable = (units.status == UNIT_VACANT) | (units.status == UNIT_RESERVED)
    else:
        occupied = np.zeros(len(units), dtype=bool)
        # A lease ending on the day frees its units for the next: a lead ranked the day before its
        # signing could be offered them (else the audit charges no_space for a unit it did sign).
        live = (links.start <= day) & (links.end > day)
        occupied[links.unit[live]] = True
        lettable = (
            (units.status == UNIT_VACANT) | (units.status == UNIT_RESERVED) | (units.status == UNIT_LEASED)
        )
        offerable = lettable & ~occupied
        # A unit's "available from" describes today's tenancy; on a past day, vacant meant available.
        units = replace(units, available_from=np.full(len(units), ALWAYS, dtype=np.int64))
    offers = build_offers(units, offerable, n_b)
    area, count = tenant_counts(tenancies, day, n_b, n_div)
    if related is None:
        related = relatedness(count, industries.division_section)
    groups, index = group_entry_rules(entry)
    zeros = np.zeros(n_b)
    return Snapshot(
        on=day,
        industries=industries,
        buildings=buildings,
        units=units,
        offers=offers,
        tenant_share=shares(area),
        related=related,
        related_section=section_relatedness(related, industries.division_section, len(industries.sections)),
        tax_per_m2=zeros if tax_per_m2 is None else np.asarray(tax_per_m2, dtype=float),
        shortfall=zeros if shortfall is None else np.asarray(shortfall, dtype=float),
        next_tier=np.full(n_b, "", dtype=object)
        if next_tier is None
        else np.asarray(next_tier, dtype=object),
        entry=groups,
        entry_by_building=index,
        use_holds=links is None,
    )

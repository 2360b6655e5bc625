"""Rank buildings for a lead, leads for a building, and all open leads at once, in numpy passes.

Forward (one lead, all buildings) and reverse (one building, many leads) run the same steps, so a
(lead, building) pair gets the same offer and score either way:

1. space: offers whose area lies in the lead's range widened by AREA_NEAR_SHARE both ways (units
   held for another lead left out); a building with none is excluded;
2. move-in: of those, offers available by the desired date; the one closest to the middle is priced;
3. budget: the policies' rent relief at that offer lowers the rent; the closest offer whose rent
   after relief is within budget × (1 + tolerance) is preferred, and where none is, the closest
   offer stays: rent above budget is a feature the model weighs, never an exclusion;
4. entry: the building's entry condition, tested on the lead and the chosen offer;
5. the seven components, their weighted sum, and a stable order (score, then id).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching.core.features import (
    DAYS_PER_YEAR,
    INCENTIVE_YEARS,
    area_window,
    components,
    effective_rent,
    features,
)
from matching.core.offers import any_per_building, best_per_building
from matching.core.snapshot import Snapshot
from matching.core.types import (
    BUDGET_CUTOFF,
    ENTRY,
    FILTERS,
    MAIN_DIVISION,
    MAIN_SECTION,
    NO_SPACE,
    NOT_AVAILABLE,
    NOT_IN_SERVICE,
    IncentiveAmounts,
    IncentivePairs,
    IncentiveSource,
    LeadQuery,
    LeadTable,
)

# Offers within budget × 1.1 after relief are preferred when choosing a building's offer.
DEFAULT_TOLERANCE = 0.10
DIVERSITY_PENALTY = 0.10  # score taken off a lead that tops every sampled building's list
EXPOSURE_SAMPLE = 32  # buildings sampled to measure how often a lead tops the lists
EXPOSURE_TOP = 10
_RENT_YEARS = DAYS_PER_YEAR * INCENTIVE_YEARS
_REASON_CODE = {name: i for i, name in enumerate(FILTERS)}


@dataclass(frozen=True)
class BuildingScores:
    """One lead against every building: the filter outcome of each, and the ranked candidates."""

    lead: LeadQuery
    reason: np.ndarray  # per building row: index into FILTERS of the filter that excluded it, -1 if none
    offer: np.ndarray  # per building row: chosen offer index, -1 if none
    order: np.ndarray  # candidate building rows, best first
    features: np.ndarray  # (candidates, features) in `order`
    scores: np.ndarray
    incentive_3y: np.ndarray
    rent_relief_3y: np.ndarray
    weights: np.ndarray

    def excluded_counts(self) -> dict[str, int]:
        counts = np.bincount(self.reason[self.reason >= 0], minlength=len(FILTERS))
        return {name: int(counts[i]) for i, name in enumerate(FILTERS)}

    @property
    def components(self) -> np.ndarray:
        return components(self.features)


@dataclass(frozen=True)
class LeadScores:
    """One building (or one of its units) against many leads."""

    building: int
    reason: np.ndarray  # per lead row
    offer: np.ndarray  # per lead row: offer index into the snapshot's offer table, -1 if none
    order: np.ndarray  # candidate lead rows, best first
    features: np.ndarray
    scores: np.ndarray  # weighted sum before the diversity penalty
    penalty: np.ndarray
    incentive_3y: np.ndarray
    rent_relief_3y: np.ndarray
    weights: np.ndarray

    @property
    def final(self) -> np.ndarray:
        return self.scores - self.penalty

    @property
    def components(self) -> np.ndarray:
        return components(self.features)

    def excluded_counts(self) -> dict[str, int]:
        counts = np.bincount(self.reason[self.reason >= 0], minlength=len(FILTERS))
        return {name: int(counts[i]) for i, name in enumerate(FILTERS)}


def _price(
    incentives: IncentiveSource,
    snap: Snapshot,
    building: np.ndarray,
    lead_id: Any,
    profile: dict[str, Any],
    area: np.ndarray,
    rent: np.ndarray,
) -> IncentiveAmounts:
    if building.size == 0:
        empty = np.zeros(0)
        return IncentiveAmounts(empty, empty.copy())
    pairs = IncentivePairs(
        building=building,
        lead_id=np.broadcast_to(np.asarray(lead_id, dtype=np.int64), building.shape),
        area=area,
        rent=rent,
        on=dt.date.fromordinal(snap.on),
        **profile,
    )
    return incentives.amounts(pairs)


def _relief_share(relief: np.ndarray, area: np.ndarray, rent: np.ndarray) -> np.ndarray:
    """The share of the rent the rent relief covers, over the same three years."""
    rent_3y = area * np.nan_to_num(rent) * _RENT_YEARS
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(np.where(rent_3y > 0, relief / rent_3y, 0.0), 0.0, 1.0)


def _entry_env(
    snap: Snapshot, rows: np.ndarray, profile: dict[str, Any], area: Any, tax: Any
) -> dict[str, Any]:
    b = snap.buildings
    with np.errstate(divide="ignore", invalid="ignore"):
        per_m2 = np.where(np.asarray(area) > 0, np.asarray(tax, dtype=float) / np.asarray(area), 0.0)
    return {
        "industry_section": profile["section_code"],
        "industry_division": profile["division_code"],
        "expected_annual_tax": np.asarray(tax, dtype=float),
        "employees": profile["employees"],
        "is_headquarters": profile["is_headquarters"],
        "registers_in_district": profile["registers_in_district"],
        "settles_in_district": profile["settles_in_district"],
        "pays_tax_in_district": profile["pays_tax_in_district"],
        "area_m2": np.asarray(area, dtype=float),
        "expected_tax_per_m2": per_m2,
        "star_rating": b.star[rows],
        "featured_type": b.featured[rows],
        "street": b.street[rows],
        "business_circle": b.circle[rows],
    }


def entry_env(snap: Snapshot, lead: LeadQuery, row: int, offer: int) -> dict[str, Any]:
    """Plain values a building's entry condition reads for one lead and offer (for its explanation)."""
    env = _entry_env(
        snap,
        np.array([row]),
        _lead_profile(lead),
        snap.offers.area[[offer]] if offer >= 0 else np.array([lead.middle]),
        lead.expected_tax,
    )
    return {k: (v.item() if isinstance(v, np.ndarray) and v.size == 1 else v) for k, v in env.items()}


def _lead_profile(lead: LeadQuery) -> dict[str, Any]:
    """The lead as policies and entry conditions read it: its stated tax and its own intentions."""
    return {
        "division_code": lead.division_code,
        "section_code": lead.section_code,
        "expected_tax": lead.expected_tax,
        "employees": lead.employees,
        "is_headquarters": lead.is_headquarters,
        "registers_in_district": lead.registers_in_district,
        "settles_in_district": lead.settles_in_district,
        "pays_tax_in_district": lead.pays_tax_in_district,
    }


def _table_profile(leads: LeadTable, rows: np.ndarray) -> dict[str, Any]:
    return {
        "division_code": leads.division_code[rows],
        "section_code": leads.section_code[rows],
        "expected_tax": leads.expected_tax[rows],
        "employees": leads.employees[rows],
        "is_headquarters": leads.is_headquarters[rows],
        "registers_in_district": leads.registers_in_district[rows],
        "settles_in_district": leads.settles_in_district[rows],
        "pays_tax_in_district": leads.pays_tax_in_district[rows],
    }


def rank_buildings(
    snap: Snapshot,
    lead: LeadQuery,
    *,
    weights: np.ndarray,
    incentives: IncentiveSource,
    tolerance: float = DEFAULT_TOLERANCE,
    budget_cutoff: float = np.inf,
) -> BuildingScores:
    """Score every building of the snapshot for one lead; one pass, no loop over buildings."""
    b, offers = snap.buildings, snap.offers
    n_b = len(b)
    low, high = area_window(lead.area_min, lead.area_max)
    ok = (offers.area >= low) & (offers.area <= high)
    if snap.use_holds:
        held = (
            (snap.units.hold_lead >= 0)
            & (snap.units.hold_lead != lead.id)
            & (snap.units.hold_expires >= snap.on)
        )
        ok &= ~offers.blocked(held)
    has_space = any_per_building(offers, ok, n_b)
    ok &= offers.available_from <= lead.desired_move_in
    has_date = any_per_building(offers, ok, n_b)
    cost = np.abs(offers.area - lead.middle)
    in_service = b.in_service_since <= snap.on
    chosen = best_per_building(offers, ok, cost, n_b)
    chosen[~in_service] = -1
    rows = np.flatnonzero(chosen >= 0)
    profile = _lead_profile(lead)
    priced = _price(
        incentives, snap, rows, lead.id, profile, offers.area[chosen[rows]], offers.rent[chosen[rows]]
    )
    total = np.zeros(n_b)
    relief = np.zeros(n_b)
    total[rows], relief[rows] = priced.total_3y, priced.rent_relief_3y
    if not np.isnan(lead.budget) and rows.size:
        limit = lead.budget * (1.0 + tolerance)
        share = np.zeros(n_b)
        share[rows] = _relief_share(relief[rows], offers.area[chosen[rows]], offers.rent[chosen[rows]])
        effective = offers.rent * (1.0 - share[offers.building])
        affordable = ok & (np.isnan(offers.rent) | (effective <= limit + 1e-9))
        final = best_per_building(offers, affordable, cost, n_b)
        # Nothing within the limit: the closest offer stays, and its price is what the score weighs.
        final = np.where(final >= 0, final, chosen)
        final[~in_service] = -1
        moved = np.flatnonzero((final >= 0) & (final != chosen))
        if moved.size:
            again = _price(
                incentives,
                snap,
                moved,
                lead.id,
                profile,
                offers.area[final[moved]],
                offers.rent[final[moved]],
            )
            total[moved], relief[moved] = again.total_3y, again.rent_relief_3y
        chosen = final
        rows = np.flatnonzero(chosen >= 0)
    too_dear = np.zeros(n_b, dtype=bool)
    if np.isfinite(budget_cutoff) and not np.isnan(lead.budget) and rows.size:
        offer = chosen[rows]
        ratio = effective_rent(offers.rent[offer], relief[rows], offers.area[offer]) / max(lead.budget, 1e-9)
        too_dear[rows[ratio > budget_cutoff + 1e-9]] = True
        chosen[too_dear] = -1
        rows = np.flatnonzero(chosen >= 0)
    entry_fails = np.zeros(n_b, dtype=bool)
    for group in snap.entry:
        at = group.buildings[chosen[group.buildings] >= 0]
        if at.size:
            env = _entry_env(snap, at, profile, offers.area[chosen[at]], lead.expected_tax)
            entry_fails[at] = ~np.asarray(group.condition.test_many(env, at.size), dtype=bool)

    reason = np.full(n_b, -1, dtype=np.int64)
    reason[too_dear] = _REASON_CODE[BUDGET_CUTOFF]
    reason[~has_date] = _REASON_CODE[NOT_AVAILABLE]
    reason[~has_space] = _REASON_CODE[NO_SPACE]
    reason[~in_service] = _REASON_CODE[NOT_IN_SERVICE]
    reason[entry_fails] = _REASON_CODE[ENTRY]

    # An entry failure keeps its offer, so that the explanation can show what was tested.
    rows = np.flatnonzero((chosen >= 0) & ~entry_fails)
    offer = chosen[rows]
    main_kind, main_index = b.main_kind[rows], b.main_index[rows]
    division_main = main_kind == MAIN_DIVISION
    related_main = np.where(
        division_main,
        snap.related[lead.division, np.where(division_main, main_index, 0)],
        snap.related_section[lead.division, np.where(main_kind == MAIN_SECTION, main_index, 0)],
    )
    preferred = np.isin(b.street_id[rows], np.array(lead.preferred_streets, dtype=np.int64))
    x = features(
        lead_division=lead.division,
        lead_section=lead.section,
        area_min=lead.area_min,
        area_max=lead.area_max,
        budget=lead.budget,
        district_tax=lead.district_tax,
        entry_intentions=lead.entry_intentions,
        has_preference=bool(lead.preferred_streets),
        preferred=preferred,
        main_kind=main_kind,
        main_index=main_index,
        main_section_of_division=np.where(
            division_main, snap.industries.division_section[np.where(division_main, main_index, 0)], -1
        ),
        related_main=related_main,
        tenant_fit=snap.tenant_share[rows] @ snap.related[:, lead.division],
        star=b.star[rows],
        services=b.services[rows],
        featured=b.featured[rows] != "",
        tax_per_m2=snap.tax_per_m2[rows],
        shortfall=snap.shortfall[rows],
        offer_area=snap.offers.area[offer],
        offer_units=snap.offers.n_units[offer],
        offer_rent=snap.offers.rent[offer],
        offer_effective_rent=effective_rent(snap.offers.rent[offer], relief[rows], snap.offers.area[offer]),
        incentive_3y=total[rows],
    )
    scores = x @ weights
    order = np.lexsort((b.id[rows], -scores))
    return BuildingScores(
        lead=lead,
        reason=reason,
        offer=chosen,
        order=rows[order],
        features=x[order],
        scores=scores[order],
        incentive_3y=total[rows][order],
        rent_relief_3y=relief[rows][order],
        weights=weights,
    )


def _offer_holders(snap: Snapshot, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For offers `idx`: whether they contain a unit under a live hold, and the least and greatest holder."""
    offers, units = snap.offers, snap.units
    counts = offers.n_units[idx]
    which = np.repeat(np.arange(idx.size), counts)
    step = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    unit_rows = offers.members[offers.start[idx][which] + step]
    live = (units.hold_lead[unit_rows] >= 0) & (units.hold_expires[unit_rows] >= snap.on)
    held = np.bincount(which[live], minlength=idx.size) > 0
    low = np.full(idx.size, np.iinfo(np.int64).max)
    high = np.full(idx.size, -1, dtype=np.int64)
    np.minimum.at(low, which[live], units.hold_lead[unit_rows][live])
    np.maximum.at(high, which[live], units.hold_lead[unit_rows][live])
    return held, low, high


def _first_min(cost: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Per row, the first column of least allowed cost, or -1."""
    if cost.shape[1] == 0:
        return np.full(cost.shape[0], -1, dtype=np.int64)
    c = np.where(ok, cost, np.inf)
    j = np.argmin(c, axis=1)
    return np.where(np.isfinite(c[np.arange(c.shape[0]), j]), j, -1)


def rank_leads(
    snap: Snapshot,
    building: int,
    leads: LeadTable,
    *,
    weights: np.ndarray,
    incentives: IncentiveSource,
    tolerance: float = DEFAULT_TOLERANCE,
    budget_cutoff: float = np.inf,
    unit: int | None = None,
    exposure: np.ndarray | None = None,
    penalty: float = DIVERSITY_PENALTY,
) -> LeadScores:
    """Score many leads for one building row (or one unit row of it); one pass over the leads."""
    b, offers = snap.buildings, snap.offers
    n_l = len(leads)
    span = offers.of_building(building)
    idx = np.arange(span.start, span.stop)
    if unit is not None:
        idx = idx[offers.containing(unit)[idx]]
    reason = np.full(n_l, -1, dtype=np.int64)
    chosen = np.full(n_l, -1, dtype=np.int64)
    if b.in_service_since[building] > snap.on:
        reason[:] = _REASON_CODE[NOT_IN_SERVICE]
        return _empty_lead_scores(building, reason, chosen, weights)
    area, rent = offers.area[idx], offers.rent[idx]
    # Leads whose range misses every offer of the building are settled without the full matrix.
    low, high = area_window(leads.area_min, leads.area_max)
    near = np.flatnonzero(
        (high >= (area.min() if idx.size else np.inf)) & (low <= (area.max() if idx.size else -np.inf))
    )
    ok = (area[None, :] >= low[near, None]) & (area[None, :] <= high[near, None])
    if snap.use_holds and idx.size:
        held, low, high = _offer_holders(snap, idx)
        if held.any():
            own = (low == high)[None, :] & (high[None, :] == leads.id[near, None])
            ok &= ~(held[None, :] & ~own)
    has_space = np.zeros(n_l, dtype=bool)
    has_space[near] = ok.any(axis=1)
    ok &= offers.available_from[idx][None, :] <= leads.desired_move_in[near, None]
    has_date = np.zeros(n_l, dtype=bool)
    has_date[near] = ok.any(axis=1)
    cost = np.abs(area[None, :] - leads.middle[near, None])
    pick = _first_min(cost, ok)
    rows = near[pick >= 0]
    pick = pick[pick >= 0]
    profile = _table_profile(leads, rows)
    priced = _price(
        incentives, snap, np.full(rows.size, building), leads.id[rows], profile, area[pick], rent[pick]
    )
    total, relief = priced.total_3y, priced.rent_relief_3y
    budget = leads.budget[rows]
    with_budget = ~np.isnan(budget)
    if with_budget.any():
        limit = budget * (1.0 + tolerance)
        share = _relief_share(relief, area[pick], rent[pick])
        row_ok = ok[np.searchsorted(near, rows)]
        effective = rent[None, :] * (1.0 - share[:, None])
        row_ok &= np.isnan(rent)[None, :] | np.isnan(limit)[:, None] | (effective <= limit[:, None] + 1e-9)
        final = _first_min(cost[np.searchsorted(near, rows)], row_ok)
        # Nothing within the limit: the closest offer stays (as in the forward ranking).
        final = np.where(final >= 0, final, pick)
        moved = np.flatnonzero((final >= 0) & (final != pick))
        if moved.size:
            again = _price(
                incentives,
                snap,
                np.full(moved.size, building),
                leads.id[rows[moved]],
                _table_profile(leads, rows[moved]),
                area[final[moved]],
                rent[final[moved]],
            )
            total, relief = total.copy(), relief.copy()
            total[moved], relief[moved] = again.total_3y, again.rent_relief_3y
        pick = final
    too_dear = np.zeros(n_l, dtype=bool)
    if np.isfinite(budget_cutoff) and rows.size:
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = effective_rent(rent[pick], relief, area[pick]) / np.maximum(leads.budget[rows], 1e-9)
        dear = ratio > budget_cutoff + 1e-9  # NaN (no budget, unknown rent) never is
        too_dear[rows[dear]] = True
        rows, pick, total, relief = rows[~dear], pick[~dear], total[~dear], relief[~dear]
    entry_fails = np.zeros(n_l, dtype=bool)
    group_index = snap.entry_by_building.get(building)
    if group_index is not None and rows.size:
        group = snap.entry[group_index]
        env = _entry_env(
            snap,
            np.full(rows.size, building),
            _table_profile(leads, rows),
            area[pick],
            leads.expected_tax[rows],
        )
        fails = ~np.asarray(group.condition.test_many(env, rows.size), dtype=bool)
        entry_fails[rows[fails]] = True
        chosen[rows[fails]] = idx[pick[fails]]
        rows, pick, total, relief = rows[~fails], pick[~fails], total[~fails], relief[~fails]
    reason[too_dear] = _REASON_CODE[BUDGET_CUTOFF]
    reason[~has_date] = _REASON_CODE[NOT_AVAILABLE]
    reason[~has_space] = _REASON_CODE[NO_SPACE]
    reason[entry_fails] = _REASON_CODE[ENTRY]
    chosen[rows] = idx[pick]

    kind, main = b.main_kind[building], b.main_index[building]
    division = leads.division[rows]
    if kind == MAIN_DIVISION:
        related_main = snap.related[division, main]
        main_section = snap.industries.division_section[main]
    elif kind == MAIN_SECTION:
        related_main = snap.related_section[division, main]
        main_section = -1
    else:
        related_main = np.zeros(division.size)
        main_section = -1
    preferred = np.zeros(n_l, dtype=bool)
    preferred[leads.pref_lead[leads.pref_street == b.street_id[building]]] = True
    tenant_fit_all = snap.related.T @ snap.tenant_share[building]
    x = features(
        lead_division=division,
        lead_section=leads.section[rows],
        area_min=leads.area_min[rows],
        area_max=leads.area_max[rows],
        budget=leads.budget[rows],
        district_tax=leads.district_tax[rows],
        entry_intentions=leads.entry_intentions[rows],
        has_preference=leads.has_preference[rows],
        preferred=preferred[rows],
        main_kind=kind,
        main_index=main,
        main_section_of_division=main_section,
        related_main=related_main,
        tenant_fit=tenant_fit_all[division],
        star=b.star[building],
        services=b.services[building],
        featured=b.featured[building] != "",
        tax_per_m2=snap.tax_per_m2[building],
        shortfall=snap.shortfall[building],
        offer_area=area[pick],
        offer_units=offers.n_units[idx][pick],
        offer_rent=rent[pick],
        offer_effective_rent=effective_rent(rent[pick], relief, area[pick]),
        incentive_3y=total,
    )
    scores = x @ weights
    pen = np.zeros(rows.size) if exposure is None else penalty * exposure[rows]
    order = np.lexsort((leads.id[rows], -(scores - pen)))
    return LeadScores(
        building=building,
        reason=reason,
        offer=chosen,
        order=rows[order],
        features=x[order],
        scores=scores[order],
        penalty=pen[order],
        incentive_3y=total[order],
        rent_relief_3y=relief[order],
        weights=weights,
    )


def _empty_lead_scores(
    building: int, reason: np.ndarray, chosen: np.ndarray, weights: np.ndarray
) -> LeadScores:
    empty = np.zeros(0)
    return LeadScores(
        building=building,
        reason=reason,
        offer=chosen,
        order=np.zeros(0, dtype=np.int64),
        features=np.zeros((0, weights.size)),
        scores=empty,
        penalty=empty,
        incentive_3y=empty,
        rent_relief_3y=empty,
        weights=weights,
    )


def exposure_sample(snap: Snapshot, size: int = EXPOSURE_SAMPLE) -> np.ndarray:
    """Building rows whose lists measure exposure: those with the most vacant area on offer, by id."""
    offers = snap.offers
    single = offers.n_units == 1
    vacant = np.bincount(offers.building[single], weights=offers.area[single], minlength=len(snap.buildings))
    candidates = np.flatnonzero(vacant > 0)
    order = np.lexsort((snap.buildings.id[candidates], -vacant[candidates]))
    return candidates[order[:size]]


def lead_exposure(
    snap: Snapshot,
    leads: LeadTable,
    *,
    weights: np.ndarray,
    incentives: IncentiveSource,
    tolerance: float = DEFAULT_TOLERANCE,
    budget_cutoff: float = np.inf,
    sample: np.ndarray | None = None,
    top: int = EXPOSURE_TOP,
) -> np.ndarray:
    """Per lead row, the share of sampled buildings whose top-`top` list it is on (0–1)."""
    sample = exposure_sample(snap) if sample is None else sample
    counts = np.zeros(len(leads))
    for row in sample.tolist():  # a fixed handful of buildings, each a vectorised pass over all leads
        ranked = rank_leads(
            snap,
            row,
            leads,
            weights=weights,
            incentives=incentives,
            tolerance=tolerance,
            budget_cutoff=budget_cutoff,
        )
        counts[ranked.order[:top]] += 1
    return counts / max(len(sample), 1)


def rank_all(
    snap: Snapshot,
    leads: LeadTable,
    *,
    weights: np.ndarray,
    incentives: IncentiveSource,
    tolerance: float = DEFAULT_TOLERANCE,
    budget_cutoff: float = np.inf,
    top: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """Every lead against every building: the best `top` building rows per lead row and their scores
    (-1 and -inf where a lead has fewer). One vectorised pass over the leads per building."""
    n_l = len(leads)
    best_rows = np.full((n_l, top), -1, dtype=np.int64)
    best_scores = np.full((n_l, top), -np.inf)
    for building in range(len(snap.buildings)):
        ranked = rank_leads(
            snap,
            building,
            leads,
            weights=weights,
            incentives=incentives,
            tolerance=tolerance,
            budget_cutoff=budget_cutoff,
        )
        if ranked.order.size == 0:
            continue
        lead_rows, scores = ranked.order, ranked.scores
        worst = np.argmin(best_scores[lead_rows], axis=1)
        better = scores > best_scores[lead_rows, worst]
        best_scores[lead_rows[better], worst[better]] = scores[better]
        best_rows[lead_rows[better], worst[better]] = building
    # Sort each lead's list by score, then building id, so the batch is as deterministic as one ranking.
    ids = np.where(best_rows >= 0, snap.buildings.id[np.maximum(best_rows, 0)], np.iinfo(np.int64).max)
    order = np.lexsort((ids, -best_scores), axis=1)
    return np.take_along_axis(best_rows, order, axis=1), np.take_along_axis(best_scores, order, axis=1)

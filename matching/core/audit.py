"""The hard filters checked against outcomes: which of the buildings companies signed or toured a
filter would have removed on the decision day, and the pool a promoter without the product considers.

A constraint that companies break when they sign is not a hard filter. The audit measures, per kept
filter (types.FILTERS), the share of signed and of toured buildings it excluded, and the same for the
constraints that are features now (the former rent cut-off at budget × (1 + tolerance) and the
stated area range), so `evaluate_matching` shows what a wall there would cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching.core.features import effective_rent, overshoot
from matching.core.rank import BuildingScores
from matching.core.snapshot import Snapshot
from matching.core.types import BUDGET_CUTOFF, FILTERS, LeadQuery

OVER_BUDGET = "over_budget"  # rent after relief above budget × (1 + tolerance): the cut-off it was
OUTSIDE_RANGE = "outside_area_range"  # no offer whose area lies in the stated range
SOFT: tuple[str, ...] = (OVER_BUDGET, OUTSIDE_RANGE)
MAX_REMOVED_SHARE = 0.02  # a kept filter may remove at most this share of the signed buildings
RATIO_PERCENTILES = (50, 90, 95, 99)
CUTOFF_PERCENTILE = 99  # the budget cut-off: this percentile of rent after relief / budget, signed
CUTOFF_MIN_SIGNINGS = 30  # fewer signings with a budget than this: no cut-off
CUTOFF_FLOOR = 1.1  # never stricter than the fixed filter it replaced


def learned_budget_cutoff(ratios: Sequence[float]) -> float:
    """The highest rent after relief / budget still ranked: the 99th percentile among signed
    buildings (at least 1.1), or infinity (no cut-off) with too few signings to say."""
    known = np.array([r for r in ratios if np.isfinite(r)], dtype=float)
    if known.size < CUTOFF_MIN_SIGNINGS:
        return float("inf")
    return max(float(np.percentile(known, CUTOFF_PERCENTILE)), CUTOFF_FLOOR)


@dataclass(frozen=True)
class RangePool:
    """Building rows a promoter would consider (in service, a vacancy in the stated range), cheapest rent."""

    rows: np.ndarray
    rent: np.ndarray  # the cheapest asking rent among its offers in the range, NaN when unknown


def in_range_pool(snap: Snapshot, lead: LeadQuery) -> RangePool:
    """Every in-service building with an offer whose area lies in the lead's stated range."""
    offers, n_b = snap.offers, len(snap.buildings)
    fits = (offers.area >= lead.area_min) & (offers.area <= lead.area_max)
    fits &= snap.buildings.in_service_since[offers.building] <= snap.on
    rent = np.full(n_b, np.inf)
    np.minimum.at(
        rent, offers.building[fits], np.where(np.isnan(offers.rent[fits]), np.inf, offers.rent[fits])
    )
    has = np.bincount(offers.building[fits], minlength=n_b) > 0
    rows = np.flatnonzero(has)
    return RangePool(rows, np.where(np.isfinite(rent[rows]), rent[rows], np.nan))


def constraints_failed(
    snap: Snapshot, scores: BuildingScores, rows: np.ndarray, *, tolerance: float
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """For building rows `rows`: per kept filter and per soft constraint, whether it removes the
    building (a kept filter: the first that failed); and the rent after relief / budget of the offer
    the ranking chose (NaN when the building was excluded or budget or rent is unknown)."""
    rows = np.asarray(rows, dtype=np.int64)
    failed = {name: scores.reason[rows] == code for code, name in enumerate(FILTERS)}
    position = np.full(len(snap.buildings), -1, dtype=np.int64)
    position[scores.order] = np.arange(scores.order.size)
    listed = position[rows] >= 0
    ratio = np.full(rows.size, np.nan)
    at = rows[listed]
    if at.size:
        offer = scores.offer[at]
        relief = scores.rent_relief_3y[position[at]]
        effective = effective_rent(snap.offers.rent[offer], relief, snap.offers.area[offer])
        ratio[listed] = 1.0 + overshoot(effective, scores.lead.budget)
    with np.errstate(invalid="ignore"):
        failed[OVER_BUDGET] = listed & (ratio > 1.0 + tolerance + 1e-9)
    lead = scores.lead
    offers = snap.offers
    strict = (offers.area >= lead.area_min) & (offers.area <= lead.area_max)
    has_strict = np.bincount(offers.building[strict], minlength=len(snap.buildings)) > 0
    failed[OUTSIDE_RANGE] = listed & ~has_strict[rows]
    return failed, ratio


def audit_report(
    signed: Sequence[dict[str, bool]],
    toured: Sequence[dict[str, bool]],
    ratios: Sequence[float],
    toured_ratios: Sequence[float] = (),
) -> dict[str, Any]:
    """Per constraint: the share (and count) of signed and toured buildings it removes; whether it is
    a kept hard filter and, if so, whether it stays within MAX_REMOVED_SHARE of the signed buildings;
    the percentiles of rent after relief / budget among the signed buildings, and the budget cut-off
    learned from them (what it removes is counted from those ratios: buildings are audited uncut)."""
    cutoff = learned_budget_cutoff(ratios)
    # JSON (the stored report) has no infinity: no cut-off is None.
    result: dict[str, Any] = {
        "signed": len(signed),
        "toured": len(toured),
        "filters": {},
        "budget_cutoff": cutoff if np.isfinite(cutoff) else None,
    }
    with np.errstate(invalid="ignore"):
        dear_signed = [bool(r > cutoff + 1e-9) for r in ratios]
        dear_toured = [bool(r > cutoff + 1e-9) for r in toured_ratios]
    for name in (*FILTERS, *SOFT):
        if name == BUDGET_CUTOFF:
            n_signed, n_toured = sum(dear_signed), sum(dear_toured)
        else:
            n_signed = sum(bool(f.get(name)) for f in signed)
            n_toured = sum(bool(f.get(name)) for f in toured)
        share = n_signed / len(signed) if signed else 0.0
        result["filters"][name] = {
            "kept": name in FILTERS,
            "signed_removed": n_signed,
            "signed_removed_share": share,
            "toured_removed": n_toured,
            "toured_removed_share": n_toured / len(toured) if toured else 0.0,
            "within_limit": share <= MAX_REMOVED_SHARE,
        }
    known = np.array([r for r in ratios if np.isfinite(r)], dtype=float)
    result["rent_to_budget"] = {
        "signed_with_budget": int(known.size),
        "above_budget_share": float((known > 1.0 + 1e-9).mean()) if known.size else 0.0,
        "percentiles": {f"p{p}": float(np.percentile(known, p)) for p in RATIO_PERCENTILES}
        if known.size
        else {},
    }
    return result

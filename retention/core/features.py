"""The features of a tenancy's move-out risk on a day, from the history's arrays, and the two heuristics.

Every feature is computed from what was known on that day: tax of months before it, tenancies begun
by then, departures whose 60-day gap had passed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from retention.core.history import (
    GAP_DAYS,
    HORIZON_DAYS,
    LEAVE,
    NO_END,
    History,
    Tenancies,
    active_on,
    outcomes,
)

FEATURES = (
    "months_to_end",  # months to the lease end, 60 for an open-ended lease
    "ends_within_12",  # the lease ends within 12 months
    "open_ended",  # no end date recorded
    "tenancy_age",  # log(1 + years the enterprise has stayed in the building, renewals included)
    "tax_trend",  # log of the last four quarters' tax over the four before (0 without monthly records)
    "has_trend",  # monthly or quarterly records exist for the last 24 months
    "tax_per_m2_vs_median",  # log of the tenancy's tax per m² over its building's median
    "area_change",  # log of the enterprise's area over its area a year before (0 when new)
    "occupancy_trend",  # the building's occupancy now minus a year before (share of leasable area)
    "building_tier",  # 0 none, 1 near 千万, 2 千万, 3 near 亿, 4 亿 (last four quarters' tax)
    "industry_churn",  # the industry's smoothed departure rate over the last three years
    "headquarters",
    "registered",
)
CHURN_YEARS = 3
CHURN_PRIOR = 20.0  # tenancies' worth of the district's rate mixed into each industry's
TREND_CLIP = 3.0
MONTH_DAYS = 30.4375


@dataclass(frozen=True)
class TierThresholds:
    """The tax tiers' thresholds in yuan and the "near" ratio (crm.constants, NEAR_TIER_RATIO)."""

    ten_million: float
    billion: float
    near_ratio: float

    def ordinal(self, tax: np.ndarray) -> np.ndarray:
        edges = np.array(
            [
                self.ten_million * (1 - self.near_ratio),
                self.ten_million,
                self.billion * (1 - self.near_ratio),
                self.billion,
            ]
        )
        return np.searchsorted(edges, tax, side="right").astype(float)


@dataclass(frozen=True)
class FeatureRows:
    """The feature matrix of some tenancies on one day, with what the lists and heuristics need."""

    rows: np.ndarray  # tenancy indices
    x: np.ndarray  # (rows, len(FEATURES))
    tax_last_year: np.ndarray  # the tenancy's share of its enterprise's last four quarters' tax
    lease_heuristic: np.ndarray  # bool: lease ends within 12 months
    tax_fell_heuristic: np.ndarray  # bool: tax fell by more than 30 %
    building_tax: np.ndarray  # per building: its tenants' last four quarters' tax


def month_of(history: History, day: int) -> int:
    """The tax matrix's index of the month that contains `day`."""
    date = dt.date.fromordinal(day)
    return history.tax.month_index(date.year, date.month)


def _window(amount: np.ndarray, first: int, last: int) -> np.ndarray:
    first, last = max(first, 0), min(last, amount.shape[1])
    if last <= first:
        return np.zeros(amount.shape[0])
    return amount[:, first:last].sum(axis=1)


def _industry_churn(history: History, day: int) -> np.ndarray:
    """Per industry index (last slot: unknown), the share of its tenancies that left within a year,
    over snapshots whose outcome was known by `day`."""
    t, industries = history.tenancies, history.enterprises.industry
    size = int(industries.max(initial=-1)) + 2
    left, seen = np.zeros(size), np.zeros(size)
    for k in range(1, CHURN_YEARS + 1):
        then = day - GAP_DAYS - k * HORIZON_DAYS
        rows = active_on(t, then)
        if len(rows) == 0:
            continue
        industry = industries[t.enterprise[rows]]
        slot = np.where(industry < 0, size - 1, industry)
        labels = outcomes(t, rows, then) == LEAVE
        np.add.at(seen, slot, 1.0)
        np.add.at(left, slot, labels.astype(float))
    overall = left.sum() / seen.sum() if seen.sum() else 0.0
    return (left + CHURN_PRIOR * overall) / (seen + CHURN_PRIOR)


def stay_starts(tenancies: Tenancies) -> np.ndarray:
    """Per tenancy, the start of the enterprise's unbroken stay in its building: a lease renewed
    (the next tenancy there within GAP_DAYS of the end) continues the stay."""
    order = np.lexsort((tenancies.start, tenancies.building, tenancies.enterprise))
    stay = tenancies.start.copy()
    previous = -1
    for i in order:
        if (
            previous >= 0
            and tenancies.enterprise[i] == tenancies.enterprise[previous]
            and tenancies.building[i] == tenancies.building[previous]
            and tenancies.start[i] <= tenancies.end[previous] + GAP_DAYS
        ):
            stay[i] = stay[previous]
        previous = int(i)
    return stay


def _occupied(history: History, day: int) -> np.ndarray:
    t = history.tenancies
    rows = active_on(t, day)
    occupied = np.zeros(len(history.buildings.leasable_area))
    np.add.at(occupied, t.building[rows], t.area[rows])
    return occupied


def feature_rows(
    history: History, day: int, tiers: TierThresholds, rows: np.ndarray | None = None
) -> FeatureRows:
    """The features of `rows` (default: every tenancy active on `day`) as of `day`."""
    t, e, tax = history.tenancies, history.enterprises, history.tax
    rows = active_on(t, day) if rows is None else rows
    month = month_of(history, day)
    last12 = _window(tax.amount, month - 12, month)
    prev12 = _window(tax.amount, month - 24, month - 12)
    monthly = tax.monthly[:, max(month - 24, 0) : max(month, 0)]
    has_trend = (
        (monthly.shape[1] == 24) & monthly.all(axis=1) if monthly.shape[1] else np.zeros(len(last12), bool)
    )

    # An enterprise settled in several buildings has its tax split by area (domain.md).
    active = active_on(t, day)
    enterprise_area = np.zeros(len(e.industry))
    np.add.at(enterprise_area, t.enterprise[active], t.area[active])
    enterprise = t.enterprise[rows]
    share = t.area[rows] / np.maximum(enterprise_area[enterprise], 1e-9)
    tenancy_tax = last12[enterprise] * share

    building = t.building[rows]
    n_buildings = len(history.buildings.leasable_area)
    building_tax = np.zeros(n_buildings)
    np.add.at(building_tax, building, tenancy_tax)
    per_m2 = tenancy_tax / t.area[rows]
    median = np.zeros(n_buildings)
    order = np.argsort(building, kind="stable")
    bounds = np.flatnonzero(np.diff(building[order])) + 1
    for group in np.split(order, bounds):
        if len(group):
            median[building[group[0]]] = float(np.median(per_m2[group]))

    year_ago = day - HORIZON_DAYS
    before = active_on(t, year_ago)
    area_before = np.zeros(len(e.industry))
    np.add.at(area_before, t.enterprise[before], t.area[before])
    had = area_before[enterprise] > 0
    area_change = np.where(
        had,
        np.log(np.maximum(enterprise_area[enterprise], 1e-9) / np.where(had, area_before[enterprise], 1.0)),
        0.0,
    )

    leasable = history.buildings.leasable_area
    occupancy_trend = (_occupied(history, day) - _occupied(history, year_ago)) / leasable

    churn = _industry_churn(history, day)
    industry = e.industry[enterprise]
    churn_rate = churn[np.where(industry < 0, len(churn) - 1, industry)]

    end = t.end[rows]
    open_ended = end >= NO_END
    months_to_end = np.where(open_ended, 60.0, np.minimum((end - day) / MONTH_DAYS, 60.0))
    ends_within = ~open_ended & (end - day <= HORIZON_DAYS)
    trend = np.where(
        has_trend[enterprise],
        np.clip(np.log((last12[enterprise] + 1.0) / (prev12[enterprise] + 1.0)), -TREND_CLIP, TREND_CLIP),
        0.0,
    )
    x = np.column_stack(
        [
            months_to_end,
            ends_within.astype(float),
            open_ended.astype(float),
            np.log1p(np.maximum(day - stay_starts(t)[rows], 0) / 365.25),
            trend,
            has_trend[enterprise].astype(float),
            np.log((per_m2 + 1.0) / (median[building] + 1.0)),
            area_change,
            occupancy_trend[building],
            tiers.ordinal(building_tax)[building],
            churn_rate,
            e.headquarters[enterprise].astype(float),
            e.registered[enterprise].astype(float),
        ]
    )
    tax_fell = has_trend[enterprise] & (last12[enterprise] < 0.7 * prev12[enterprise])
    return FeatureRows(rows, x, tenancy_tax, ends_within, tax_fell, building_tax)

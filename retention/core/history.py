"""The district's tenancy history as plain arrays, and the label rule of a move-out.

Days are integers (date ordinals); an open-ended tenancy ends on NO_END. A tenancy *leaves* within a
horizon when it ends inside it and no other tenancy of the same enterprise in the district follows
within GAP_DAYS of its end (starts by then and lasts beyond it); when the follower is in another
building the tenancy is a *relocation*, which keeps the tax in the district and is reported apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NO_END = 10**7  # beyond any date ordinal (9999-12-31 is 3,652,059)
HORIZON_DAYS = 365  # "leaves within 12 months"
GAP_DAYS = 60  # a new tenancy within 60 days of the end is a continuation, not a departure

STAY, LEAVE, RELOCATE = 0, 1, 2


@dataclass(frozen=True)
class Tenancies:
    """Every tenancy: which enterprise, which building, its area and its period (day ordinals)."""

    enterprise: np.ndarray  # int, an index into Enterprises
    building: np.ndarray  # int, an index into Buildings
    area: np.ndarray  # float m²
    start: np.ndarray  # int day
    end: np.ndarray  # int day, NO_END when open


@dataclass(frozen=True)
class Enterprises:
    industry: np.ndarray  # int, an industry index, -1 unknown
    headquarters: np.ndarray  # bool
    registered: np.ndarray  # bool, registered in the district


@dataclass(frozen=True)
class Buildings:
    leasable_area: np.ndarray  # float m²


@dataclass(frozen=True)
class TaxMonths:
    """Tax as a (enterprises, months) matrix from month 0 = January of `first_year`; a yearly total
    is spread evenly over its twelve months and flagged so that no trend is read from it."""

    first_year: int
    amount: np.ndarray  # float (enterprises, months)
    monthly: np.ndarray  # bool (enterprises, months): recorded month by month

    def month_index(self, year: int, month: int) -> int:
        return (year - self.first_year) * 12 + month - 1


@dataclass(frozen=True)
class History:
    tenancies: Tenancies
    enterprises: Enterprises
    buildings: Buildings
    tax: TaxMonths


def active_on(tenancies: Tenancies, day: int) -> np.ndarray:
    """Indices of the tenancies active on `day` (start ≤ day ≤ end)."""
    return np.flatnonzero((tenancies.start <= day) & (tenancies.end >= day))


def outcomes(tenancies: Tenancies, rows: np.ndarray, day: int, *, horizon: int = HORIZON_DAYS) -> np.ndarray:
    """STAY, LEAVE or RELOCATE for each of `rows` within `horizon` days after `day`."""
    result = np.full(len(rows), STAY, dtype=np.int8)
    ending = rows[(tenancies.end[rows] > day) & (tenancies.end[rows] <= day + horizon)]
    if len(ending) == 0:
        return result
    order = np.argsort(tenancies.enterprise, kind="stable")
    sorted_enterprises = tenancies.enterprise[order]
    position = {int(row): i for i, row in enumerate(rows)}
    for row in ending:
        enterprise, end = tenancies.enterprise[row], tenancies.end[row]
        lo, hi = np.searchsorted(sorted_enterprises, [enterprise, enterprise + 1])
        others = order[lo:hi]
        others = others[others != row]
        follows = others[(tenancies.start[others] <= end + GAP_DAYS) & (tenancies.end[others] > end)]
        if len(follows) == 0:
            result[position[int(row)]] = LEAVE
        elif not np.any(tenancies.building[follows] == tenancies.building[row]):
            result[position[int(row)]] = RELOCATE
    return result

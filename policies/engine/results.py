"""What the evaluator gives back: per-benefit amounts with their arithmetic, per-policy outcomes,
one building's evaluation, and the totals of a batch of buildings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from policies.engine.terms import SHOWN_YEARS

APPLIED = "applied"
OUTRANKED = "outranked"  # eligible, but another policy of its stacking group is worth more
INELIGIBLE = "ineligible"
AWAITING_APPROVAL = "awaiting_approval"

_CENT = Decimal("0.01")


def yuan(fen: float) -> Decimal:
    """Whole fen as a Decimal amount of yuan with two places."""
    return (Decimal(int(round(fen))) / 100).quantize(_CENT)


def _money(values: Iterable[object]) -> list[str]:
    return [str(v) for v in values]


@dataclass(frozen=True)
class BenefitAmount:
    """What one benefit of one policy is worth, year by year, and how it was computed."""

    kind: str
    label_zh: str
    label_en: str
    beneficiary: str
    all_years: tuple[Decimal, ...]  # every year the engine follows (HORIZON_YEARS)
    uncapped_total: Decimal
    arithmetic: str

    @property
    def years(self) -> tuple[Decimal, ...]:
        return self.all_years[:SHOWN_YEARS]

    @property
    def total(self) -> Decimal:
        return sum(self.all_years, Decimal("0.00"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "beneficiary": self.beneficiary,
            "years": _money(self.all_years),
            "total": str(self.total),
            "uncapped_total": str(self.uncapped_total),
            "arithmetic": self.arithmetic,
        }


@dataclass(frozen=True)
class PolicyOutcome:
    """One policy's result for one applicant in one building."""

    policy_id: int
    name: str
    scope: str
    stacking_group: str
    priority: int
    status: str
    benefits: tuple[BenefitAmount, ...] = ()
    reason_zh: str = ""
    reason_en: str = ""

    @property
    def all_years(self) -> tuple[Decimal, ...]:
        if not self.benefits:
            return ()
        return tuple(
            sum(year, Decimal("0.00")) for year in zip(*(b.all_years for b in self.benefits), strict=True)
        )

    @property
    def total(self) -> Decimal:
        return sum((b.total for b in self.benefits), Decimal("0.00"))

    @property
    def reason(self) -> str:
        return f"{self.reason_zh} / {self.reason_en}" if self.reason_zh else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy_id": self.policy_id,
            "name": self.name,
            "scope": self.scope,
            "stacking_group": self.stacking_group,
            "priority": self.priority,
            "status": self.status,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
            "years": _money(self.all_years),
            "total": str(self.total),
            "benefits": [b.to_dict() for b in self.benefits],
        }


@dataclass(frozen=True)
class Evaluation:
    """Everything one applicant would get in one building for one offer."""

    building_id: int
    on: dt.date
    area_m2: float
    rent_per_m2_day: float
    tax_retained_share: float
    applied: tuple[PolicyOutcome, ...]
    outranked: tuple[PolicyOutcome, ...]
    ineligible: tuple[PolicyOutcome, ...]
    all_years: tuple[Decimal, ...]

    @property
    def years(self) -> tuple[Decimal, ...]:
        """The amounts of years 1, 2 and 3."""
        return self.all_years[:SHOWN_YEARS]

    @property
    def total(self) -> Decimal:
        """Everything the applied policies pay, over all years."""
        return sum(self.all_years, Decimal("0.00"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "building_id": self.building_id,
            "on": self.on.isoformat(),
            "area_m2": self.area_m2,
            "rent_per_m2_day": self.rent_per_m2_day,
            "tax_retained_share": self.tax_retained_share,
            "years": _money(self.all_years),
            "total": str(self.total),
            "applied": [o.to_dict() for o in self.applied],
            "outranked": [o.to_dict() for o in self.outranked],
            "ineligible": [o.to_dict() for o in self.ineligible],
        }


@dataclass(frozen=True)
class BatchEvaluation:
    """The totals for one applicant over many buildings, as arrays (row i is building_ids[i])."""

    building_ids: np.ndarray
    years_fen: np.ndarray  # (buildings, HORIZON_YEARS), whole fen
    applied_building: np.ndarray  # row index of each applied (building, policy) pair
    applied_policy_ids: np.ndarray

    @property
    def totals_yuan(self) -> np.ndarray:
        return self.years_fen.sum(axis=1) / 100.0

    def _row(self, building_id: int) -> int:
        rows = np.flatnonzero(self.building_ids == building_id)
        if rows.size == 0:
            raise KeyError(building_id)
        return int(rows[0])

    def years(self, building_id: int) -> tuple[Decimal, ...]:
        """Years 1–3 of one building, in yuan."""
        return tuple(yuan(f) for f in self.years_fen[self._row(building_id), :SHOWN_YEARS])

    def total(self, building_id: int) -> Decimal:
        return yuan(self.years_fen[self._row(building_id)].sum())

    def policy_ids(self, building_id: int) -> list[int]:
        row = self._row(building_id)
        return sorted(int(p) for p in self.applied_policy_ids[self.applied_building == row])

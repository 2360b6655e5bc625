"""Incentives for many (lead, building, offer) pairs at once, priced by the policy engine's rules.

The policy engine (`policies.engine`) prices one applicant against many buildings at one area. A
ranking needs each building at its own offer (area and rent), and a reverse ranking needs many
applicants against one building, so this module runs the engine's steps over arbitrary pairs:
scope → in force → bound lead → condition → amounts with caps (`amounts_fen`, the engine's own
arithmetic) → stacking groups (the most valuable policy of a group applies; ties to the higher
priority, then the lower id, as `PolicyBook._stack`). tests/matching/test_incentives.py checks it
against `PolicyBook.evaluate_many` so the two cannot drift apart. No Django import.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from matching.core.types import BuildingTable, IncentiveAmounts, IncentivePairs
from policies.engine import (
    HORIZON_YEARS,
    KINDS,
    SHOWN_YEARS,
    BenefitKind,
    BuildingFacts,
    PolicyBook,
    Scope,
)
from policies.engine.amounts import amounts_fen

_RENT_KINDS = (BenefitKind.RENT_SUBSIDY, BenefitKind.RENT_FREE)
_NO_ID = -1


@dataclass(frozen=True)
class _Priced:
    """(pair, policy) candidates that passed, what each pays per year, and which apply after stacking."""

    rows: np.ndarray
    policies: np.ndarray
    pair_fen: np.ndarray  # (candidates, HORIZON_YEARS)
    applied: np.ndarray
    row_pair: np.ndarray  # benefit row -> candidate
    row_benefit: np.ndarray  # benefit row -> benefit of the book
    capped: np.ndarray  # (benefit rows, HORIZON_YEARS) fen


def _expand(keys: np.ndarray, policies: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pair row, policy) for every pair whose key equals a policy's wanted key (binary search, no loop)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    low = np.searchsorted(sorted_keys, wanted, "left")
    counts = np.searchsorted(sorted_keys, wanted, "right") - low
    offsets = np.repeat(low - (np.cumsum(counts) - counts), counts)
    return order[np.arange(int(counts.sum())) + offsets], np.repeat(policies, counts)


class PolicyIncentives:
    """An IncentiveSource over a compiled PolicyBook and the district's buildings."""

    def __init__(self, book: PolicyBook, buildings: BuildingTable) -> None:
        self.book = book
        self.buildings = buildings
        policies = book.policies
        codes = {Scope.DISTRICT: 0, Scope.STREET: 1, Scope.BUSINESS_CIRCLE: 2, Scope.BUILDING: 3}
        self.scope = np.array([codes[p.scope] for p in policies], dtype=np.int64)
        self.scope_id = np.array(
            [_NO_ID if p.scope_id is None else p.scope_id for p in policies], dtype=np.int64
        )
        self.lead = np.array([_NO_ID if p.lead_id is None else p.lead_id for p in policies], dtype=np.int64)
        self.valid_from = np.array([p.valid_from.toordinal() for p in policies], dtype=np.int64)
        self.valid_to = np.array(
            [p.valid_to.toordinal() if p.valid_to else 2**40 for p in policies], dtype=np.int64
        )
        self.usable = np.array(
            [p.active and (not p.needs_approval or p.approved) for p in policies], dtype=bool
        )
        texts: dict[str, int] = {}
        self.condition_code = np.array(
            [texts.setdefault(c.text, len(texts)) for c in book.conditions], np.int64
        )
        by_text = {c.text: c for c in book.conditions}
        self.distinct = [by_text[t] for t in texts]
        self.rent_benefit = np.array([b.kind in _RENT_KINDS for b in book.benefits], dtype=bool)

    def __len__(self) -> int:
        return len(self.book)

    def _candidates(self, pairs: IncentivePairs) -> tuple[np.ndarray, np.ndarray]:
        day = pairs.on.toordinal()
        live = np.flatnonzero(self.usable & (self.valid_from <= day) & (day <= self.valid_to))
        n = len(pairs)
        b = self.buildings
        first = int(pairs.building[0])
        if (pairs.building == first).all():
            # One building (a reverse ranking): its policies are found once, every pair gets them all.
            own = (self.scope == 0) | (
                ((self.scope == 1) & (self.scope_id == b.street_id[first]))
                | ((self.scope == 2) & (self.scope_id == b.circle_id[first]))
                | ((self.scope == 3) & (self.scope_id == b.id[first]))
            )
            chosen = live[own[live]]
            rows, policies = np.tile(np.arange(n), chosen.size), np.repeat(chosen, n)
            bound = (self.lead[policies] == _NO_ID) | (self.lead[policies] == pairs.lead_id[rows])
            return rows[bound], policies[bound]
        scope = self.scope[live]
        district = live[scope == 0]
        parts_r = [np.tile(np.arange(n), district.size)]
        parts_p = [np.repeat(district, n)]
        keys = {1: b.street_id[pairs.building], 2: b.circle_id[pairs.building], 3: b.id[pairs.building]}
        for code in (1, 2, 3):
            chosen = live[scope == code]
            if chosen.size:
                rows, policies = _expand(keys[code], chosen, self.scope_id[chosen])
                parts_r.append(rows)
                parts_p.append(policies)
        rows, policies = np.concatenate(parts_r), np.concatenate(parts_p)
        # A case-by-case package binds its own lead only.
        bound = (self.lead[policies] == _NO_ID) | (self.lead[policies] == pairs.lead_id[rows])
        return rows[bound], policies[bound]

    def _env(self, pairs: IncentivePairs, rows: np.ndarray) -> dict[str, Any]:
        def at(value: Any) -> Any:
            return value[rows] if isinstance(value, np.ndarray) and value.ndim else value

        area = pairs.area[rows]
        tax = np.asarray(at(pairs.expected_tax), dtype=float)
        b = self.buildings
        building = pairs.building[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            per_m2 = np.where(area > 0, tax / area, 0.0)
        return {
            "industry_section": at(pairs.section_code),
            "industry_division": at(pairs.division_code),
            "area_m2": area,
            "expected_annual_tax": tax,
            "expected_tax_per_m2": per_m2,
            "employees": np.asarray(at(pairs.employees), dtype=float),
            "is_headquarters": at(pairs.is_headquarters),
            # Each lead's own intentions: a policy conditioned on registering here grants nothing
            # to a company that will register elsewhere.
            "registers_in_district": at(pairs.registers_in_district),
            "settles_in_district": at(pairs.settles_in_district),
            "pays_tax_in_district": at(pairs.pays_tax_in_district),
            "star_rating": b.star[building],
            "featured_type": b.featured[building],
            "street": b.street[building],
            "business_circle": b.circle[building],
        }

    def _evaluate(self, pairs: IncentivePairs) -> _Priced:
        n = len(pairs)
        rows, policies = self._candidates(pairs)
        keep = np.ones(rows.size, dtype=bool)
        codes = self.condition_code[policies]
        present = np.flatnonzero(np.bincount(codes, minlength=len(self.distinct)))
        for code in present.tolist():  # once per distinct condition text, not per pair
            condition = self.distinct[code]
            if condition.always:
                continue
            chosen = np.flatnonzero(codes == code)
            env = self._env(pairs, rows[chosen])
            keep[chosen] = np.asarray(condition.test_many(env, chosen.size), dtype=bool)
        rows, policies = rows[keep], policies[keep]
        book = self.book
        counts = book.benefit_count[policies]
        row_pair = np.repeat(np.arange(policies.size), counts)
        first = np.cumsum(counts) - counts
        row_benefit = book.benefit_start[policies][row_pair] + np.arange(row_pair.size) - first[row_pair]
        rent = np.where(
            np.isnan(pairs.rent), np.nan_to_num(self.buildings.reference_rent[pairs.building]), pairs.rent
        )
        tax = np.broadcast_to(np.asarray(pairs.expected_tax, dtype=float), (n,))
        at_pair = rows[row_pair]
        _, capped = amounts_fen(
            book.table,
            row_benefit,
            area_m2=pairs.area[at_pair],
            rent=rent[at_pair],
            retained_tax=tax[at_pair] * book.tax_retained_share,
        )
        pair_fen = np.zeros((policies.size, HORIZON_YEARS))
        for year in range(HORIZON_YEARS):
            pair_fen[:, year] = np.bincount(row_pair, weights=capped[:, year], minlength=policies.size)
        applied = self._stack(rows, policies, pair_fen.sum(axis=1))
        return _Priced(rows, policies, pair_fen, applied, row_pair, row_benefit, capped)

    def amounts(self, pairs: IncentivePairs) -> IncentiveAmounts:
        n = len(pairs)
        if n == 0 or len(self) == 0:
            return IncentiveAmounts(np.zeros(n), np.zeros(n))
        p = self._evaluate(pairs)
        shown = p.pair_fen[p.applied, :SHOWN_YEARS].sum(axis=1)
        total_fen = np.bincount(p.rows[p.applied], weights=shown, minlength=n)
        rent_rows = self.rent_benefit[p.row_benefit] & p.applied[p.row_pair]
        relief_fen = np.bincount(
            p.rows[p.row_pair][rent_rows], weights=p.capped[rent_rows, :SHOWN_YEARS].sum(axis=1), minlength=n
        )
        return IncentiveAmounts(np.rint(total_fen) / 100.0, np.rint(relief_fen) / 100.0)

    def _stack(self, rows: np.ndarray, policies: np.ndarray, value: np.ndarray) -> np.ndarray:
        book = self.book
        group = book.group[policies]
        applied = group < 0
        grouped = np.flatnonzero(~applied)
        if grouped.size:
            r, g = rows[grouped], group[grouped]
            p = policies[grouped]
            order = np.lexsort((book.ids[p], -book.priority[p], -value[grouped], g, r))
            r, g = r[order], g[order]
            first = np.ones(order.size, dtype=bool)
            first[1:] = (r[1:] != r[:-1]) | (g[1:] != g[:-1])
            applied[grouped[order[first]]] = True
        return applied

    # ------------------------------------------------------------------ explanations

    def facts(self, row: int) -> BuildingFacts:
        """One building as the policy engine reads it (for a full what-if evaluation elsewhere)."""
        b = self.buildings
        reference = float(b.reference_rent[row])
        return BuildingFacts(
            id=int(b.id[row]),
            street_id=int(b.street_id[row]),
            business_circle_id=None if b.circle_id[row] < 0 else int(b.circle_id[row]),
            street=str(b.street[row]),
            business_circle=str(b.circle[row]),
            star_rating=int(b.star[row]),
            featured_type=str(b.featured[row]),
            rent_per_m2_day=None if np.isnan(reference) else reference,
            name=str(b.name[row]),
        )

    def detail(self, pairs: IncentivePairs) -> list[dict[str, Any]]:
        """Per pair, the policies that apply and what each pays in years 1–3 (one vectorised pass)."""
        n = len(pairs)
        result: list[dict[str, Any]] = [{"policies": []} for _ in range(n)]
        if n == 0 or len(self) == 0:
            return result
        p = self._evaluate(pairs)
        applied = np.flatnonzero(p.applied)
        order = applied[np.lexsort((self.book.ids[p.policies[applied]], p.rows[applied]))]
        for k in order.tolist():  # the policies applied to the handful of results on screen
            policy = self.book.policies[int(p.policies[k])]
            benefits = np.flatnonzero(p.row_pair == k)
            years = p.pair_fen[k, :SHOWN_YEARS]
            result[int(p.rows[k])]["policies"].append(
                {
                    "policy_id": policy.id,
                    "name": policy.name,
                    "scope": policy.scope.value,
                    "years": [_yuan(f) for f in years],
                    "total_3y": _yuan(years.sum()),
                    "benefits": [
                        {
                            "kind": self.book.benefits[int(p.row_benefit[r])].kind.value,
                            "label": _label(self.book.benefits[int(p.row_benefit[r])].kind),
                            "total_3y": _yuan(p.capped[r, :SHOWN_YEARS].sum()),
                        }
                        for r in benefits.tolist()
                    ],
                }
            )
        return result


def _yuan(fen: float) -> str:
    return str((Decimal(int(round(float(fen)))) / 100).quantize(Decimal("0.01")))


def _label(kind: BenefitKind) -> str:
    info = KINDS[kind]
    return f"{info.label_zh} / {info.label_en}"

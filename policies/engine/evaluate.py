"""The evaluator: which policies apply to an applicant in a building, and what they pay, in yuan.

`PolicyBook` holds a set of policies compiled once (conditions parsed, benefits as columns, an index
by scope). `evaluate` explains one building in full; `evaluate_many` gives the totals for thousands
of buildings at once. Both run the same steps, in numpy over (building, policy) pairs:
scope → in force on the date → condition → amounts with caps → stacking groups → totals.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from policies.conditions import BUILDING_FIELDS, Condition, parse_condition
from policies.engine.amounts import amounts_fen, benefit_table, format_yuan, worked_sum
from policies.engine.results import (
    APPLIED,
    AWAITING_APPROVAL,
    INELIGIBLE,
    OUTRANKED,
    BatchEvaluation,
    BenefitAmount,
    Evaluation,
    PolicyOutcome,
    yuan,
)
from policies.engine.terms import (
    HORIZON_YEARS,
    KINDS,
    BuildingFacts,
    Offer,
    PolicyTerms,
    Profile,
    Scope,
)


def _scalar_env(profile: Profile, offer: Offer) -> dict[str, Any]:
    area = float(offer.area_m2)
    tax = float(profile.expected_annual_tax)
    return {
        "industry_section": profile.industry_section or "",
        "industry_division": profile.industry_division or "",
        "area_m2": area,
        "expected_annual_tax": tax,
        "expected_tax_per_m2": tax / area if area > 0 else 0.0,
        "employees": float(profile.employees),
        "is_headquarters": bool(profile.is_headquarters),
        "registers_in_district": bool(profile.registers_in_district),
        "settles_in_district": bool(profile.settles_in_district),
        "pays_tax_in_district": bool(profile.pays_tax_in_district),
    }


def _building_env(building: BuildingFacts) -> dict[str, Any]:
    return {
        "star_rating": float(building.star_rating),
        "featured_type": building.featured_type or "",
        "street": building.street or "",
        "business_circle": building.business_circle or "",
    }


_SCOPE_CODES = {Scope.DISTRICT: 0, Scope.STREET: 1, Scope.BUSINESS_CIRCLE: 2, Scope.BUILDING: 3}
_NO_ID = -1


def _expand(
    keys: np.ndarray, sorted_rows: np.ndarray, policies: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (building row, policy) for every building whose key equals the policy's wanted key.

    `sorted_rows` orders the buildings by `keys`, so each policy's buildings are one contiguous
    run found by binary search; this handles thousands of policies without a Python loop.
    """
    sorted_keys = keys[sorted_rows]
    low = np.searchsorted(sorted_keys, wanted, "left")
    counts = np.searchsorted(sorted_keys, wanted, "right") - low
    offsets = np.repeat(low - (np.cumsum(counts) - counts), counts)
    rows = sorted_rows[np.arange(int(counts.sum())) + offsets]
    return rows, np.repeat(policies, counts)


class _Batch:
    """The buildings of one call as columns, built only as far as the policies need them."""

    def __init__(self, buildings: Sequence[BuildingFacts]) -> None:
        self.buildings = buildings
        self.size = len(buildings)
        self._keys: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._columns: dict[str, np.ndarray] = {}

    def keys(self, scope_code: int) -> tuple[np.ndarray, np.ndarray]:
        """The buildings' street, circle or own ids, and the row order that sorts them."""
        found = self._keys.get(scope_code)
        if found is None:
            if scope_code == 1:
                values = (b.street_id for b in self.buildings)
            elif scope_code == 2:
                values = (
                    _NO_ID if b.business_circle_id is None else b.business_circle_id for b in self.buildings
                )
            else:
                values = (b.id for b in self.buildings)
            keys = np.fromiter(values, np.int64, self.size)
            found = (keys, np.argsort(keys, kind="stable"))
            self._keys[scope_code] = found
        return found

    def column(self, name: str) -> np.ndarray:
        found = self._columns.get(name)
        if found is None:
            if name == "star_rating":
                found = np.fromiter((b.star_rating for b in self.buildings), float, self.size)
            else:
                found = np.array([getattr(b, name) or "" for b in self.buildings], dtype=str)
            self._columns[name] = found
        return found


@dataclass
class _Pairs:
    """(building row, policy index) pairs that passed, and with `explain`, those that failed."""

    building: np.ndarray
    policy: np.ndarray
    failed: list[tuple[int, int]]


@dataclass
class _Amounts:
    pairs: _Pairs
    pair_fen: np.ndarray  # (pairs, years)
    applied: np.ndarray  # bool per pair
    row_pair: np.ndarray
    row_benefit: np.ndarray
    uncapped: np.ndarray
    capped: np.ndarray
    rent: np.ndarray  # per building row


class PolicyBook:
    """A set of policies, compiled once, with the district's retained share of tax."""

    def __init__(self, policies: Iterable[PolicyTerms], *, tax_retained_share: float) -> None:
        if not 0 <= tax_retained_share <= 1:
            raise ValueError("tax_retained_share must be between 0 and 1")
        self.policies: tuple[PolicyTerms, ...] = tuple(policies)
        self.tax_retained_share = float(tax_retained_share)
        self.conditions: tuple[Condition, ...] = tuple(parse_condition(p.condition) for p in self.policies)
        distinct: dict[str, int] = {}
        self._condition_code = np.array(
            [distinct.setdefault(c.text, len(distinct)) for c in self.conditions], dtype=np.int64
        )
        by_text = {c.text: c for c in self.conditions}
        self._distinct_conditions = [by_text[text] for text in distinct]
        self._scope = np.array([_SCOPE_CODES[p.scope] for p in self.policies], dtype=np.int64)
        self._scope_id = np.array(
            [_NO_ID if p.scope_id is None else p.scope_id for p in self.policies], dtype=np.int64
        )
        self._active = np.array([p.active for p in self.policies], dtype=bool)
        self._valid_from = np.array([p.valid_from.toordinal() for p in self.policies], dtype=np.int64)
        self._valid_to = np.array(
            [p.valid_to.toordinal() if p.valid_to else dt.date.max.toordinal() for p in self.policies],
            dtype=np.int64,
        )
        self._needs_approval = np.array([p.needs_approval for p in self.policies], dtype=bool)
        self._approved = np.array([p.approved for p in self.policies], dtype=bool)
        self._lead = np.array(
            [_NO_ID if p.lead_id is None else p.lead_id for p in self.policies], dtype=np.int64
        )
        self.benefits = tuple(b for p in self.policies for b in p.benefits)
        self.table = benefit_table(self.benefits)
        counts = np.array([len(p.benefits) for p in self.policies], dtype=np.int64)
        self.benefit_count = counts
        self.benefit_start = np.cumsum(counts) - counts
        group_codes: dict[str, int] = {}
        self.group = np.array(
            [
                group_codes.setdefault(p.stacking_group, len(group_codes)) if p.stacking_group else -1
                for p in self.policies
            ],
            dtype=np.int64,
        )
        self.priority = np.array([p.priority for p in self.policies], dtype=np.int64)
        self.ids = np.array([p.id for p in self.policies], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.policies)

    # -------------------------------------------------------------- the shared steps

    def _live(self, on: dt.date, lead_id: int | None) -> np.ndarray:
        """Indices of the policies in force on `on` for this applicant."""
        day = on.toordinal()
        lead = _NO_ID if lead_id is None else lead_id
        ok = (
            self._active
            & (self._valid_from <= day)
            & (day <= self._valid_to)
            & (~self._needs_approval | self._approved)
            & ((self._lead == _NO_ID) | (self._lead == lead))
        )
        return np.flatnonzero(ok)

    def _candidates(self, batch: _Batch, live: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(building row, policy) for every live policy and every building its scope covers."""
        scope = self._scope[live]
        district = live[scope == 0]
        parts_b = [np.tile(np.arange(batch.size), district.size)]
        parts_p = [np.repeat(district, batch.size)]
        for code in (1, 2, 3):
            chosen = live[scope == code]
            if chosen.size:
                keys, order = batch.keys(code)
                rows, policies = _expand(keys, order, chosen, self._scope_id[chosen])
                parts_b.append(rows)
                parts_p.append(policies)
        return np.concatenate(parts_b), np.concatenate(parts_p)

    def _pairs(self, profile: Profile, batch: _Batch, offer: Offer, *, explain: bool) -> _Pairs:
        rows, policies = self._candidates(batch, self._live(offer.on, profile.lead_id))
        env = _scalar_env(profile, offer)
        keep = np.ones(rows.size, dtype=bool)
        # Conditions are tested once per distinct condition, over all its pairs together.
        codes = self._condition_code[policies]
        order = np.argsort(codes, kind="stable")
        present, starts = np.unique(codes[order], return_index=True)
        ends = np.append(starts[1:], order.size) if starts.size else starts
        for code, start, end in zip(present.tolist(), starts.tolist(), ends.tolist(), strict=True):
            condition = self._distinct_conditions[code]
            if condition.always:
                continue
            chosen = order[start:end]
            if not condition.varies_by_building:
                keep[chosen] = condition.test(env)
            elif chosen.size == 1:
                keep[chosen] = condition.test({**env, **_building_env(batch.buildings[rows[chosen[0]]])})
            else:
                at = rows[chosen]
                columns = {name: batch.column(name)[at] for name in condition.fields & BUILDING_FIELDS}
                keep[chosen] = condition.test_many({**env, **columns}, chosen.size)
        failed = list(zip(rows[~keep].tolist(), policies[~keep].tolist(), strict=True)) if explain else []
        return _Pairs(rows[keep], policies[keep], failed)

    def _amounts(self, profile: Profile, batch: _Batch, offer: Offer, *, explain: bool) -> _Amounts:
        pairs = self._pairs(profile, batch, offer, explain=explain)
        if offer.rent_per_m2_day is not None:
            rent = np.full(batch.size, float(offer.rent_per_m2_day))
        else:
            rent = np.fromiter(
                (b.rent_per_m2_day or 0.0 for b in batch.buildings), dtype=float, count=batch.size
            )
        # One row per (pair, benefit of the pair's policy).
        counts = self.benefit_count[pairs.policy]
        row_pair = np.repeat(np.arange(pairs.policy.size), counts)
        first_row = np.cumsum(counts) - counts
        row_benefit = (
            self.benefit_start[pairs.policy][row_pair] + np.arange(row_pair.size) - first_row[row_pair]
        )
        uncapped, capped = amounts_fen(
            self.table,
            row_benefit,
            area_m2=float(offer.area_m2),
            rent=rent[pairs.building[row_pair]],
            retained_tax=float(profile.expected_annual_tax) * self.tax_retained_share,
            referred=profile.referred,
        )
        pair_fen = np.zeros((pairs.policy.size, HORIZON_YEARS))
        if row_pair.size:
            for year in range(HORIZON_YEARS):
                pair_fen[:, year] = np.bincount(
                    row_pair, weights=capped[:, year], minlength=pairs.policy.size
                )
        applied = self._stack(pairs, pair_fen.sum(axis=1))
        return _Amounts(pairs, pair_fen, applied, row_pair, row_benefit, uncapped, capped, rent)

    def _stack(self, pairs: _Pairs, value: np.ndarray) -> np.ndarray:
        """Within a stacking group, only the most valuable policy of each building applies.

        Ties go to the higher priority, then to the lower policy id, so the outcome is stable.
        """
        group = self.group[pairs.policy]
        applied = group < 0
        grouped = np.flatnonzero(~applied)
        if grouped.size:
            b, g = pairs.building[grouped], group[grouped]
            order = np.lexsort(
                (
                    self.ids[pairs.policy[grouped]],
                    -self.priority[pairs.policy[grouped]],
                    -value[grouped],
                    g,
                    b,
                )
            )
            b, g = b[order], g[order]
            first = np.ones(order.size, dtype=bool)
            first[1:] = (b[1:] != b[:-1]) | (g[1:] != g[:-1])
            applied[grouped[order[first]]] = True
        return applied

    # -------------------------------------------------------------- public

    def evaluate_many(
        self, profile: Profile, buildings: Sequence[BuildingFacts], offer: Offer
    ) -> BatchEvaluation:
        """Totals for one applicant and one offer (area, date; rent per building unless given)."""
        batch = _Batch(buildings)
        result = self._amounts(profile, batch, offer, explain=False)
        applied = result.applied
        years = np.zeros((batch.size, HORIZON_YEARS))
        rows = result.pairs.building[applied]
        for year in range(HORIZON_YEARS):
            years[:, year] = np.bincount(rows, weights=result.pair_fen[applied, year], minlength=batch.size)
        return BatchEvaluation(
            building_ids=np.fromiter((b.id for b in buildings), np.int64, batch.size),
            years_fen=np.rint(years).astype(np.int64),
            applied_building=rows,
            applied_policy_ids=self.ids[result.pairs.policy[applied]],
        )

    def evaluate(self, profile: Profile, building: BuildingFacts, offer: Offer) -> Evaluation:
        """One building in full: applied, outranked and ineligible policies, with arithmetic and reasons."""
        batch = _Batch([building])
        result = self._amounts(profile, batch, offer, explain=True)
        rent = float(result.rent[0])
        env = {**_scalar_env(profile, offer), **_building_env(building)}
        outcomes: dict[str, list[PolicyOutcome]] = defaultdict(list)
        value = result.pair_fen.sum(axis=1)
        winners = {
            int(self.group[p]): int(p)
            for p, ok in zip(result.pairs.policy, result.applied, strict=True)
            if ok and self.group[p] >= 0
        }
        for pair, index in enumerate(result.pairs.policy):
            policy = self.policies[index]
            amounts = []
            for row in np.flatnonzero(result.row_pair == pair):
                benefit = self.benefits[result.row_benefit[row]]
                info = KINDS[benefit.kind]
                amounts.append(
                    BenefitAmount(
                        kind=benefit.kind.value,
                        label_zh=info.label_zh,
                        label_en=info.label_en,
                        beneficiary=info.beneficiary,
                        all_years=tuple(yuan(f) for f in result.capped[row]),
                        uncapped_total=yuan(result.uncapped[row].sum()),
                        arithmetic=worked_sum(
                            benefit,
                            area_m2=float(offer.area_m2),
                            rent=rent,
                            expected_annual_tax=float(profile.expected_annual_tax),
                            tax_retained_share=self.tax_retained_share,
                            uncapped=result.uncapped[row],
                            capped=result.capped[row],
                            referred=profile.referred,
                        ),
                    )
                )
            if result.applied[pair]:
                status, zh, en = APPLIED, "", ""
            else:
                winner = self.policies[winners[int(self.group[index])]]
                status = OUTRANKED
                worth = format_yuan(value[pair])
                zh = f"同一叠加组“{policy.stacking_group}”中《{winner.name}》更优(本政策 {worth} 元)"
                en = (
                    f"in stacking group '{policy.stacking_group}', '{winner.name}' is worth more "
                    f"(this one: {worth} yuan)"
                )
            outcomes[status].append(self._outcome(policy, status, tuple(amounts), zh, en))
        for _, index in result.pairs.failed:
            policy = self.policies[index]
            zh, en = self.conditions[index].explain(env) or ("", "")
            outcomes[INELIGIBLE].append(self._outcome(policy, INELIGIBLE, (), zh, en))
        for policy in self.policies:
            # The applicant's own negotiated package shows while it waits for the district's approval.
            if (
                policy.needs_approval
                and not policy.approved
                and policy.lead_id is not None
                and policy.lead_id == profile.lead_id
                and policy.valid_on(offer.on)
                and _covers(policy, building)
            ):
                outcomes[INELIGIBLE].append(
                    self._outcome(
                        policy,
                        AWAITING_APPROVAL,
                        (),
                        "一事一议待区楼宇办审批",
                        "case-by-case terms await approval",
                    )
                )
        applied_rows = result.pair_fen[result.applied]
        return Evaluation(
            building_id=building.id,
            on=offer.on,
            area_m2=float(offer.area_m2),
            rent_per_m2_day=rent,
            tax_retained_share=self.tax_retained_share,
            applied=tuple(sorted(outcomes[APPLIED], key=_display_order)),
            outranked=tuple(sorted(outcomes[OUTRANKED], key=_display_order)),
            ineligible=tuple(sorted(outcomes[INELIGIBLE], key=_display_order)),
            all_years=tuple(yuan(f) for f in applied_rows.sum(axis=0)),
        )

    @staticmethod
    def _outcome(
        policy: PolicyTerms, status: str, benefits: tuple[BenefitAmount, ...], zh: str, en: str
    ) -> PolicyOutcome:
        return PolicyOutcome(
            policy_id=policy.id,
            name=policy.name,
            scope=policy.scope.value,
            stacking_group=policy.stacking_group,
            priority=policy.priority,
            status=status,
            benefits=benefits,
            reason_zh=zh,
            reason_en=en,
        )


def _covers(policy: PolicyTerms, building: BuildingFacts) -> bool:
    return (
        policy.scope == Scope.DISTRICT
        or (policy.scope == Scope.STREET and policy.scope_id == building.street_id)
        or (policy.scope == Scope.BUSINESS_CIRCLE and policy.scope_id == building.business_circle_id)
        or (policy.scope == Scope.BUILDING and policy.scope_id == building.id)
    )


def _display_order(outcome: PolicyOutcome) -> tuple[int, int]:
    return (-outcome.priority, outcome.policy_id)


def evaluate(profile: Profile, building: BuildingFacts, offer: Offer, book: PolicyBook) -> Evaluation:
    """What `profile` would get in `building` for `offer` under the policies of `book`."""
    return book.evaluate(profile, building, offer)


def evaluate_many(
    profile: Profile, buildings: Sequence[BuildingFacts], offer: Offer, book: PolicyBook
) -> BatchEvaluation:
    """The totals of `profile` in each of `buildings` for one offer, computed together."""
    return book.evaluate_many(profile, buildings, offer)

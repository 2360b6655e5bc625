"""Turning scores into what a promoter reads: the offer, each component's contribution, the
incentives, the reasons a result ranks where it does, and why excluded buildings are out."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from matching.core.features import effective_rent, overshoot
from matching.core.rank import BuildingScores, LeadScores, entry_env
from matching.core.snapshot import Snapshot
from matching.core.types import (
    ALWAYS,
    COMPONENT_LABELS,
    COMPONENTS,
    ENTRY,
    FILTER_LABELS,
    FILTERS,
    MAIN_DIVISION,
    MAIN_SECTION,
    MEMBERSHIP,
    IncentivePairs,
    IncentiveSource,
    LeadTable,
)
from policies.engine.amounts import yuan_text

REASONS_SHOWN = 3
REASON_MIN_EFFECT = 0.005  # a component this close to the average is not a reason


@dataclass(frozen=True)
class OfferView:
    unit_ids: list[int]
    units: list[str]
    floor: int
    area_m2: float
    rent: float | None  # yuan/m²/day asked, area-weighted
    effective_rent: float | None  # after the rent relief, averaged over three years
    available_from: str | None


@dataclass(frozen=True)
class Reason:
    component: str
    effect: float  # contribution minus the average contribution of the ranked list
    text: str


@dataclass(frozen=True)
class RankedBuilding:
    rank: int
    building_id: int
    building_name: str
    street: str
    score: float
    components: dict[str, float]
    contributions: dict[str, float]
    offer: OfferView
    incentive_3y: float
    rent_relief_3y: float
    over_budget: float | None  # (rent after relief − budget) / budget when above the budget, exact
    incentives: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RankedLead:
    rank: int
    lead_id: int
    score: float
    penalty: float
    final_score: float
    components: dict[str, float]
    contributions: dict[str, float]
    offer: OfferView
    incentive_3y: float
    over_budget: float | None  # as RankedBuilding.over_budget
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Exclusion:
    building_id: int
    building_name: str
    reason: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _over_budget(snap: Snapshot, offer: int, rent_relief_3y: float, budget: float) -> float | None:
    """The exact share by which the offer's rent after relief exceeds the budget; None when within it."""
    share = float(
        overshoot(effective_rent(snap.offers.rent[offer], rent_relief_3y, snap.offers.area[offer]), budget)
    )
    return share if np.isfinite(share) and share > 0 else None


def _offer_view(snap: Snapshot, offer: int, rent_relief_3y: float) -> OfferView:
    offers, units = snap.offers, snap.units
    rows = offers.units_of(offer)
    rent = float(offers.rent[offer])
    area = float(offers.area[offer])
    effective = None if np.isnan(rent) else float(effective_rent(rent, rent_relief_3y, area))
    available = int(offers.available_from[offer])
    return OfferView(
        unit_ids=[int(u) for u in units.id[rows]],
        units=[str(n) for n in units.number[rows]],
        floor=int(offers.floor[offer]),
        area_m2=round(area, 2),
        rent=None if np.isnan(rent) else round(rent, 4),
        effective_rent=None if effective is None else round(effective, 4),
        available_from=None if available <= ALWAYS else dt.date.fromordinal(available).isoformat(),
    )


# A reason's text in Chinese and in English. The two are composed apart and joined only at the end
# (bilingual), so that every clause of a reason, its "held back by" and its gap included, falls in the
# half of its own language: the pages and the API show one half, in the reader's language.
Texts = tuple[str, str]


def bilingual(text: Texts) -> str:
    """The one "中文 / English" form the services' messages use (crm.api.exceptions.in_language)."""
    return f"{text[0]} / {text[1]}"


def _industry_text(snap: Snapshot, lead_division: int, lead_section: int, row: int, value: float) -> Texts:
    b, ind = snap.buildings, snap.industries
    kind, main = int(b.main_kind[row]), int(b.main_index[row])
    tenants = float(snap.tenant_share[row] @ snap.related[:, lead_division])
    tail_zh, tail_en = (
        f"与在驻企业产业关联度 {tenants:.2f}",
        f"relatedness to the current tenants {tenants:.2f}",
    )
    if kind == MAIN_DIVISION and main == lead_division:
        code = ind.divisions[main]
        return (
            f"与楼宇主导产业同属 {code} {ind.name(code)};{tail_zh}",
            f"same division as the building's main industry ({code}); {tail_en}",
        )
    same_section = (kind == MAIN_DIVISION and int(ind.division_section[main]) == lead_section) or (
        kind == MAIN_SECTION and main == lead_section
    )
    if same_section:
        letter = ind.sections[lead_section]
        return (
            f"与楼宇主导产业同属 {letter} 门类;{tail_zh}",
            f"same section ({letter}) as the building's main industry; {tail_en}",
        )
    return f"{tail_zh}(产业契合 {value:.2f})", f"{tail_en} (industry fit {value:.2f})"


def _component_text(
    snap: Snapshot,
    component: str,
    *,
    row: int,
    offer: OfferView,
    value: float,
    lead_division: int,
    lead_section: int,
    area_min: float,
    area_max: float,
    budget: float,
    district_tax: float,
    intends: tuple[bool, bool, bool],
    has_preference: bool,
    preferred: bool,
    incentive_3y: float,
    over_budget: float | None,
) -> Texts:
    b = snap.buildings
    if component == "industry":
        return _industry_text(snap, lead_division, lead_section, row, value)
    if component == "space":
        units = "、".join(offer.units)
        if not area_min <= offer.area_m2 <= area_max:
            return (
                f"可提供 {offer.area_m2:g}㎡({offer.floor} 层 {units}),"
                f"略超出需求 {area_min:g}–{area_max:g}㎡",
                f"offers {offer.area_m2:g} m² (floor {offer.floor}: {', '.join(offer.units)}), "
                f"a little outside the {area_min:g}–{area_max:g} m² asked",
            )
        return (
            f"可提供 {offer.area_m2:g}㎡({offer.floor} 层 {units}),需求 {area_min:g}–{area_max:g}㎡",
            f"offers {offer.area_m2:g} m² (floor {offer.floor}: {', '.join(offer.units)}) "
            f"for {area_min:g}–{area_max:g} m² asked",
        )
    if component == "price":
        if offer.rent is None:
            return "租金未知", "rent unknown"
        if np.isnan(budget):
            return f"租金 {offer.rent:.2f} 元/㎡·天,未填预算", f"rent {offer.rent:.2f} yuan/m²/day, no budget"
        effective = offer.rent if offer.effective_rent is None else offer.effective_rent
        after_zh, after_en = (
            (f"(扣除租金补贴后 {effective:.2f})", f" ({effective:.2f} after rent relief)")
            if effective < offer.rent
            else ("", "")
        )
        if over_budget is not None:
            return (
                f"超预算 {over_budget:.0%}:租金 {offer.rent:.2f} 元/㎡·天{after_zh},预算 {budget:.2f}",
                f"{over_budget:.0%} over budget: rent {offer.rent:.2f} yuan/m²/day{after_en} "
                f"against a budget of {budget:.2f}",
            )
        return (
            f"租金 {offer.rent:.2f} 元/㎡·天{after_zh},预算 {budget:.2f}",
            f"rent {offer.rent:.2f} yuan/m²/day{after_en} against a budget of {budget:.2f}",
        )
    if component == "incentive":
        if incentive_3y <= 0:
            return "无适用政策", "no incentive applies"
        # By the one yuan formatter, so the reason and the card's amount beside it read alike.
        worth = yuan_text(incentive_3y)
        return (
            f"三年政策兑现约 {worth} 元(约为三年租金的 {value:.0%})",
            f"incentives of {worth} yuan over three years (about {value:.0%} of the rent)",
        )
    if component == "quality":
        stars, services = int(b.star[row]), int(b.services[row])
        featured = str(b.featured[row])
        extra_zh = f",特色楼宇 {featured}" if featured else ""
        extra_en = f", featured ({featured})" if featured else ""
        return (
            f"{stars} 星楼宇,配套服务 {services} 项{extra_zh}",
            f"{stars}-star building with {services} services{extra_en}",
        )
    if component == "district":
        registers, settles, pays = intends
        if pays:
            per_m2 = district_tax / offer.area_m2 if offer.area_m2 > 0 else 0.0
            zh = f"预计每平方米税收 {per_m2:,.0f} 元(楼宇现为 {snap.tax_per_m2[row]:,.0f} 元)"
            en = f"expected tax {per_m2:,.0f} yuan per m² (the building: {snap.tax_per_m2[row]:,.0f})"
        else:
            zh, en = "不在区内纳税,不计税收", "will pay its tax elsewhere: no tax counted"
        shortfall, tier = float(snap.shortfall[row]), str(snap.next_tier[row])
        if shortfall > 0 and district_tax > 0:
            share = min(1.0, district_tax / shortfall)
            zh += f";可补足距{tier}缺口的 {share:.0%}"
            en += f"; closes {share:.0%} of the gap to {tier}"
        missing = [
            (zh_word, en_word)
            for stated, zh_word, en_word in (
                (registers, "区内注册", "register"),
                (settles, "区内结算", "settle accounts"),
                (pays, "区内纳税", "pay tax"),
            )
            if not stated
        ]
        if missing:
            zh += f";未达准入门槛(不拟{'、'.join(word for word, _ in missing)})"
            en += f"; short of the entry threshold (will not {', '.join(word for _, word in missing)} here)"
        return zh, en
    if component == "preference":
        street = str(b.street[row])
        if not has_preference:
            return "未指定意向镇街", "no preferred street given"
        if preferred:
            return f"位于意向镇街 {street}", f"in a preferred street ({street})"
        return f"不在意向镇街({street})", f"not in a preferred street ({street})"
    raise ValueError(component)


def _held_back(component: int, effect: float, texts: dict[str, Texts]) -> Reason:
    label_zh, label_en = COMPONENT_LABELS[COMPONENTS[component]]
    zh, en = texts[COMPONENTS[component]]
    return Reason(
        COMPONENTS[component],
        round(float(effect), 4),
        bilingual((f"不足之处({label_zh}):{zh}", f"held back by {label_en}: {en}")),
    )


def _reasons(effects: np.ndarray, texts: dict[str, Texts], *, over_budget: bool = False) -> list[Reason]:
    """The components that lift a result most above the list's average, then the one holding it back
    most; a result above the lead's budget always says so (a promoter must not learn it at the tour)."""
    order = np.argsort(-effects, kind="stable")
    reasons = [
        Reason(COMPONENTS[i], round(float(effects[i]), 4), bilingual(texts[COMPONENTS[i]]))
        for i in order[:REASONS_SHOWN]
        if effects[i] > REASON_MIN_EFFECT
    ]
    worst = int(order[-1])
    if effects[worst] < -REASON_MIN_EFFECT:
        reasons.append(_held_back(worst, effects[worst], texts))
    price = COMPONENTS.index("price")
    if over_budget and all(r.component != "price" for r in reasons):
        reasons.append(_held_back(price, effects[price], texts))
    return reasons


def explain_buildings(
    snap: Snapshot,
    scores: BuildingScores,
    *,
    incentives: IncentiveSource,
    limit: int,
    details: bool = True,
) -> list[RankedBuilding]:
    """The first `limit` results of a building ranking, explained."""
    lead = scores.lead
    b, offers = snap.buildings, snap.offers
    shown = min(limit, scores.order.size)
    contributions = (scores.features * scores.weights) @ MEMBERSHIP
    average = contributions.mean(axis=0) if contributions.size else np.zeros(len(COMPONENTS))
    component_values = scores.components
    rows = scores.order[:shown]
    picked = scores.offer[rows]
    detail: list[dict[str, Any]] = [{} for _ in range(shown)]
    if details and shown:
        detail = (
            incentives.detail(
                IncentivePairs(
                    building=rows,
                    lead_id=np.full(shown, lead.id, dtype=np.int64),
                    division_code=lead.division_code,
                    section_code=lead.section_code,
                    expected_tax=lead.expected_tax,
                    employees=lead.employees,
                    is_headquarters=lead.is_headquarters,
                    registers_in_district=lead.registers_in_district,
                    settles_in_district=lead.settles_in_district,
                    pays_tax_in_district=lead.pays_tax_in_district,
                    area=offers.area[picked],
                    rent=offers.rent[picked],
                    on=snap.on_date,
                )
            )
            or detail
        )
    results = []
    for i in range(shown):  # the handful of results on screen
        row, offer = int(rows[i]), int(picked[i])
        view = _offer_view(snap, offer, float(scores.rent_relief_3y[i]))
        over = _over_budget(snap, offer, float(scores.rent_relief_3y[i]), lead.budget)
        values = component_values[i]
        texts = {
            c: _component_text(
                snap,
                c,
                row=row,
                offer=view,
                value=float(values[k]),
                lead_division=lead.division,
                lead_section=lead.section,
                area_min=lead.area_min,
                area_max=lead.area_max,
                budget=lead.budget,
                district_tax=lead.district_tax,
                intends=(lead.registers_in_district, lead.settles_in_district, lead.pays_tax_in_district),
                has_preference=bool(lead.preferred_streets),
                preferred=int(b.street_id[row]) in lead.preferred_streets,
                incentive_3y=float(scores.incentive_3y[i]),
                over_budget=over,
            )
            for k, c in enumerate(COMPONENTS)
        }
        results.append(
            RankedBuilding(
                rank=i + 1,
                building_id=int(b.id[row]),
                building_name=str(b.name[row]),
                street=str(b.street[row]),
                score=round(float(scores.scores[i]), 6),
                components={c: round(float(values[k]), 6) for k, c in enumerate(COMPONENTS)},
                contributions={c: round(float(contributions[i, k]), 6) for k, c in enumerate(COMPONENTS)},
                offer=view,
                incentive_3y=float(scores.incentive_3y[i]),
                rent_relief_3y=float(scores.rent_relief_3y[i]),
                over_budget=over,
                incentives=detail[i].get("policies", []) if detail[i] else [],
                reasons=_reasons(contributions[i] - average, texts, over_budget=over is not None),
            )
        )
    return results


def exclusions(snap: Snapshot, scores: BuildingScores) -> list[Exclusion]:
    """Every excluded building with the filter that excluded it, in building order."""
    b = snap.buildings
    excluded = np.flatnonzero(scores.reason >= 0)
    result = []
    for row in excluded.tolist():  # on request only: the caller asked for the excluded list
        name = FILTERS[int(scores.reason[row])]
        zh, en = FILTER_LABELS[name]
        message = f"{zh} / {en}"
        if name == ENTRY:
            group = snap.entry[snap.entry_by_building[row]]
            why = group.condition.explain(entry_env(snap, scores.lead, row, int(scores.offer[row])))
            if why:
                message = f"{zh}:{why[0]} / {en}: {why[1]}"
        result.append(Exclusion(int(b.id[row]), str(b.name[row]), name, message))
    return result


def explain_leads(snap: Snapshot, scores: LeadScores, leads: LeadTable, *, limit: int) -> list[RankedLead]:
    """The first `limit` results of a lead ranking for one building, explained."""
    row = scores.building
    shown = min(limit, scores.order.size)
    contributions = (scores.features * scores.weights) @ MEMBERSHIP
    average = contributions.mean(axis=0) if contributions.size else np.zeros(len(COMPONENTS))
    component_values = scores.components
    street = int(snap.buildings.street_id[row])
    results = []
    for i in range(shown):
        lead_row = int(scores.order[i])
        offer = int(scores.offer[lead_row])
        view = _offer_view(snap, offer, float(scores.rent_relief_3y[i]))
        over = _over_budget(snap, offer, float(scores.rent_relief_3y[i]), float(leads.budget[lead_row]))
        values = component_values[i]
        preferred = bool(((leads.pref_lead == lead_row) & (leads.pref_street == street)).any())
        texts = {
            c: _component_text(
                snap,
                c,
                row=row,
                offer=view,
                value=float(values[k]),
                lead_division=int(leads.division[lead_row]),
                lead_section=int(leads.section[lead_row]),
                area_min=float(leads.area_min[lead_row]),
                area_max=float(leads.area_max[lead_row]),
                budget=float(leads.budget[lead_row]),
                district_tax=float(leads.district_tax[lead_row]),
                intends=(
                    bool(leads.registers_in_district[lead_row]),
                    bool(leads.settles_in_district[lead_row]),
                    bool(leads.pays_tax_in_district[lead_row]),
                ),
                has_preference=bool(leads.has_preference[lead_row]),
                preferred=preferred,
                incentive_3y=float(scores.incentive_3y[i]),
                over_budget=over,
            )
            for k, c in enumerate(COMPONENTS)
        }
        results.append(
            RankedLead(
                rank=i + 1,
                lead_id=int(leads.id[lead_row]),
                score=round(float(scores.scores[i]), 6),
                penalty=round(float(scores.penalty[i]), 6),
                final_score=round(float(scores.scores[i] - scores.penalty[i]), 6),
                components={c: round(float(values[k]), 6) for k, c in enumerate(COMPONENTS)},
                contributions={c: round(float(contributions[i, k]), 6) for k, c in enumerate(COMPONENTS)},
                offer=view,
                incentive_3y=float(scores.incentive_3y[i]),
                over_budget=over,
                reasons=_reasons(contributions[i] - average, texts, over_budget=over is not None),
            )
        )
    return results

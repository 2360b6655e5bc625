"""The plain arrays and records the ranking core works on: no Django, no database.

Dates are proleptic ordinals (`datetime.date.toordinal()`) in int64 columns, so that "available by
the move-in date" is one vectorised comparison; ALWAYS and NEVER stand for a blank date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

import numpy as np

ALWAYS = -(2**40)  # a blank "available from": available at any date
NEVER = 2**40  # a blank end date or desired move-in: open-ended

# The score's components, in the order of every feature matrix and weight vector.
COMPONENTS: tuple[str, ...] = (
    "industry",
    "space",
    "price",
    "incentive",
    "quality",
    "district",
    "preference",
)
COMPONENT_LABELS: dict[str, tuple[str, str]] = {
    "industry": ("产业契合", "industry fit"),
    "space": ("面积契合", "space fit"),
    "price": ("价格契合", "price fit"),
    "incentive": ("政策价值", "incentive value"),
    "quality": ("楼宇品质", "building quality"),
    "district": ("区域目标", "district goal"),
    "preference": ("区位偏好", "preference"),
}
# Cold-start weights (docs/matching.md explains each); they sum to 1, so a score lies in [0, 1].
DEFAULT_WEIGHTS: dict[str, float] = {
    "industry": 0.30,
    "space": 0.15,
    "price": 0.15,
    "incentive": 0.10,
    "quality": 0.10,
    "district": 0.15,
    "preference": 0.05,
}
DEFAULT_VERSION = 0  # the model version that means "default weights, nothing learned yet"

# Each component is a fixed blend of a few features (docs/matching.md). The score is linear in the
# features, so the default weights reproduce the component formulas exactly, and a learned model
# may weigh, say, a building's designation apart from its tenants. (name, component, share)
FEATURES: tuple[tuple[str, str, float], ...] = (
    ("industry.designation", "industry", 0.5),  # designation, where the building has a main industry
    ("industry.tenants", "industry", 0.5),  # fit with the tenants, where it has a main industry
    ("industry.tenants_only", "industry", 1.0),  # fit with the tenants, where it has none
    ("space", "space", 0.8),  # closeness to the middle of the range
    ("space.within_range", "space", 0.2),  # 1 inside the range, 0 at the far edge of the near window
    # Rent after rent relief against the budget: two ramps, so a learned model can price a small
    # overshoot apart from a large one, and the saving below the budget.
    ("price.within_budget", "price", 0.25),  # 1 up to the budget, 0 at 20 % over it
    ("price.within_budget_wide", "price", 0.25),  # 1 up to the budget, 0 at 60 % over it
    ("price.saving", "price", 0.5),  # 0 at the budget, 1 at half of it
    ("incentive", "incentive", 1.0),
    ("quality.stars", "quality", 0.5),
    ("quality.services", "quality", 0.3),
    ("quality.featured", "quality", 0.2),
    # Tax counts only from a company that pays it here (LeadQuery.district_tax).
    ("district.tax_per_m2", "district", 0.25),
    ("district.tier_gap", "district", 0.25),
    ("district.main_industry", "district", 0.25),
    # The plan's first condition of entry (四(1)): the share of register / settle accounts / pay tax
    # here that the lead intends. A feature, not a filter: such a lead signs with the district's approval.
    ("district.entry_intentions", "district", 0.25),
    ("preference", "preference", 1.0),
)
FEATURE_NAMES: tuple[str, ...] = tuple(name for name, _, _ in FEATURES)
# Features of the lead alone, the same for every building it is ranked against: they reorder the
# leads of a reverse ranking but no building list, so outcomes (which building a company picked)
# cannot teach their weight; a learned model keeps their default weight (learn.fit_weights).
LEAD_FEATURES: tuple[str, ...] = ("district.entry_intentions",)
FEATURE_COMPONENT = np.array([COMPONENTS.index(component) for _, component, _ in FEATURES], dtype=np.int64)
# (features, components): a feature's share in its component, and plain membership.
TO_COMPONENTS = np.zeros((len(FEATURES), len(COMPONENTS)))
TO_COMPONENTS[np.arange(len(FEATURES)), FEATURE_COMPONENT] = [share for _, _, share in FEATURES]
MEMBERSHIP = (TO_COMPONENTS > 0).astype(float)
# Features never non-zero together: a building has a main industry or it has not.
_WITH_MAIN = [FEATURE_NAMES.index("industry.designation"), FEATURE_NAMES.index("industry.tenants")]
_WITHOUT_MAIN = [FEATURE_NAMES.index("industry.tenants_only")]

# Hard filters, in the order they are applied; a building excluded carries the first that failed.
# Only what makes a signing impossible excludes: rent and the exact area range are features
# (companies sign above budget and a little outside their range; docs/matching.md's filter audit).
NOT_IN_SERVICE = "not_in_service"
NO_SPACE = "no_space"
NOT_AVAILABLE = "not_available"
# Rent after relief above the cut-off learned from the signings (the 99th percentile of rent after
# relief / budget among signed buildings, stored with the model; none before a model is trained).
BUDGET_CUTOFF = "over_budget_cutoff"
ENTRY = "entry_condition"
FILTERS: tuple[str, ...] = (NOT_IN_SERVICE, NO_SPACE, NOT_AVAILABLE, BUDGET_CUTOFF, ENTRY)
FILTER_LABELS: dict[str, tuple[str, str]] = {
    NOT_IN_SERVICE: ("楼宇尚未投用", "the building is not in service yet"),
    NO_SPACE: (
        "面积需求附近没有空置房源(单个单元或同层单元合计)",
        "no vacant unit, or vacant units on one floor, of an area near the range asked",
    ),
    NOT_AVAILABLE: (
        "合适房源在期望入驻日期前不能交付",
        "the fitting space is not available by the move-in date",
    ),
    BUDGET_CUTOFF: (
        "扣除租金补贴后租金超出预算过多(超过以往签约的 99% 分位)",
        "rent after relief is further above budget than 99 % of past signings",
    ),
    ENTRY: ("不符合楼宇入驻条件", "the building's entry conditions exclude the company"),
}

UNIT_VACANT, UNIT_RESERVED, UNIT_LEASED, UNIT_SELF_USED, UNIT_UNAVAILABLE = range(5)
UNIT_STATUS_CODES = {
    "vacant": UNIT_VACANT,
    "reserved": UNIT_RESERVED,
    "leased": UNIT_LEASED,
    "self_used": UNIT_SELF_USED,
    "unavailable": UNIT_UNAVAILABLE,
}

MAIN_NONE, MAIN_SECTION, MAIN_DIVISION = 0, 1, 2


def ordinal(day: dt.date | None, blank: int) -> int:
    return blank if day is None else day.toordinal()


class MatchingInputError(ValueError):
    """A lead (or a request) the ranking cannot work with; `field` names what is missing or wrong."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        self.field, self.zh, self.en = field, zh, en
        super().__init__(f"{zh} / {en}")

    @property
    def message(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Industries:
    """The GB/T 4754 divisions and sections, indexed 0..n-1 for the arrays."""

    divisions: tuple[str, ...]  # two-digit codes
    division_section: np.ndarray  # int64: section index of each division
    sections: tuple[str, ...]  # letters
    names: Mapping[str, str] = field(default_factory=dict)  # code -> Chinese name, for explanations

    def __post_init__(self) -> None:
        object.__setattr__(self, "_division_index", {c: i for i, c in enumerate(self.divisions)})
        object.__setattr__(self, "_section_index", {c: i for i, c in enumerate(self.sections)})

    def division(self, code: str | None) -> int:
        return self._division_index.get(code or "", -1)  # type: ignore[attr-defined]

    def section(self, letter: str | None) -> int:
        return self._section_index.get(letter or "", -1)  # type: ignore[attr-defined]

    def name(self, code: str) -> str:
        return self.names.get(code, "")


@dataclass(frozen=True)
class BuildingTable:
    """Every building of the district as columns; row i is building `id[i]`."""

    id: np.ndarray  # int64
    name: np.ndarray  # object (str)
    street_id: np.ndarray  # int64
    street: np.ndarray  # str: street name, as policy and entry conditions read it
    circle_id: np.ndarray  # int64, -1 when none
    circle: np.ndarray  # str
    main_kind: np.ndarray  # int8: MAIN_NONE, MAIN_SECTION or MAIN_DIVISION
    main_index: np.ndarray  # int64: division index or section index, -1 when none
    main_code: np.ndarray  # str: "J", "72" or ""
    star: np.ndarray  # float64, 0–5, as it holds on the ranking date
    services: np.ndarray  # float64, 0–3: party organisation, intermediary services, smart platform
    featured: np.ndarray  # str: featured type, "" when none
    in_service_since: np.ndarray  # int64 ordinal, ALWAYS when blank
    reference_rent: np.ndarray  # float64 yuan/m²/day, NaN when the building gives no range

    def __len__(self) -> int:
        return int(self.id.size)


@dataclass(frozen=True)
class UnitTable:
    """Units as columns, sorted by building row, floor and unit number (natural order)."""

    id: np.ndarray  # int64
    building: np.ndarray  # int64 building row
    floor: np.ndarray  # int64
    number: np.ndarray  # object (str)
    area: np.ndarray  # float64 m²
    rent: np.ndarray  # float64 asking rent, the building's reference rent when blank, NaN when neither
    available_from: np.ndarray  # int64 ordinal, ALWAYS when blank
    status: np.ndarray  # int8, UNIT_* codes
    hold_lead: np.ndarray  # int64 lead id of the live hold, -1 when none
    hold_expires: np.ndarray  # int64 ordinal of the live hold's expiry

    def __len__(self) -> int:
        return int(self.id.size)


@dataclass(frozen=True)
class TenancyTable:
    """Tenancies as columns: who occupied how much of which building, when, in which division."""

    building: np.ndarray  # int64 building row
    division: np.ndarray  # int64 division index, -1 when the enterprise has no industry
    area: np.ndarray  # float64
    start: np.ndarray  # int64 ordinal
    end: np.ndarray  # int64 ordinal, NEVER when open

    def active(self, on: int) -> np.ndarray:
        return (self.start <= on) & (self.end >= on)


@dataclass(frozen=True)
class LinkTable:
    """Which unit each tenancy took and when: the unit rows and periods, to rebuild vacancy as of a date."""

    unit: np.ndarray  # int64 unit row
    start: np.ndarray
    end: np.ndarray


class EntryCondition(Protocol):
    """What the ranking needs of a building's entry condition (policies.conditions.Condition has it)."""

    def test(self, env: Mapping[str, Any]) -> bool: ...

    def test_many(self, env: Mapping[str, Any], size: int) -> np.ndarray: ...

    def explain(self, env: Mapping[str, Any]) -> tuple[str, str] | None: ...


@dataclass(frozen=True)
class EntryRule:
    """A building's entry condition: any object with the policy condition interface."""

    building: int  # building row
    condition: EntryCondition
    text: str


@dataclass(frozen=True)
class LeadQuery:
    """One lead as the ranking reads it; build it with `lead_query` so that bad input is refused."""

    id: int
    division: int
    section: int
    division_code: str
    section_code: str
    area_min: float
    area_max: float
    budget: float  # NaN when the lead gave none
    expected_tax: float  # yuan a year the company expects to pay, wherever it pays it; 0 when unknown
    desired_move_in: int  # ordinal, NEVER when blank
    preferred_streets: tuple[int, ...] = ()
    employees: float = 0.0
    is_headquarters: bool = False
    # The plan's entry threshold as the lead states it (四(1)): entry conditions and policies read
    # it, and the district-goal features count tax only from a company that pays it here.
    registers_in_district: bool = True
    settles_in_district: bool = True
    pays_tax_in_district: bool = True

    @property
    def middle(self) -> float:
        return (self.area_min + self.area_max) / 2.0

    @property
    def district_tax(self) -> float:
        """The tax the district would receive a year: none from a company that pays it elsewhere."""
        return self.expected_tax if self.pays_tax_in_district else 0.0

    @property
    def entry_intentions(self) -> float:
        """The share of the plan's three entry intentions (register, settle, pay tax here) it states."""
        return (self.registers_in_district + self.settles_in_district + self.pays_tax_in_district) / 3.0


def lead_query(
    *,
    id: int,
    industries: Industries,
    division_code: str | None,
    area_min: float | None,
    area_max: float | None,
    budget: float | None = None,
    expected_tax: float | None = None,
    desired_move_in: dt.date | None = None,
    preferred_streets: Sequence[int] = (),
    employees: float | None = None,
    is_headquarters: bool = False,
    registers_in_district: bool = True,
    settles_in_district: bool = True,
    pays_tax_in_district: bool = True,
) -> LeadQuery:
    """A checked LeadQuery: a lead without industry or area, or with an inverted range, is refused."""
    if not division_code:
        raise MatchingInputError(
            "industry", "线索缺少行业(国民经济行业大类),无法匹配楼宇", "the lead has no industry division"
        )
    division = industries.division(division_code)
    if division < 0:
        raise MatchingInputError(
            "industry",
            f"线索行业 {division_code} 不是国民经济行业大类代码",
            f"the lead's industry {division_code} is not a GB/T 4754 division",
        )
    missing = [
        name for name, value in (("area_min_m2", area_min), ("area_max_m2", area_max)) if value is None
    ]
    if missing:
        names = "、".join(missing)
        raise MatchingInputError(
            missing[0],
            f"线索缺少面积需求({names}),无法匹配房源",
            f"the lead has no area range ({', '.join(missing)} missing)",
        )
    area_min, area_max = float(area_min), float(area_max)  # type: ignore[arg-type]
    if area_min <= 0 or area_max <= 0:
        raise MatchingInputError(
            "area_min_m2" if area_min <= 0 else "area_max_m2",
            "面积需求必须大于0",
            "the area range must be greater than 0",
        )
    if area_min > area_max:
        raise MatchingInputError(
            "area_max_m2",
            f"面积需求上下限颠倒:最小 {area_min:g}㎡ 大于最大 {area_max:g}㎡",
            f"the area range is inverted: minimum {area_min:g} m² is above maximum {area_max:g} m²",
        )
    if budget is not None and float(budget) < 0:
        raise MatchingInputError("budget_rent", "租金预算不能为负", "the rent budget cannot be negative")
    section = int(industries.division_section[division])
    return LeadQuery(
        id=int(id),
        division=division,
        section=section,
        division_code=division_code,
        section_code=industries.sections[section],
        area_min=area_min,
        area_max=area_max,
        budget=float("nan") if budget is None else float(budget),
        expected_tax=float(expected_tax or 0.0),
        desired_move_in=ordinal(desired_move_in, NEVER),
        preferred_streets=tuple(sorted({int(s) for s in preferred_streets})),
        employees=float(employees or 0.0),
        is_headquarters=bool(is_headquarters),
        registers_in_district=bool(registers_in_district),
        settles_in_district=bool(settles_in_district),
        pays_tax_in_district=bool(pays_tax_in_district),
    )


@dataclass(frozen=True)
class LeadTable:
    """Many (valid) leads as columns, for ranking leads for a building; row i is lead `id[i]`."""

    id: np.ndarray
    division: np.ndarray
    section: np.ndarray
    division_code: np.ndarray  # str
    section_code: np.ndarray  # str
    area_min: np.ndarray
    area_max: np.ndarray
    budget: np.ndarray  # NaN when none
    expected_tax: np.ndarray
    desired_move_in: np.ndarray
    employees: np.ndarray
    is_headquarters: np.ndarray  # bool
    registers_in_district: np.ndarray  # bool: the plan's entry intentions, as on LeadQuery
    settles_in_district: np.ndarray  # bool
    pays_tax_in_district: np.ndarray  # bool
    pref_lead: np.ndarray  # (lead row, street id) pairs of preferred streets
    pref_street: np.ndarray
    has_preference: np.ndarray  # bool
    invalid: Mapping[str, int] = field(default_factory=dict)  # leads left out, counted by missing field

    def __len__(self) -> int:
        return int(self.id.size)

    @property
    def middle(self) -> np.ndarray:
        return (self.area_min + self.area_max) / 2.0

    @property
    def district_tax(self) -> np.ndarray:
        """Per lead, the tax the district would receive a year (LeadQuery.district_tax)."""
        return np.where(self.pays_tax_in_district, self.expected_tax, 0.0)

    @property
    def entry_intentions(self) -> np.ndarray:
        """Per lead, the share of the three entry intentions it states (LeadQuery.entry_intentions)."""
        stated = (
            self.registers_in_district.astype(float)
            + self.settles_in_district.astype(float)
            + self.pays_tax_in_district.astype(float)
        )
        return stated / 3.0

    @staticmethod
    def of(queries: Sequence[LeadQuery], invalid: Mapping[str, int] | None = None) -> LeadTable:
        pref = [(row, s) for row, q in enumerate(queries) for s in q.preferred_streets]

        def column(name: str, dtype: Any) -> np.ndarray:
            return np.array([getattr(q, name) for q in queries], dtype=dtype)

        return LeadTable(
            id=column("id", np.int64),
            division=column("division", np.int64),
            section=column("section", np.int64),
            division_code=column("division_code", str) if queries else np.array([], dtype=str),
            section_code=column("section_code", str) if queries else np.array([], dtype=str),
            area_min=column("area_min", float),
            area_max=column("area_max", float),
            budget=column("budget", float),
            expected_tax=column("expected_tax", float),
            desired_move_in=column("desired_move_in", np.int64),
            employees=column("employees", float),
            is_headquarters=column("is_headquarters", bool),
            registers_in_district=column("registers_in_district", bool),
            settles_in_district=column("settles_in_district", bool),
            pays_tax_in_district=column("pays_tax_in_district", bool),
            pref_lead=np.array([p[0] for p in pref], dtype=np.int64),
            pref_street=np.array([p[1] for p in pref], dtype=np.int64),
            has_preference=np.array([bool(q.preferred_streets) for q in queries], dtype=bool),
            invalid=dict(invalid or {}),
        )

    def take(self, rows: np.ndarray) -> LeadTable:
        """The leads at `rows`, in that order, as a table of their own (their preferred streets
        renumbered to the new rows); ranking it ranks each of them as in the whole table."""
        rows = np.asarray(rows, dtype=np.int64)
        renumbered = np.full(len(self), -1, dtype=np.int64)
        renumbered[rows] = np.arange(rows.size, dtype=np.int64)
        kept = renumbered[self.pref_lead] >= 0
        columns = {f.name: getattr(self, f.name)[rows] for f in fields(self) if f.name in _ROW_COLUMNS}
        return LeadTable(
            **columns,
            pref_lead=renumbered[self.pref_lead[kept]],
            pref_street=self.pref_street[kept],
            invalid={},
        )

    def fingerprints(self) -> dict[int, str]:
        """Lead id -> a digest of everything its ranking reads of it (its row and preferred streets):
        two tables' digests of a lead differ exactly when its ranking may."""
        streets: dict[int, list[int]] = {}
        for row, street in zip(self.pref_lead.tolist(), self.pref_street.tolist(), strict=True):
            streets.setdefault(row, []).append(street)
        columns = [getattr(self, name).tolist() for name in _ROW_COLUMNS]
        digests = {}
        for row, lead_id in enumerate(self.id.tolist()):
            values = [column[row] for column in columns] + sorted(streets.get(row, []))
            digests[lead_id] = hashlib.blake2b(repr(values).encode(), digest_size=8).hexdigest()
        return digests


# LeadTable's columns with one value per lead row (the preferred streets are pairs).
# A lead's own columns, one value per row: every field but its preferred-street pairs and the count
# of leads left out. Derived, so a column added to the table is taken and fingerprinted too.
_ROW_COLUMNS = tuple(
    f.name for f in fields(LeadTable) if f.name not in ("pref_lead", "pref_street", "invalid")
)


@dataclass(frozen=True)
class IncentiveAmounts:
    """What the policies pay each (lead, building, offer) pair over the first three years, in yuan."""

    total_3y: np.ndarray
    rent_relief_3y: np.ndarray  # the part that lowers the rent: rent subsidies and rent-free months


@dataclass(frozen=True)
class IncentivePairs:
    """(lead, building, offer) pairs to price; profile columns are scalars or arrays of the pairs' length.

    The entry intentions have no default: a policy conditioned on registering, settling accounts or
    paying tax here must see what each lead states, never an assumed yes."""

    building: np.ndarray  # building rows
    lead_id: np.ndarray  # int64
    division_code: Any
    section_code: Any
    expected_tax: Any  # as the lead states it, as the policy engine's Profile carries it
    employees: Any
    is_headquarters: Any
    registers_in_district: Any  # bool
    settles_in_district: Any
    pays_tax_in_district: Any
    area: np.ndarray
    rent: np.ndarray  # NaN: the building's reference rent
    on: dt.date

    def __len__(self) -> int:
        return int(self.building.size)


class IncentiveSource(Protocol):
    """Prices incentives for many pairs at once (matching.core.incentives wraps the policy engine)."""

    def amounts(self, pairs: IncentivePairs) -> IncentiveAmounts: ...

    def detail(self, pairs: IncentivePairs) -> list[dict[str, Any]]: ...


class NoIncentives:
    """A district with no incentive policies: every amount is 0."""

    def amounts(self, pairs: IncentivePairs) -> IncentiveAmounts:
        zero = np.zeros(len(pairs))
        return IncentiveAmounts(zero, zero.copy())

    def detail(self, pairs: IncentivePairs) -> list[dict[str, Any]]:
        return []


def weight_vector(weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Feature weights from component weights (each spread over its features by their shares) or
    from feature weights (a learned model's; a lead feature it does not name keeps its default)."""
    weights = DEFAULT_WEIGHTS if weights is None else weights
    if set(weights) <= set(COMPONENTS):
        by_component = np.array([float(weights.get(c, 0.0)) for c in COMPONENTS])
        vector = TO_COMPONENTS @ by_component
    elif set(weights) <= set(FEATURE_NAMES):
        vector = np.array([float(weights.get(f, 0.0)) for f in FEATURE_NAMES])
        # A model stored before a lead feature existed learned nothing of it (no model does): it
        # ranks with that feature's default weight, as a model trained now would.
        default = TO_COMPONENTS @ np.array([DEFAULT_WEIGHTS[c] for c in COMPONENTS])
        for name in set(LEAD_FEATURES) - set(weights):
            vector[FEATURE_NAMES.index(name)] = default[FEATURE_NAMES.index(name)]
    else:
        unknown = set(weights) - set(COMPONENTS) - set(FEATURE_NAMES)
        raise ValueError(f"unknown score components or features: {sorted(unknown)}")
    if (vector < 0).any() or not np.isfinite(vector).all():
        raise ValueError("weights must be finite and not negative")
    return vector


def score_scale(weights: np.ndarray) -> float:
    """The highest score the feature weights can give (features in [0, 1]); 1 for the defaults."""
    others = np.ones(len(FEATURE_NAMES), dtype=bool)
    others[_WITH_MAIN + _WITHOUT_MAIN] = False
    industry = max(weights[_WITH_MAIN].sum(), weights[_WITHOUT_MAIN].sum())
    return float(industry + weights[others].sum())


def named_weights(weights: np.ndarray) -> dict[str, float]:
    return {name: round(float(w), 6) for name, w in zip(FEATURE_NAMES, weights, strict=True)}


def make_industries(divisions: Sequence[tuple[str, str, str]]) -> Industries:
    """Industries from (division code, section letter, Chinese name) rows, in code order."""
    rows = sorted(divisions)
    sections = tuple(sorted({section for _, section, _ in rows}))
    index = {letter: i for i, letter in enumerate(sections)}
    return Industries(
        divisions=tuple(code for code, _, _ in rows),
        division_section=np.array([index[section] for _, section, _ in rows], dtype=np.int64),
        sections=sections,
        names={code: name for code, _, name in rows},
    )

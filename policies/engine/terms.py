"""What the evaluator takes in: policies and their benefits, an applicant, a building, an offer.

Plain frozen dataclasses with no Django import. The rules a benefit's parameters must follow live
here once (`benefit_problems`); the Django models call them on save and mirror them as constraints.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass

# Years the evaluator follows a benefit; an evaluation shows the first three and the total.
HORIZON_YEARS = 5
SHOWN_YEARS = 3
MAX_MONTHS = 12 * HORIZON_YEARS
DAYS_PER_YEAR = 365


class Scope(enum.StrEnum):
    DISTRICT = "district"
    STREET = "street"
    BUSINESS_CIRCLE = "business_circle"
    BUILDING = "building"


SCOPE_LABELS = {
    Scope.DISTRICT: ("全区", "district-wide"),
    Scope.STREET: ("镇街", "street"),
    Scope.BUSINESS_CIRCLE: ("商圈", "business circle"),
    Scope.BUILDING: ("楼宇", "building"),
}


class BenefitKind(enum.StrEnum):
    RENT_SUBSIDY = "rent_subsidy"
    RENT_FREE = "rent_free"
    SETTLEMENT_SUBSIDY = "settlement_subsidy"
    TAX_REWARD = "tax_reward"
    ONE_OFF_AWARD = "one_off_award"
    RENOVATION_SUBSIDY = "renovation_subsidy"
    REFERRAL_REWARD = "referral_reward"


COMPANY = "company"
OWNER = "owner"
# 以商招商: the tenant enterprise that referred the signing company (the lead's referred_by).
REFERRER = "referrer"


@dataclass(frozen=True)
class KindInfo:
    label_zh: str
    label_en: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    beneficiary: str = COMPANY
    # Exactly one of these is given (a reward is a fixed amount or a share of tax, never both).
    one_of: tuple[str, ...] = ()


KINDS: dict[BenefitKind, KindInfo] = {
    BenefitKind.RENT_SUBSIDY: KindInfo(
        "房租补贴", "rent subsidy", ("percent", "months"), ("cap_yuan", "yearly_cap_yuan")
    ),
    BenefitKind.RENT_FREE: KindInfo(
        "免租期", "rent-free months", ("months",), ("cap_yuan", "yearly_cap_yuan")
    ),
    BenefitKind.SETTLEMENT_SUBSIDY: KindInfo(
        "入驻补贴", "settlement subsidy", ("yuan_per_m2",), ("cap_yuan",)
    ),
    BenefitKind.TAX_REWARD: KindInfo(
        "税收奖励", "tax reward", ("percent", "years"), ("yearly_cap_yuan", "cap_yuan")
    ),
    BenefitKind.ONE_OFF_AWARD: KindInfo("一次性奖励", "one-off award", ("amount_yuan",), ()),
    BenefitKind.RENOVATION_SUBSIDY: KindInfo(
        "装修补贴(业主)", "renovation subsidy (owner)", ("yuan_per_m2",), ("cap_yuan",), OWNER
    ),
    # Paid in year 1 to the referring tenant, only when the signing's lead names one: a fixed amount,
    # or a percent of the referred company's first-year district-retained tax, optionally capped.
    BenefitKind.REFERRAL_REWARD: KindInfo(
        "以商招商奖励",
        "referral reward",
        (),
        ("amount_yuan", "percent", "cap_yuan"),
        REFERRER,
        one_of=("amount_yuan", "percent"),
    ),
}

PARAMETERS: dict[str, tuple[str, str]] = {
    "percent": ("比例(%)", "percent"),
    "months": ("月数", "months"),
    "years": ("年数", "years"),
    "yuan_per_m2": ("每平方米金额(元/㎡)", "yuan per m²"),
    "amount_yuan": ("金额(元)", "amount (yuan)"),
    "cap_yuan": ("总额上限(元)", "total cap (yuan)"),
    "yearly_cap_yuan": ("年度上限(元)", "yearly cap (yuan)"),
}


def benefit_problems(kind: str, values: Mapping[str, float | int | None]) -> list[tuple[str, str, str]]:
    """Every problem with one benefit's parameters, as (parameter, Chinese, English); [] when valid."""
    try:
        info = KINDS[BenefitKind(kind)]
    except ValueError:
        known = ", ".join(k.value for k in BenefitKind)
        return [
            (
                "kind",
                f"未知的福利类型 '{kind}';可选:{known}",
                f"unknown benefit kind '{kind}'; allowed: {known}",
            )
        ]
    problems: list[tuple[str, str, str]] = []
    allowed = set(info.required) | set(info.optional)
    given = [name for name in info.one_of if values.get(name) is not None]
    if info.one_of and len(given) != 1:
        names_zh = "或".join(PARAMETERS[name][0] for name in info.one_of)
        names_en = " or ".join(PARAMETERS[name][1] for name in info.one_of)
        what_zh, what_en = ("只能填写其一", "not both") if given else ("须填写其一", "one is needed")
        problems.append(
            (
                info.one_of[-1] if given else info.one_of[0],
                f"{info.label_zh}须填写{names_zh},{what_zh}",
                f"a {info.label_en} gives {names_en}: {what_en}",
            )
        )
    for name in PARAMETERS:
        value = values.get(name)
        zh, en = PARAMETERS[name]
        if value is None:
            if name in info.required:
                problems.append((name, f"{info.label_zh}须填写{zh}", f"a {info.label_en} needs {en}"))
            continue
        if name not in allowed:
            problems.append(
                (name, f"{zh}不适用于{info.label_zh}", f"{en} does not apply to a {info.label_en}")
            )
            continue
        value = float(value)
        if name == "percent" and not 0 < value <= 100:
            what_zh = "不能为负" if value < 0 else ("不能超过100%" if value > 100 else "必须大于0")
            what_en = (
                "cannot be negative"
                if value < 0
                else ("cannot exceed 100%" if value > 100 else "must be > 0")
            )
            base_zh, base_en = (
                ("租金", "of rent")
                if kind in (BenefitKind.RENT_SUBSIDY,)
                else ("区级留成税收", "of retained tax")
            )
            problems.append(
                (
                    name,
                    f"{info.label_zh}比例 {value:g}% {what_zh}({base_zh}的 0–100%)",
                    f"{info.label_en} percent {value:g}% {what_en} (0–100% {base_en})",
                )
            )
        elif name == "months" and not (value == int(value) and 1 <= value <= MAX_MONTHS):
            problems.append(
                (
                    name,
                    f"月数 {value:g} 须为 1–{MAX_MONTHS} 的整数",
                    f"months {value:g} must be a whole 1–{MAX_MONTHS}",
                )
            )
        elif name == "years" and not (value == int(value) and 1 <= value <= HORIZON_YEARS):
            problems.append(
                (
                    name,
                    f"年数 {value:g} 须为 1–{HORIZON_YEARS} 的整数",
                    f"years {value:g} must be a whole 1–{HORIZON_YEARS}",
                )
            )
        elif name in ("yuan_per_m2", "amount_yuan") and value <= 0:
            what_zh, what_en = (
                ("不能为负", "cannot be negative") if value < 0 else ("必须大于0", "must be > 0")
            )
            problems.append((name, f"{zh} {value:g} {what_zh}", f"{en} {value:g} {what_en}"))
        elif name in ("cap_yuan", "yearly_cap_yuan") and value < 0:
            problems.append((name, f"{zh} {value:g} 不能低于0", f"{en} {value:g} cannot be below zero"))
    return problems


@dataclass(frozen=True)
class BenefitTerms:
    """One benefit of a policy and its parameters; None means "not set" (no cap, for caps)."""

    kind: BenefitKind
    percent: float | None = None
    months: int | None = None
    years: int | None = None
    yuan_per_m2: float | None = None
    amount_yuan: float | None = None
    cap_yuan: float | None = None
    yearly_cap_yuan: float | None = None
    id: int | None = None

    @property
    def beneficiary(self) -> str:
        return KINDS[self.kind].beneficiary

    def parameters(self) -> dict[str, float | int | None]:
        return {name: getattr(self, name) for name in PARAMETERS}


@dataclass(frozen=True)
class PolicyTerms:
    """One policy as the evaluator sees it."""

    id: int
    name: str
    scope: Scope
    valid_from: dt.date
    benefits: tuple[BenefitTerms, ...]
    scope_id: int | None = None  # the street, circle or building id; None for the district
    valid_to: dt.date | None = None
    condition: str = ""
    active: bool = True
    priority: int = 0
    stacking_group: str = ""
    needs_approval: bool = False
    approved: bool = False
    lead_id: int | None = None  # a case-by-case package binds one lead

    def valid_on(self, on: dt.date) -> bool:
        return self.active and self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def binds(self, lead_id: int | None) -> bool:
        """A case-by-case package is visible to its own lead only."""
        return self.lead_id is None or self.lead_id == lead_id

    def in_force(self, on: dt.date, lead_id: int | None) -> bool:
        return self.valid_on(on) and self.binds(lead_id) and (not self.needs_approval or self.approved)


@dataclass(frozen=True)
class Profile:
    """The applicant: what a company is and expects, as the conditions read it."""

    industry_section: str = ""
    industry_division: str = ""
    expected_annual_tax: float = 0.0
    employees: float = 0.0
    is_headquarters: bool = False
    registers_in_district: bool = False
    settles_in_district: bool = False
    pays_tax_in_district: bool = False
    lead_id: int | None = None
    referred: bool = False  # a tenant referred the applicant (以商招商): referral rewards pay only then


@dataclass(frozen=True)
class BuildingFacts:
    """A building as the conditions and the scope read it, on the evaluation date."""

    id: int
    street_id: int
    business_circle_id: int | None = None
    street: str = ""
    business_circle: str = ""
    star_rating: int = 0
    featured_type: str = ""
    rent_per_m2_day: float | None = None  # the building's reference rent, when an offer names none
    name: str = ""


@dataclass(frozen=True)
class Offer:
    """The space on offer: area taken, rent (None: the building's reference rent) and the date."""

    area_m2: float
    on: dt.date
    rent_per_m2_day: float | None = None

    def rent_in(self, building: BuildingFacts) -> float:
        if self.rent_per_m2_day is not None:
            return float(self.rent_per_m2_day)
        return float(building.rent_per_m2_day or 0.0)

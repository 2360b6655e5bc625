"""What a benefit is worth in each year: arithmetic over many rows at once, in fen, with caps.

Amounts are computed as whole fen (0.01 yuan) in float64 columns, so that sums and caps are exact
integers and a cap is never exceeded by a rounding; year 1 is the first twelve months of the offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np

from policies.engine.terms import DAYS_PER_YEAR, HORIZON_YEARS, KINDS, REFERRER, BenefitKind, BenefitTerms

_YEARS = np.arange(HORIZON_YEARS)
_RENT_KINDS = (BenefitKind.RENT_SUBSIDY, BenefitKind.RENT_FREE)
_AREA_KINDS = (BenefitKind.SETTLEMENT_SUBSIDY, BenefitKind.RENOVATION_SUBSIDY)


@dataclass(frozen=True)
class BenefitTable:
    """Every benefit of a policy book as columns; row i is benefit i of the book."""

    coef_rent: np.ndarray  # share of the offer's rent (percent / 100) for rent kinds
    coef_area: np.ndarray  # yuan per m² for per-area kinds
    coef_tax: np.ndarray  # share of the retained tax (percent / 100) for tax rewards
    constant: np.ndarray  # yuan, for one-off awards
    fraction: np.ndarray  # (benefits, years): part of the yearly base paid in each year
    yearly_cap_fen: np.ndarray  # inf when there is none
    cap_fen: np.ndarray  # inf when there is none
    for_referrer: np.ndarray  # bool: paid to a referring tenant, so nothing without one


def _fraction(benefit: BenefitTerms) -> np.ndarray:
    if benefit.kind in _RENT_KINDS:
        # A rent subsidy of 18 months pays 12/12 of a year's rent share in year 1 and 6/12 in year 2.
        return np.clip((benefit.months or 0) - 12 * _YEARS, 0, 12) / 12.0
    if benefit.kind == BenefitKind.TAX_REWARD:
        return ((benefit.years or 0) > _YEARS).astype(float)
    return (_YEARS == 0).astype(float)


def benefit_table(benefits: Sequence[BenefitTerms]) -> BenefitTable:
    size = len(benefits)
    coef_rent, coef_area, coef_tax, constant = (np.zeros(size) for _ in range(4))
    fraction = np.zeros((size, HORIZON_YEARS))
    yearly_cap, cap = np.full(size, np.inf), np.full(size, np.inf)
    for i, b in enumerate(benefits):
        if b.kind == BenefitKind.RENT_SUBSIDY:
            coef_rent[i] = (b.percent or 0) / 100.0
        elif b.kind == BenefitKind.RENT_FREE:
            coef_rent[i] = 1.0
        elif b.kind in _AREA_KINDS:
            coef_area[i] = b.yuan_per_m2 or 0
        elif b.kind == BenefitKind.TAX_REWARD or (
            b.kind == BenefitKind.REFERRAL_REWARD and b.percent is not None
        ):
            coef_tax[i] = (b.percent or 0) / 100.0
        else:
            constant[i] = b.amount_yuan or 0
        fraction[i] = _fraction(b)
        if b.yearly_cap_yuan is not None:
            yearly_cap[i] = round(b.yearly_cap_yuan * 100)
        if b.cap_yuan is not None:
            cap[i] = round(b.cap_yuan * 100)
    for_referrer = np.fromiter((KINDS[b.kind].beneficiary == REFERRER for b in benefits), bool, size)
    return BenefitTable(coef_rent, coef_area, coef_tax, constant, fraction, yearly_cap, cap, for_referrer)


def amounts_fen(
    table: BenefitTable,
    rows: np.ndarray,
    *,
    area_m2: float,
    rent: np.ndarray,
    retained_tax: float,
    referred: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(uncapped, capped) fen per year, shape (len(rows), HORIZON_YEARS), for benefit `rows`.

    `rent` is the rent (yuan/m²/day) each row's building is offered at; `retained_tax` is the
    applicant's expected annual tax times the district-retained share; `referred`: whether a tenant
    referred the applicant, without which a referral reward pays nothing.
    """
    base = (
        table.coef_rent[rows] * (area_m2 * DAYS_PER_YEAR) * rent
        + table.coef_area[rows] * area_m2
        + table.coef_tax[rows] * retained_tax
        + table.constant[rows]
    )
    if not referred:
        base = np.where(table.for_referrer[rows], 0.0, base)
    uncapped = np.floor(base[:, None] * table.fraction[rows] * 100.0 + 0.5)
    yearly = np.minimum(uncapped, table.yearly_cap_fen[rows][:, None])
    # The total cap is spent in date order: year 1 first, whatever is left in later years.
    paid_so_far = np.minimum(np.cumsum(yearly, axis=1), table.cap_fen[rows][:, None])
    capped = np.diff(paid_so_far, axis=1, prepend=0.0)
    return uncapped, capped


_FEN = Decimal("0.01")


def yuan_text(value: Decimal | float | int | str | None) -> str:
    """Yuan as people read them: to the fen with thousands separators, without ".00"; "—" unknown.

    The one yuan formatter of the pages (the `yuan` filter), of texts (warnings) and of this
    arithmetic, so that a page and its arithmetic agree: 1727450.85000000 -> "1,727,450.85",
    9000000.00 -> "9,000,000". Machine outputs (JSON, API, exports) carry exact decimal strings.
    It lives here because the evaluator is pure and type-checked and may import no Django app.
    """
    if value is None or value == "":
        return "—"
    try:
        # A float goes through its shortest repr, so 0.1 + 0.2 is 0.3 yuan, not 0.30000000000000004.
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "—"
    if not number.is_finite():
        return "—"
    fen = number.quantize(_FEN, rounding=ROUND_HALF_UP)
    if fen == 0:
        fen = abs(fen)  # never "-0"
    if fen == fen.to_integral_value():
        return f"{int(fen):,}"
    return f"{fen:,f}"


def format_yuan(fen: float) -> str:
    """Whole fen to '76,650' or '76,650.50', by the one yuan formatter of pages and texts."""
    return yuan_text(Decimal(int(round(fen))) / 100)


# The arithmetic shows every operand as the computation used it, not rounded for a reader: a rent of
# 3.675 printed as 3.67 beside the 3.675 result reads as a miscalculation. Eight decimals only drop
# float noise (0.1 × 3 = 0.30000000000000004); no stored input has more.
_OPERAND_PLACES = 8


def format_operand(value: float) -> str:
    """An operand of the arithmetic exactly as used: 3.675 -> '3.675', 3000000 -> '3,000,000'."""
    number = Decimal(repr(round(float(value), _OPERAND_PLACES))).normalize()
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,f}"


def _pct(share: float) -> str:
    return f"{format_operand(share * 100)}%"


def worked_sum(
    benefit: BenefitTerms,
    *,
    area_m2: float,
    rent: float,
    expected_annual_tax: float,
    tax_retained_share: float,
    uncapped: np.ndarray,
    capped: np.ndarray,
    referred: bool = False,
) -> str:
    """The arithmetic behind one benefit's amount.

    For example '300 m² × 2.8 yuan/m²/day × 365 × 50% × 6/12 = 76,650'.
    """
    area, kind = format_operand(area_m2), benefit.kind
    if kind == BenefitKind.REFERRAL_REWARD and not referred:
        return "no referring tenant (以商招商) on this lead: a referral reward pays nothing = 0"
    if kind == BenefitKind.REFERRAL_REWARD and benefit.percent is not None:
        formula = (
            f"{format_operand(expected_annual_tax)} yuan tax × {_pct(tax_retained_share)} retained × "
            f"{format_operand(benefit.percent)}% in year 1"
        )
    elif kind == BenefitKind.REFERRAL_REWARD:
        formula = f"referral reward of {format_operand(benefit.amount_yuan or 0)} yuan"
    elif kind == BenefitKind.RENT_SUBSIDY:
        formula = (
            f"{area} m² × {format_operand(rent)} yuan/m²/day × {DAYS_PER_YEAR} × "
            f"{format_operand(benefit.percent or 0)}% × {benefit.months}/12"
        )
    elif kind == BenefitKind.RENT_FREE:
        formula = f"{area} m² × {format_operand(rent)} yuan/m²/day × {DAYS_PER_YEAR} × {benefit.months}/12"
    elif kind in _AREA_KINDS:
        formula = f"{area} m² × {format_operand(benefit.yuan_per_m2 or 0)} yuan/m²"
    elif kind == BenefitKind.TAX_REWARD:
        formula = (
            f"{format_operand(expected_annual_tax)} yuan tax × {_pct(tax_retained_share)} retained × "
            f"{format_operand(benefit.percent or 0)}% × {benefit.years} years"
        )
    else:
        formula = "one-off award"
    text = f"{formula} = {format_yuan(uncapped.sum())}"
    yearly = np.minimum(
        uncapped, np.inf if benefit.yearly_cap_yuan is None else benefit.yearly_cap_yuan * 100
    )
    if benefit.yearly_cap_yuan is not None and yearly.sum() < uncapped.sum():
        text += f"; at most {format_yuan(benefit.yearly_cap_yuan * 100)} a year → {format_yuan(yearly.sum())}"
    if benefit.cap_yuan is not None and capped.sum() < yearly.sum():
        text += f"; capped at {format_yuan(benefit.cap_yuan * 100)} in total → {format_yuan(capped.sum())}"
    paid_years = [(i + 1, fen) for i, fen in enumerate(capped) if fen > 0]
    if len(paid_years) > 1:
        text += " (" + "; ".join(f"year {year}: {format_yuan(fen)}" for year, fen in paid_years) + ")"
    if kind == BenefitKind.RENOVATION_SUBSIDY:
        text += ", paid to the owner"
    elif kind == BenefitKind.REFERRAL_REWARD:
        text += ", paid to the referring tenant"
    return text

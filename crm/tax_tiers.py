"""Each building's tax tier for a year (亿元楼, 千万元楼 and their "near" tiers) and the tax it lacks."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Max
from django.utils import timezone

from crm.constants import BILLION_TIER_YUAN, TEN_MILLION_TIER_YUAN, TaxTier
from crm.indicators import building_figures
from crm.models import Street, TaxRecord

# The full tier a building reaches next from each tier: 千万 from below it, 亿 from 千万 or near 亿.
NEXT_FULL_TIER: dict[TaxTier, TaxTier | None] = {
    TaxTier.NONE: TaxTier.TEN_MILLION,
    TaxTier.NEAR_TEN_MILLION: TaxTier.TEN_MILLION,
    TaxTier.TEN_MILLION: TaxTier.BILLION,
    TaxTier.NEAR_BILLION: TaxTier.BILLION,
    TaxTier.BILLION: None,
}


@dataclass(frozen=True)
class BuildingTaxTier:
    """One building's tax in a year, its tier, and what it lacks to reach the next full tier."""

    building_id: int
    tax_yuan: Decimal
    tier: TaxTier
    next_tier: TaxTier | None
    shortfall_yuan: Decimal


def tax_year_for(on: dt.date) -> int | None:
    """The last complete year with tax records before `on` (or the latest year recorded)."""
    before = TaxRecord.objects.filter(year__lt=on.year).aggregate(year=Max("year"))["year"]
    if before is not None:
        return before
    return TaxRecord.objects.aggregate(year=Max("year"))["year"]


def tier_year() -> int:
    """The year tiers and indicators show by default, on pages and in the API alike: the last
    complete year with tax records (a year without any would tier every building "none")."""
    today = timezone.localdate()
    return tax_year_for(today) or today.year - 1


def near_tier_ratio() -> Decimal:
    ratio = Decimal(str(settings.NEAR_TIER_RATIO))
    # Above 0.9 "near 亿" would start below 千万 and the tiers would no longer be ordered.
    if not Decimal(0) <= ratio < Decimal("0.9"):
        raise ImproperlyConfigured(
            f"NEAR_TIER_RATIO 应在 0 与 0.9 之间 / must be at least 0 and below 0.9, not {ratio}"
        )
    return ratio


def tier_thresholds() -> list[tuple[TaxTier, Decimal]]:
    """Each tier with the least tax (yuan) that reaches it, highest first."""
    near = Decimal(1) - near_tier_ratio()
    billion, ten_million = Decimal(BILLION_TIER_YUAN), Decimal(TEN_MILLION_TIER_YUAN)
    return [
        (TaxTier.BILLION, billion),
        (TaxTier.NEAR_BILLION, billion * near),
        (TaxTier.TEN_MILLION, ten_million),
        (TaxTier.NEAR_TEN_MILLION, ten_million * near),
    ]


def tax_tier(tax_yuan: Decimal, thresholds: list[tuple[TaxTier, Decimal]] | None = None) -> TaxTier:
    """The tier a year's tax of `tax_yuan` puts a building in."""
    for tier, least in thresholds or tier_thresholds():
        if tax_yuan >= least:
            return tier
    return TaxTier.NONE


def tax_shortfall(
    tax_yuan: Decimal, thresholds: list[tuple[TaxTier, Decimal]] | None = None
) -> tuple[TaxTier | None, Decimal]:
    """The next full tier above `tax_yuan` and the tax (yuan) still lacking to reach it (0 for 亿元楼)."""
    thresholds = thresholds or tier_thresholds()
    next_tier = NEXT_FULL_TIER[tax_tier(tax_yuan, thresholds)]
    if next_tier is None:
        return None, Decimal(0)
    return next_tier, dict(thresholds)[next_tier] - tax_yuan


def building_tax_tiers(
    *, year: int, street: Street | int | None = None, building_ids: Iterable[int] | None = None
) -> dict[int, BuildingTaxTier]:
    """Every building in service on 31 December of `year` (or of one street, or the ids given), with
    its tier: one aggregate query over all buildings, the same building tax as the indicators."""
    thresholds = tier_thresholds()
    result = {}
    for figures in building_figures(year=year, street=street, building_ids=building_ids):
        next_tier, shortfall = tax_shortfall(figures.tax_yuan, thresholds)
        result[figures.building_id] = BuildingTaxTier(
            building_id=figures.building_id,
            tax_yuan=figures.tax_yuan,
            tier=tax_tier(figures.tax_yuan, thresholds),
            next_tier=next_tier,
            shortfall_yuan=shortfall,
        )
    return result

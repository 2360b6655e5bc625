"""The features of (lead, building, offer) pairs, each in [0, 1], and the seven components they make.

Every argument is an array over the pairs or a scalar that broadcasts, so the same code scores one
lead against all buildings and one building against all leads. docs/matching.md gives the formulas;
types.FEATURES says which component each feature belongs to and with what share.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matching.core.types import FEATURE_NAMES, MAIN_DIVISION, MAIN_NONE, MAIN_SECTION, TO_COMPONENTS

SAME_SECTION_DESIGNATION = 0.6  # designation in the lead's section but another division
SPACE_EDGE_LOSS = 0.5  # an offer at either end of the range keeps half the space fit
UNIT_COUNT_DISCOUNT = 0.95  # each extra unit in an offer costs 5 % of the space fit
MIN_HALF_WIDTH_SHARE = 0.05  # a range narrower than ±5 % of its middle counts as ±5 %
PRICE_FULL_AT = 0.5  # price fit is 1 at or below half the budget
# The rent after relief over the budget, as a share of the budget, at which each "within budget"
# ramp reaches 0. Companies do sign above their stated budget, so this is a graded penalty whose
# weight is learned, not a wall.
OVERSHOOT_STEEP = 0.2
OVERSHOOT_WIDE = 0.6
# Offers up to this share beyond either end of the range are still offered (companies sign a
# little outside the range they stated); no offer inside this window is the only area wall.
AREA_NEAR_SHARE = 0.25
NEUTRAL = 0.5  # a component with nothing to judge by (no budget, no preferred street)
DAYS_PER_YEAR = 365
INCENTIVE_YEARS = 3


def area_window(area_min: Any, area_max: Any) -> tuple[np.ndarray, np.ndarray]:
    """(low, high): the areas an offer may have and still be shown, the range widened both ways."""
    return np.asarray(area_min, dtype=float) * (1.0 - AREA_NEAR_SHARE), np.asarray(area_max, dtype=float) * (
        1.0 + AREA_NEAR_SHARE
    )


def effective_rent(rent: Any, relief_3y: Any, area: Any) -> np.ndarray:
    """Rent per m² per day after the rent relief (subsidies, rent-free months), averaged over three years."""
    rent, area = np.asarray(rent, dtype=float), np.asarray(area, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_day = np.where(
            area > 0, np.asarray(relief_3y, dtype=float) / (area * DAYS_PER_YEAR * INCENTIVE_YEARS), 0.0
        )
    return rent - per_day


def overshoot(effective: Any, budget: Any) -> np.ndarray:
    """(effective rent − budget) / budget: > 0 above the budget, NaN when either is unknown."""
    effective, budget = np.asarray(effective, dtype=float), np.asarray(budget, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(budget > 0, (effective - budget) / budget, np.where(budget == 0, np.inf, np.nan))


def designation(
    *,
    lead_division: Any,
    lead_section: Any,
    main_kind: np.ndarray,
    main_index: np.ndarray,
    main_section_of_division: np.ndarray,
    related_main: np.ndarray,
) -> np.ndarray:
    """Building's designated main industry against the lead's: same division 1, same section 0.6,
    otherwise relatedness (at most 0.6, so a designation in the lead's section is never beaten)."""
    same_division = (main_kind == MAIN_DIVISION) & (main_index == lead_division)
    same_section = ((main_kind == MAIN_DIVISION) & (main_section_of_division == lead_section)) | (
        (main_kind == MAIN_SECTION) & (main_index == lead_section)
    )
    related = np.minimum(related_main, SAME_SECTION_DESIGNATION)
    return np.where(same_division, 1.0, np.where(same_section, SAME_SECTION_DESIGNATION, related))


def strengthens_main(
    *, lead_division: Any, lead_section: Any, main_kind: np.ndarray, main_index: np.ndarray
) -> np.ndarray:
    """domain.md's "in the main industry": same division, or inside the section when it is a section."""
    return ((main_kind == MAIN_DIVISION) & (main_index == lead_division)) | (
        (main_kind == MAIN_SECTION) & (main_index == lead_section)
    )


def features(
    *,
    lead_division: Any,
    lead_section: Any,
    area_min: Any,
    area_max: Any,
    budget: Any,
    district_tax: Any,
    entry_intentions: Any,
    has_preference: Any,
    preferred: Any,
    main_kind: Any,
    main_index: Any,
    main_section_of_division: Any,
    related_main: Any,
    tenant_fit: Any,
    star: Any,
    services: Any,
    featured: Any,
    tax_per_m2: Any,
    shortfall: Any,
    offer_area: Any,
    offer_units: Any,
    offer_rent: Any,
    offer_effective_rent: Any,
    incentive_3y: Any,
) -> np.ndarray:
    """(pairs, features) matrix in FEATURE_NAMES order."""
    offer_area = np.asarray(offer_area, dtype=float)
    n = offer_area.size

    def full(value: Any) -> np.ndarray:
        return np.broadcast_to(np.asarray(value, dtype=float), (n,))

    # Industry fit: designation and the current tenants, or the tenants alone without a designation.
    design = designation(
        lead_division=lead_division,
        lead_section=lead_section,
        main_kind=main_kind,
        main_index=main_index,
        main_section_of_division=main_section_of_division,
        related_main=related_main,
    )
    has_main = full(np.asarray(main_kind) != MAIN_NONE)
    tenant_fit = full(tenant_fit)

    # Space fit: 1 at the middle of the range, 0.5 at its ends, less a little per extra unit.
    middle = (np.asarray(area_min, dtype=float) + area_max) / 2.0
    half = np.maximum((np.asarray(area_max, dtype=float) - area_min) / 2.0, MIN_HALF_WIDTH_SHARE * middle)
    closeness = np.clip(1.0 - SPACE_EDGE_LOSS * np.abs(offer_area - middle) / half, 0.0, 1.0)
    space = closeness * UNIT_COUNT_DISCOUNT ** (np.asarray(offer_units, dtype=float) - 1.0)

    # Outside the range (inside the near window): 1 at either end of the range, 0 at the window's edge.
    low, high = area_window(area_min, area_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        below = np.where(offer_area < area_min, (area_min - offer_area) / (area_min - low), 0.0)
        above = np.where(offer_area > area_max, (offer_area - area_max) / (high - area_max), 0.0)
    within_range = 1.0 - np.clip(np.maximum(below, above), 0.0, 1.0)

    # Price fit, on the rent after relief: how far above the budget (two ramps) and how much below it.
    budget = full(budget)
    rent = full(offer_rent)
    over = overshoot(full(offer_effective_rent), budget)
    unknown = np.isnan(over)
    with np.errstate(invalid="ignore"):
        within = 1.0 - np.clip(over / OVERSHOOT_STEEP, 0.0, 1.0)
        within_wide = 1.0 - np.clip(over / OVERSHOOT_WIDE, 0.0, 1.0)
        saving = np.clip(-over / (1 - PRICE_FULL_AT), 0.0, 1.0)
    within = np.where(unknown, NEUTRAL, within)
    within_wide = np.where(unknown, NEUTRAL, within_wide)
    saving = np.where(unknown, NEUTRAL, saving)

    # Incentive value: the policies' 3-year amount against the offer's 3-year rent.
    incentive_3y = full(incentive_3y)
    rent_3y = offer_area * np.nan_to_num(rent) * DAYS_PER_YEAR * INCENTIVE_YEARS
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(rent_3y > 0, incentive_3y / rent_3y, np.where(np.isnan(rent), 0.0, incentive_3y > 0))
    incentive = np.clip(ratio, 0.0, 1.0)

    star, services, featured = full(star) / 5.0, full(services) / 3.0, full(featured).astype(float)

    # District goal: tax per m² lifted, the tier gap closed (by tax paid here only), the main industry
    # strengthened, the plan's entry intentions met.
    tax = full(district_tax)
    lead_per_m2 = np.where(offer_area > 0, tax / np.maximum(offer_area, 1e-9), 0.0)
    building_per_m2 = full(tax_per_m2)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(lead_per_m2 > 0, lead_per_m2 / (lead_per_m2 + building_per_m2), 0.0)
        gap = np.where(full(shortfall) > 0, np.clip(tax / full(shortfall), 0.0, 1.0), 0.0)
    strengthens = strengthens_main(
        lead_division=lead_division, lead_section=lead_section, main_kind=main_kind, main_index=main_index
    )

    preference = np.where(full(has_preference) > 0, full(preferred), NEUTRAL)

    columns = {
        "industry.designation": full(design) * has_main,
        "industry.tenants": tenant_fit * has_main,
        "industry.tenants_only": tenant_fit * (1.0 - has_main),
        "space": full(space),
        "space.within_range": full(within_range),
        "price.within_budget": within,
        "price.within_budget_wide": within_wide,
        "price.saving": saving,
        "incentive": incentive,
        "quality.stars": star,
        "quality.services": services,
        "quality.featured": featured,
        "district.tax_per_m2": lift,
        "district.tier_gap": gap,
        "district.main_industry": full(strengthens).astype(float),
        "district.entry_intentions": full(entry_intentions),
        "preference": preference,
    }
    return np.clip(np.column_stack([columns[name] for name in FEATURE_NAMES]), 0.0, 1.0)


def components(features_: np.ndarray) -> np.ndarray:
    """(pairs, 7) component values, each the share-weighted sum of its features."""
    return features_ @ TO_COMPONENTS

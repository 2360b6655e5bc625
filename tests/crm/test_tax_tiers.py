"""Tax tiers (亿元楼, 千万元楼 and their "near" tiers) at their exact thresholds, and the tax lacking."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from crm.constants import TaxTier
from crm.tax_tiers import building_tax_tiers, tax_shortfall, tax_tier
from tests.factories import BuildingFactory, EnterpriseFactory, TaxRecordFactory, TenancyFactory


@pytest.mark.parametrize(
    ("tax", "tier"),
    [
        # near tiers start 20 % below the full ones: 0.8 × 100,000,000 and 0.8 × 10,000,000
        ("100000000", TaxTier.BILLION),
        ("99999999.99", TaxTier.NEAR_BILLION),
        ("80000000", TaxTier.NEAR_BILLION),
        ("79999999.99", TaxTier.TEN_MILLION),
        ("10000000", TaxTier.TEN_MILLION),
        ("9999999.99", TaxTier.NEAR_TEN_MILLION),
        ("8000000", TaxTier.NEAR_TEN_MILLION),
        ("7999999.99", TaxTier.NONE),
        ("0", TaxTier.NONE),
    ],
)
def test_tier_at_and_just_below_each_threshold(tax, tier):
    assert tax_tier(Decimal(tax)) == tier


@pytest.mark.parametrize(
    ("tax", "next_tier", "lacking"),
    [
        ("0", TaxTier.TEN_MILLION, "10000000"),
        ("7999999.99", TaxTier.TEN_MILLION, "2000000.01"),  # 10,000,000 − 7,999,999.99
        ("8000000", TaxTier.TEN_MILLION, "2000000"),  # near 千万 still aims at 千万
        ("10000000", TaxTier.BILLION, "90000000"),  # 100,000,000 − 10,000,000
        ("80000000", TaxTier.BILLION, "20000000"),  # near 亿 aims at 亿
        ("99999999.99", TaxTier.BILLION, "0.01"),
        ("100000000", None, "0"),  # nothing above 亿元楼
    ],
)
def test_shortfall_is_to_the_next_full_tier(tax, next_tier, lacking):
    assert tax_shortfall(Decimal(tax)) == (next_tier, Decimal(lacking))


def test_near_ratio_comes_from_settings(settings):
    # given: "near" is within 10 % instead of 20 %
    settings.NEAR_TIER_RATIO = 0.1

    # then: near 亿 starts at 90,000,000 and near 千万 at 9,000,000
    assert tax_tier(Decimal(89_999_999)) == TaxTier.TEN_MILLION
    assert tax_tier(Decimal(90_000_000)) == TaxTier.NEAR_BILLION
    assert tax_tier(Decimal(8_999_999)) == TaxTier.NONE


def test_a_near_ratio_that_would_disorder_the_tiers_is_refused(settings):
    # given: near 亿 would start at 5,000,000, below 千万
    settings.NEAR_TIER_RATIO = 0.95

    # when / then
    with pytest.raises(ImproperlyConfigured, match="NEAR_TIER_RATIO"):
        tax_tier(Decimal(1))


@pytest.mark.django_db
def test_building_tiers_use_the_area_split_building_tax():
    # given: one enterprise paying 100,000,000 in 2021, settled 800 m² in `big` and 200 m² in `small`,
    # and renting 1000 m² in `future`, not in service until 2022; `empty` has no tenant
    big, small, empty = BuildingFactory(), BuildingFactory(), BuildingFactory()
    future = BuildingFactory(in_service_since=dt.date(2022, 1, 1))
    enterprise = EnterpriseFactory()
    TenancyFactory(enterprise=enterprise, building=big, area_m2=Decimal(800))
    TenancyFactory(enterprise=enterprise, building=small, area_m2=Decimal(200))
    TenancyFactory(enterprise=enterprise, building=future, area_m2=Decimal(1000))
    TaxRecordFactory(enterprise=enterprise, year=2021, amount_yuan=Decimal(100_000_000))

    # when
    tiers = building_tax_tiers(year=2021)

    # then: `future` counts nowhere, so the split is 800 : 200;
    # big 100,000,000 × 0.8 = 80,000,000 (near 亿, lacks 20,000,000);
    # small × 0.2 = 20,000,000 (千万, lacks 80,000,000); empty 0 (lacks 10,000,000)
    assert future.pk not in tiers
    assert (tiers[big.pk].tax_yuan, tiers[big.pk].tier) == (Decimal(80_000_000), TaxTier.NEAR_BILLION)
    assert (tiers[big.pk].next_tier, tiers[big.pk].shortfall_yuan) == (TaxTier.BILLION, Decimal(20_000_000))
    assert (tiers[small.pk].tier, tiers[small.pk].shortfall_yuan) == (
        TaxTier.TEN_MILLION,
        Decimal(80_000_000),
    )
    assert (tiers[empty.pk].tier, tiers[empty.pk].shortfall_yuan) == (TaxTier.NONE, Decimal(10_000_000))


@pytest.mark.django_db
def test_building_tiers_take_one_query(django_assert_num_queries):
    # given
    BuildingFactory.create_batch(3)

    # when / then: the building figures statement
    with django_assert_num_queries(1):
        building_tax_tiers(year=2021)

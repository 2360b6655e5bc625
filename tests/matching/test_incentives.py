"""Incentives priced per (lead, building, offer) pair agree with the policy engine; the rent relief too."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.core.incentives import PolicyIncentives
from matching.core.types import IncentivePairs
from policies.engine import BenefitKind, BenefitTerms, Offer, PolicyBook, PolicyTerms, Profile, Scope
from tests.matching.districts import TODAY, HandDistrict

FROM = dt.date(2020, 1, 1)


def district():
    d = HandDistrict()
    for i in range(6):
        d.building(
            street=1 + i % 2, star=i % 5, featured="finance" if i == 2 else "", reference_rent=2.0 + i / 4
        )
    return d.building_table()


def book() -> PolicyBook:
    return PolicyBook(
        [
            PolicyTerms(
                1,
                "全区入驻补贴",
                Scope.DISTRICT,
                FROM,
                (BenefitTerms(BenefitKind.SETTLEMENT_SUBSIDY, yuan_per_m2=100, cap_yuan=30_000),),
            ),
            PolicyTerms(
                2,
                "街道房租补贴",
                Scope.STREET,
                FROM,
                (BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=30, months=18, yearly_cap_yuan=40_000),),
                scope_id=1,
                stacking_group="rent",
            ),
            PolicyTerms(
                3,
                "金融楼免租",
                Scope.BUILDING,
                FROM,
                (BenefitTerms(BenefitKind.RENT_FREE, months=3),),
                scope_id=3,
                condition='industry_section == "J" and area_m2 >= 300',
                stacking_group="rent",
            ),
            PolicyTerms(
                4,
                "税收奖励",
                Scope.DISTRICT,
                FROM,
                (BenefitTerms(BenefitKind.TAX_REWARD, percent=50, years=3, yearly_cap_yuan=500_000),),
                condition="expected_annual_tax >= 1000000 and star_rating >= 2",
            ),
            PolicyTerms(
                5,
                "过期政策",
                Scope.DISTRICT,
                FROM,
                (BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=9_999),),
                valid_to=dt.date(2021, 1, 1),
            ),
            PolicyTerms(
                6,
                "待批一事一议",
                Scope.BUILDING,
                FROM,
                (BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=50_000),),
                scope_id=4,
                needs_approval=True,
                approved=False,
                lead_id=9,
            ),
            PolicyTerms(
                7,
                "已批一事一议",
                Scope.BUILDING,
                FROM,
                (BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=80_000),),
                scope_id=5,
                needs_approval=True,
                approved=True,
                lead_id=9,
            ),
            # Conditioned on the entry intentions; with no tax and all three stated (the tests
            # below), neither applies.
            PolicyTerms(
                8,
                "区内纳税奖励",
                Scope.DISTRICT,
                FROM,
                (BenefitTerms(BenefitKind.TAX_REWARD, percent=20, years=2),),
                condition="pays_tax_in_district and registers_in_district and expected_annual_tax > 0",
            ),
            PolicyTerms(
                9,
                "区外结算企业奖励",
                Scope.STREET,
                FROM,
                (BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=5_000),),
                scope_id=2,
                condition="not settles_in_district",
            ),
        ],
        tax_retained_share=0.4,
    )


@settings(max_examples=80, deadline=None)
@given(
    section=st.sampled_from([("J", "67"), ("L", "72"), ("I", "65")]),
    area=st.sampled_from([120.0, 300.0, 650.0]),
    tax=st.sampled_from([0.0, 1_500_000.0, 8_000_000.0]),
    lead_id=st.sampled_from([1, 9]),
    intentions=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_pairs_are_priced_exactly_as_the_policy_engine_prices_them(section, area, tax, lead_id, intentions):
    # given: one applicant at one area in every building, as the engine's evaluate_many takes it,
    #   with its own entry intentions (policies 8 and 9 are conditioned on them)
    buildings = district()
    policies = book()
    source = PolicyIncentives(policies, buildings)
    n = len(buildings)
    profile = Profile(
        industry_section=section[0],
        industry_division=section[1],
        expected_annual_tax=tax,
        registers_in_district=intentions[0],
        settles_in_district=intentions[1],
        pays_tax_in_district=intentions[2],
        lead_id=lead_id,
    )
    facts = [source.facts(row) for row in range(n)]
    expected = policies.evaluate_many(profile, facts, Offer(area_m2=area, on=TODAY))
    # when
    got = source.amounts(
        IncentivePairs(
            building=np.arange(n),
            lead_id=np.full(n, lead_id),
            division_code=section[1],
            section_code=section[0],
            expected_tax=tax,
            employees=0.0,
            is_headquarters=False,
            registers_in_district=intentions[0],
            settles_in_district=intentions[1],
            pays_tax_in_district=intentions[2],
            area=np.full(n, area),
            rent=np.full(n, np.nan),
            on=TODAY,
        )
    )
    # then
    np.testing.assert_allclose(got.total_3y, expected.years_fen[:, :3].sum(axis=1) / 100.0)


def test_the_rent_relief_is_the_rent_part_of_what_applies():
    # given: a 67 firm taking 300 m² in building 3 (street 1, rent 2.50):
    #   street rent subsidy 30 % × 18 months: a year's rent 300 × 2.50 × 365 = 273,750;
    #     year 1: 82,125 → capped at 40,000; year 2: 41,062.50 → 40,000 → 80,000 in all
    #   building rent-free 3 months: 273,750 × 3/12 = 68,437.50 — same stacking group: 80,000 wins
    #   district settlement subsidy 300 × 100 = 30,000 (cap 30,000)
    buildings = district()
    source = PolicyIncentives(book(), buildings)
    pairs = IncentivePairs(
        building=np.array([2]),
        lead_id=np.array([1]),
        division_code="67",
        section_code="J",
        expected_tax=0.0,
        employees=0.0,
        is_headquarters=False,
        registers_in_district=True,
        settles_in_district=True,
        pays_tax_in_district=True,
        area=np.array([300.0]),
        rent=np.array([2.5]),
        on=TODAY,
    )
    # when
    got = source.amounts(pairs)
    # then
    assert got.rent_relief_3y[0] == pytest.approx(80_000.0)
    assert got.total_3y[0] == pytest.approx(110_000.0)
    (detail,) = source.detail(pairs)
    assert sorted(p["name"] for p in detail["policies"]) == ["全区入驻补贴", "街道房租补贴"]


def test_each_pair_is_priced_at_its_own_offer():
    # given: the same firm at 100 m² and at 250 m² in building 1 (street 2: no rent subsidy there)
    buildings = district()
    source = PolicyIncentives(book(), buildings)
    # when
    got = source.amounts(
        IncentivePairs(
            building=np.array([1, 1]),
            lead_id=np.array([1, 1]),
            division_code="72",
            section_code="L",
            expected_tax=0.0,
            employees=0.0,
            is_headquarters=False,
            registers_in_district=True,
            settles_in_district=True,
            pays_tax_in_district=True,
            area=np.array([100.0, 250.0]),
            rent=np.array([2.0, 2.0]),
            on=TODAY,
        )
    )
    # then: 100 × 100 = 10,000 and 250 × 100 = 25,000
    assert got.total_3y.tolist() == [10_000.0, 25_000.0]
    assert got.rent_relief_3y.tolist() == [0.0, 0.0]

"""The pure evaluator: hand-computed yuan for every benefit kind, caps, stacking, validity dates, scopes,
case-by-case binding, and one building alone agreeing with a batch. No database."""

import datetime as dt
from decimal import Decimal

import pytest

from policies.engine import (
    APPLIED,
    AWAITING_APPROVAL,
    INELIGIBLE,
    OUTRANKED,
    BenefitKind,
    BenefitTerms,
    BuildingFacts,
    Offer,
    PolicyBook,
    PolicyTerms,
    Profile,
    Scope,
)

ON = dt.date(2026, 3, 1)
SHARE = 0.4  # the district keeps 40% of a company's tax
FINANCE = Profile(
    industry_section="J",
    industry_division="66",
    expected_annual_tax=5_000_000,
    employees=80,
    is_headquarters=True,
    registers_in_district=True,
    settles_in_district=True,
    pays_tax_in_district=True,
)
TOWER = BuildingFacts(
    id=10, street_id=1, business_circle_id=7, street="北海街道", star_rating=4, rent_per_m2_day=2.8
)
NEXT_DOOR = BuildingFacts(
    id=11, street_id=1, business_circle_id=7, street="北海街道", star_rating=2, rent_per_m2_day=2.8
)
ACROSS_TOWN = BuildingFacts(id=12, street_id=2, street="城南街道", star_rating=5, rent_per_m2_day=3.0)
OFFER = Offer(area_m2=300, on=ON)


def policy(pid: int, *benefits: BenefitTerms, **options) -> PolicyTerms:
    options.setdefault("scope", Scope.DISTRICT)
    options.setdefault("valid_from", dt.date(2025, 1, 1))
    return PolicyTerms(id=pid, name=options.pop("name", f"政策{pid}"), benefits=benefits, **options)


def evaluate(*policies, profile=FINANCE, building=TOWER, offer=OFFER, share=SHARE):
    return PolicyBook(policies, tax_retained_share=share).evaluate(profile, building, offer)


def Y(*amounts) -> tuple[Decimal, ...]:  # noqa: N802 - reads as a row of yuan
    return tuple(Decimal(str(a)).quantize(Decimal("0.01")) for a in amounts)


# ------------------------------------------------------------------ every benefit kind, by hand


def test_rent_subsidy_is_a_share_of_rent_for_some_months():
    # given 50% of rent for 6 months
    result = evaluate(policy(1, BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=50, months=6)))

    # then 300 m² × 2.8 yuan/m²/day × 365 × 50% × 6/12 = 840 × 365 × 0.5 × 0.5 = 76,650, all in year 1
    benefit = result.applied[0].benefits[0]
    assert result.years == Y(76650, 0, 0)
    assert result.total == Decimal("76650.00")
    assert benefit.arithmetic == "300 m² × 2.8 yuan/m²/day × 365 × 50% × 6/12 = 76,650"


def test_a_rent_subsidy_longer_than_a_year_runs_into_year_two():
    # given 50% of rent for 18 months
    result = evaluate(policy(1, BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=50, months=18)))

    # then a year's share is 300 × 2.8 × 365 × 50% = 153,300; year 2 pays 6/12 of it = 76,650
    assert result.years == Y(153300, 76650, 0)
    assert result.total == Decimal("229950.00")  # 153,300 + 76,650


def test_rent_free_months_are_the_whole_rent_of_those_months():
    # given three rent-free months on 200 m² at 3.0 yuan/m²/day
    offer = Offer(area_m2=200, on=ON, rent_per_m2_day=3.0)

    result = evaluate(policy(1, BenefitTerms(BenefitKind.RENT_FREE, months=3)), offer=offer)

    # then 200 × 3.0 × 365 × 3/12 = 219,000 × 0.25 = 54,750
    assert result.years == Y(54750, 0, 0)
    assert result.applied[0].benefits[0].arithmetic == "200 m² × 3 yuan/m²/day × 365 × 3/12 = 54,750"


def test_the_arithmetic_prints_the_rent_the_amount_was_computed_with():
    # given 30% of the rent for 12 months on 400 m² at 3.675 yuan/m²/day (three decimals)
    offer = Offer(area_m2=400, on=ON, rent_per_m2_day=3.675)

    result = evaluate(policy(1, BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=30, months=12)), offer=offer)

    # then 400 × 3.675 = 1,470; × 365 = 536,550; × 30% = 160,965, and the text shows 3.675, not 3.67
    # (400 × 3.67 × 365 × 30% would be 160,746)
    assert result.years == Y(160965, 0, 0)
    assert result.applied[0].benefits[0].arithmetic == (
        "400 m² × 3.675 yuan/m²/day × 365 × 30% × 12/12 = 160,965"
    )


def test_the_arithmetic_prints_a_retained_share_unrounded():
    # given the district keeps 37.125% of the tax; 10% of it for one year on 5,000,000 of tax
    terms = BenefitTerms(BenefitKind.TAX_REWARD, percent=10, years=1)

    result = evaluate(policy(1, terms), share=0.37125)

    # then 5,000,000 × 37.125% = 1,856,250; × 10% = 185,625
    assert result.years == Y(185625, 0, 0)
    assert result.applied[0].benefits[0].arithmetic == (
        "5,000,000 yuan tax × 37.125% retained × 10% × 1 years = 185,625"
    )


def test_settlement_subsidy_is_per_m2_and_capped():
    # given 100 yuan/m² capped at 20,000
    result = evaluate(
        policy(1, BenefitTerms(BenefitKind.SETTLEMENT_SUBSIDY, yuan_per_m2=100, cap_yuan=20_000))
    )

    # then 300 × 100 = 30,000, cut to the cap 20,000, paid in year 1
    benefit = result.applied[0].benefits[0]
    assert result.years == Y(20000, 0, 0)
    assert benefit.uncapped_total == Decimal("30000.00")
    assert benefit.arithmetic == "300 m² × 100 yuan/m² = 30,000; capped at 20,000 in total → 20,000"


def test_tax_reward_is_a_share_of_the_retained_tax_for_some_years_with_a_yearly_cap():
    # given 50% of the retained tax for 3 years, at most 800,000 a year
    terms = BenefitTerms(BenefitKind.TAX_REWARD, percent=50, years=3, yearly_cap_yuan=800_000)

    result = evaluate(policy(1, terms))

    # then 5,000,000 × 40% retained = 2,000,000; × 50% = 1,000,000 a year, cut to 800,000; × 3 = 2,400,000
    assert result.years == Y(800000, 800000, 800000)
    assert result.total == Decimal("2400000.00")
    assert result.applied[0].benefits[0].arithmetic == (
        "5,000,000 yuan tax × 40% retained × 50% × 3 years = 3,000,000; at most 800,000 a year → 2,400,000 "
        "(year 1: 800,000; year 2: 800,000; year 3: 800,000)"
    )


def test_the_retained_share_is_the_district_setting():
    # given the district keeps 30% instead of 40%
    terms = BenefitTerms(BenefitKind.TAX_REWARD, percent=50, years=1)

    result = evaluate(policy(1, terms), share=0.3)

    # then 5,000,000 × 30% × 50% = 750,000
    assert result.years == Y(750000, 0, 0)


def test_a_tax_reward_beyond_three_years_counts_in_the_total():
    # given 20% of retained tax for 5 years on 1,000,000 of tax
    profile = Profile(expected_annual_tax=1_000_000)

    result = evaluate(policy(1, BenefitTerms(BenefitKind.TAX_REWARD, percent=20, years=5)), profile=profile)

    # then 1,000,000 × 40% × 20% = 80,000 a year; three shown, five in the total = 400,000
    assert result.years == Y(80000, 80000, 80000)
    assert result.total == Decimal("400000.00")


def test_one_off_award_is_paid_in_year_one():
    result = evaluate(policy(1, BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=500_000)))

    assert result.years == Y(500000, 0, 0)


def test_renovation_subsidy_goes_to_the_owner():
    # given 30 yuan/m² for the owner's renovation
    result = evaluate(policy(1, BenefitTerms(BenefitKind.RENOVATION_SUBSIDY, yuan_per_m2=30)))

    # then 300 × 30 = 9,000, to the building's owner
    benefit = result.applied[0].benefits[0]
    assert (benefit.total, benefit.beneficiary) == (Decimal("9000.00"), "owner")
    assert benefit.arithmetic == "300 m² × 30 yuan/m² = 9,000, paid to the owner"


def test_a_total_cap_is_spent_year_by_year():
    # given 50% of rent for 18 months, capped at 200,000
    terms = BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=50, months=18, cap_yuan=200_000)

    result = evaluate(policy(1, terms))

    # then year 1 = 153,300 (under the cap); year 2 gets what is left: 200,000 − 153,300 = 46,700
    assert result.years == Y(153300, 46700, 0)
    assert result.total == Decimal("200000.00")


def test_the_benefits_of_one_policy_add_up():
    # given a rent subsidy (76,650) and a one-off award (100,000) in one policy
    result = evaluate(
        policy(
            1,
            BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=50, months=6),
            BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=100_000),
        )
    )

    # then 76,650 + 100,000 = 176,650
    assert result.total == Decimal("176650.00")


def test_an_offer_without_rent_uses_the_building_reference_rent():
    # given twelve rent-free months on 100 m²; TOWER's reference rent is 2.8
    terms = BenefitTerms(BenefitKind.RENT_FREE, months=12)

    # when the offer names no rent, then one at 2.0
    by_building = evaluate(policy(1, terms), offer=Offer(area_m2=100, on=ON))
    by_offer = evaluate(policy(1, terms), offer=Offer(area_m2=100, on=ON, rent_per_m2_day=2.0))

    # then 100 × 2.8 × 365 = 102,200, and 100 × 2.0 × 365 = 73,000
    assert by_building.total == Decimal("102200.00")
    assert by_offer.total == Decimal("73000.00")


# ------------------------------------------------------------------ stacking


def test_in_a_stacking_group_only_the_more_valuable_policy_applies():
    # given two "rent" policies: 50% for 6 months (76,650) and 4 rent-free months (306,600 × 4/12 = 102,200)
    subsidy = policy(1, BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=50, months=6), stacking_group="rent")
    free = policy(2, BenefitTerms(BenefitKind.RENT_FREE, months=4), stacking_group="rent", name="免租四个月")

    # when
    result = evaluate(subsidy, free)

    # then
    assert [o.policy_id for o in result.applied] == [2]
    assert result.total == Decimal("102200.00")
    assert [(o.policy_id, o.status) for o in result.outranked] == [(1, OUTRANKED)]
    assert "'免租四个月' is worth more (this one: 76,650 yuan)" in result.outranked[0].reason_en


def test_policies_of_different_groups_and_no_group_all_apply():
    # given a "rent" policy (76,650), a "tax" one (1,000,000 for 1 year) and an ungrouped award (10,000)
    result = evaluate(
        policy(1, BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=50, months=6), stacking_group="rent"),
        policy(2, BenefitTerms(BenefitKind.TAX_REWARD, percent=50, years=1), stacking_group="tax"),
        policy(3, BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=10_000)),
    )

    # then 76,650 + 1,000,000 + 10,000 = 1,086,650
    assert result.total == Decimal("1086650.00")


def test_equal_values_in_a_group_go_to_the_higher_priority():
    low = policy(
        1, BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=10_000), stacking_group="g", priority=1
    )
    high = policy(
        2, BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=10_000), stacking_group="g", priority=5
    )

    result = evaluate(low, high)

    assert [o.policy_id for o in result.applied] == [2]


def test_an_ineligible_policy_does_not_take_its_group():
    # given the richer policy of the group needs headquarters of 10,000,000 tax, which the applicant is not
    rich = policy(
        1,
        BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=900_000),
        stacking_group="g",
        condition="expected_annual_tax >= 10000000",
    )
    modest = policy(2, BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=10_000), stacking_group="g")

    result = evaluate(rich, modest)

    assert [o.policy_id for o in result.applied] == [2]
    assert result.ineligible[0].reason_en == "expected annual tax 5,000,000 < required 10,000,000"


# ------------------------------------------------------------------ conditions, dates, scope


def test_an_ineligible_policy_says_which_condition_failed():
    # given a 3,000,000-yuan applicant and a policy for 5,000,000 and more
    profile = Profile(industry_section="J", expected_annual_tax=3_000_000)
    terms = BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=1)

    result = evaluate(policy(1, terms, condition="expected_annual_tax >= 5000000"), profile=profile)

    assert result.applied == ()
    assert (result.ineligible[0].status, result.ineligible[0].reason_en) == (
        INELIGIBLE,
        "expected annual tax 3,000,000 < required 5,000,000",
    )
    assert result.ineligible[0].reason_zh == "预计年纳税(元) 3,000,000 < 要求 5,000,000"


@pytest.mark.parametrize(
    "on, applies",
    [
        (dt.date(2025, 12, 31), False),  # the day before valid-from
        (dt.date(2026, 1, 1), True),  # valid-from itself
        (dt.date(2026, 6, 30), True),  # valid-to itself
        (dt.date(2026, 7, 1), False),  # the day after valid-to
    ],
)
def test_a_policy_applies_only_between_its_dates(on, applies):
    terms = BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=1000)
    half_year = policy(1, terms, valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 6, 30))

    result = evaluate(half_year, offer=Offer(area_m2=300, on=on))

    assert result.total == (Decimal("1000.00") if applies else Decimal("0.00"))


def test_an_inactive_policy_does_not_apply():
    result = evaluate(policy(1, BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=1000), active=False))

    assert result.total == Decimal("0.00")


def test_a_building_policy_does_not_leak_to_the_building_next_door():
    # given a policy of TOWER only
    terms = BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=1000)
    book = PolicyBook([policy(1, terms, scope=Scope.BUILDING, scope_id=TOWER.id)], tax_retained_share=SHARE)

    # when
    here, there = book.evaluate(FINANCE, TOWER, OFFER), book.evaluate(FINANCE, NEXT_DOOR, OFFER)

    # then next door (same street, same circle) neither gets it nor hears of it
    assert here.total == Decimal("1000.00")
    assert (there.total, there.applied, there.ineligible) == (Decimal("0.00"), (), ())


def test_street_and_circle_policies_cover_their_buildings_only():
    street = policy(
        1, BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=100), scope=Scope.STREET, scope_id=1
    )
    circle = policy(
        2, BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=10), scope=Scope.BUSINESS_CIRCLE, scope_id=7
    )
    book = PolicyBook([street, circle], tax_retained_share=SHARE)

    batch = book.evaluate_many(FINANCE, [TOWER, NEXT_DOOR, ACROSS_TOWN], OFFER)

    # street 1 and circle 7: 100 + 10 = 110 in TOWER and NEXT_DOOR; nothing across town
    assert [batch.total(b.id) for b in (TOWER, NEXT_DOOR, ACROSS_TOWN)] == [Decimal("110.00")] * 2 + [
        Decimal("0.00")
    ]


def test_a_condition_on_the_building_is_read_per_building():
    # given a district policy for buildings of three stars or more; TOWER has 4, NEXT_DOOR 2
    terms = BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=100)
    book = PolicyBook([policy(1, terms, condition="star_rating >= 3")], tax_retained_share=SHARE)

    batch = book.evaluate_many(FINANCE, [TOWER, NEXT_DOOR], OFFER)

    assert (batch.total(TOWER.id), batch.total(NEXT_DOOR.id)) == (Decimal("100.00"), Decimal("0.00"))
    assert book.evaluate(FINANCE, NEXT_DOOR, OFFER).ineligible[0].reason_en == (
        "building star rating 2 < required 3"
    )


# ------------------------------------------------------------------ case by case


def _package(approved: bool) -> PolicyTerms:
    return policy(
        1,
        BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=2_000_000),
        scope=Scope.BUILDING,
        scope_id=TOWER.id,
        needs_approval=True,
        approved=approved,
        lead_id=7,
    )


def test_an_approved_package_applies_to_its_own_lead_only():
    own = Profile(lead_id=7)
    other = Profile(lead_id=8)

    assert evaluate(_package(approved=True), profile=own).total == Decimal("2000000.00")
    result = evaluate(_package(approved=True), profile=other)
    assert (result.total, result.ineligible) == (Decimal("0.00"), ())


def test_a_package_awaiting_approval_pays_nothing_and_says_so():
    result = evaluate(_package(approved=False), profile=Profile(lead_id=7))

    assert result.total == Decimal("0.00")
    assert (result.ineligible[0].status, result.ineligible[0].reason_en) == (
        AWAITING_APPROVAL,
        "case-by-case terms await approval",
    )


# ------------------------------------------------------------------ batch and single agree


def test_a_batch_gives_each_building_what_it_would_get_alone():
    # given district, street, circle and building policies with groups and conditions
    policies = [
        policy(
            1,
            BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=30, months=12, cap_yuan=50_000),
            stacking_group="r",
        ),
        policy(
            2,
            BenefitTerms(BenefitKind.RENT_FREE, months=3),
            stacking_group="r",
            scope=Scope.STREET,
            scope_id=1,
        ),
        policy(3, BenefitTerms(BenefitKind.TAX_REWARD, percent=20, years=3), condition="star_rating >= 3"),
        policy(
            4, BenefitTerms(BenefitKind.SETTLEMENT_SUBSIDY, yuan_per_m2=80), scope=Scope.BUILDING, scope_id=12
        ),
    ]
    book = PolicyBook(policies, tax_retained_share=SHARE)
    buildings = [TOWER, NEXT_DOOR, ACROSS_TOWN]

    batch = book.evaluate_many(FINANCE, buildings, OFFER)

    for building in buildings:
        alone = book.evaluate(FINANCE, building, OFFER)
        assert batch.years(building.id) == alone.years
        assert batch.total(building.id) == alone.total
        assert batch.policy_ids(building.id) == sorted(o.policy_id for o in alone.applied)


def test_no_policies_give_nothing():
    result = evaluate()

    assert (result.years, result.total, result.applied) == (Y(0, 0, 0), Decimal("0.00"), ())


def test_statuses_are_reported():
    result = evaluate(policy(1, BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=5)))

    assert result.applied[0].status == APPLIED


def test_the_worked_example_of_docs_policies_md():
    # given the district rent (30% × 12 months) and tax (30% × 3 years) policies, and the finance building's
    # rent-free months and 50% × 6 months rent subsidy, for a section-J company of 3,000,000 tax on 300 m²
    everywhere = {"condition": "registers_in_district and settles_in_district and pays_tax_in_district"}
    district_rent = policy(
        1,
        BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=30, months=12, cap_yuan=300_000),
        stacking_group="rent",
        **everywhere,
    )
    district_tax = policy(
        2,
        BenefitTerms(BenefitKind.TAX_REWARD, percent=30, years=3, yearly_cap_yuan=1_000_000),
        stacking_group="tax",
    )
    own = {"scope": Scope.BUILDING, "scope_id": TOWER.id}
    rent_free = policy(
        3, BenefitTerms(BenefitKind.RENT_FREE, months=3), condition='industry_section == "J"', **own
    )
    half_rent = policy(
        4, BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=50, months=6), stacking_group="rent", **own
    )
    profile = Profile(
        industry_section="J",
        expected_annual_tax=3_000_000,
        registers_in_district=True,
        settles_in_district=True,
        pays_tax_in_district=True,
    )

    result = evaluate(district_rent, district_tax, rent_free, half_rent, profile=profile)

    # then 91,980 + 76,650 + 360,000 in year 1; 360,000 in years 2 and 3; 1,248,630 in all
    assert result.years == Y(528630, 360000, 360000)
    assert result.total == Decimal("1248630.00")
    assert [o.policy_id for o in result.outranked] == [4]

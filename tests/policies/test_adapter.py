"""The Django adapter: policies in force for many buildings in a constant number of queries, buildings read
as of the evaluation date, and leads as applicant profiles."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.models import Building, BusinessCircle
from policies.adapter import (
    building_facts,
    evaluate_building,
    evaluate_buildings,
    offer_for_lead,
    policies_in_force,
    profile_from_lead,
)
from policies.engine import BenefitKind, Offer, Profile, Scope
from policies.services import district_settings_update, lead_what_if, policy_create
from tests.factories import BuildingFactory, LeadFactory, StreetFactory, industry

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 3, 1)
FROM = dt.date(2025, 1, 1)
PROFILE = Profile(
    industry_section="J", industry_division="66", expected_annual_tax=6_000_000, is_headquarters=True
)
OFFER = Offer(area_m2=400, on=ON)


def _award(amount: int, **options):
    options.setdefault("name", f"奖励{amount}")
    options.setdefault("valid_from", FROM)
    return policy_create(benefits=[{"kind": BenefitKind.ONE_OFF_AWARD, "amount_yuan": amount}], **options)


def _district(buildings: int) -> list[Building]:
    """`buildings` buildings in 8 streets and 4 circles; district, street, circle and building policies."""
    streets = [StreetFactory(name=f"街道{i}") for i in range(8)]
    circles = [BusinessCircle.objects.create(name=f"商圈{i}") for i in range(4)]
    rows = Building.objects.bulk_create(
        Building(
            code=f"Q{i:05d}",
            name=f"楼{i}",
            street=streets[i % 8],
            business_circle=circles[i % 4] if i % 3 else None,
            gross_area_m2=Decimal("20000"),
            leasable_area_m2=Decimal("15000"),
            star_rating=i % 6,
            featured_type="finance" if i % 10 == 0 else "",
            rent_min=Decimal("2.00"),
            rent_max=Decimal("3.00"),
        )
        for i in range(buildings)
    )
    _award(1000, condition="star_rating >= 3")
    for street in streets[:4]:
        _award(200, scope=Scope.STREET, street=street)
    for circle in circles:
        _award(30, scope=Scope.BUSINESS_CIRCLE, business_circle=circle)
    for building in rows[:40]:
        _award(5, scope=Scope.BUILDING, building=building, condition='industry_section == "J"')
    return rows


@pytest.mark.parametrize("size", [3, 2000])
def test_evaluating_many_buildings_takes_four_queries_whatever_their_number(size, django_assert_num_queries):
    # given a district of `size` buildings and its policies
    _district(size)

    # when / then: buildings (1), the retained-share setting (1), policies in force (1), their benefits (1)
    with django_assert_num_queries(4):
        result = evaluate_buildings(profile=PROFILE, offer=OFFER)

    assert len(result.building_ids) == size


def test_many_buildings_at_once_give_each_building_what_it_gets_alone():
    # given
    rows = _district(60)

    # when
    result = evaluate_buildings(profile=PROFILE, offer=OFFER)

    # then building 0 (street 0, no circle, 0 stars, own policy) gets 200 + 5 = 205;
    # building 4 (street 4: no street policy; circle 0: 30; 4 stars: 1,000; own: 5) gets 1,035
    assert result.total(rows[0].pk) == Decimal("205.00")
    assert result.total(rows[4].pk) == Decimal("1035.00")
    for building in rows[:12]:
        alone = evaluate_building(profile=PROFILE, offer=OFFER, building=building)
        assert alone.total == result.total(building.pk)


def test_a_building_policy_does_not_leak_to_the_building_next_door():
    # given two buildings in one street and one circle, a policy for the first only
    street, circle = StreetFactory(), BusinessCircle.objects.create(name="鉴湖商圈")
    first = BuildingFactory(street=street, business_circle=circle)
    second = BuildingFactory(street=street, business_circle=circle)
    _award(8000, scope=Scope.BUILDING, building=first)

    # when
    result = evaluate_buildings(profile=PROFILE, offer=OFFER)

    # then
    assert (result.total(first.pk), result.total(second.pk)) == (Decimal("8000.00"), Decimal("0.00"))


def test_only_policies_that_may_apply_to_the_buildings_are_loaded():
    # given policies of two streets, and buildings of the first street asked about
    north, south = StreetFactory(name="北"), StreetFactory(name="南")
    BuildingFactory(street=north)
    BuildingFactory(street=south)
    district = _award(1)
    mine = _award(2, scope=Scope.STREET, street=north)
    _award(3, scope=Scope.STREET, street=south)
    _award(4, valid_from=dt.date(2027, 1, 1), name="未生效")

    loaded = policies_in_force(on=ON, buildings=Building.objects.filter(street=north))

    assert list(loaded) == [district, mine]


def test_a_star_rating_counts_from_its_date():
    # given a 5-star building rated on 2026-06-01, asked about in March and in July
    BuildingFactory(star_rating=5, star_since=dt.date(2026, 6, 1), featured_type="finance")

    march = building_facts(Building.objects.all(), on=dt.date(2026, 3, 1))[0]
    july = building_facts(Building.objects.all(), on=dt.date(2026, 7, 1))[0]

    assert (march.star_rating, july.star_rating) == (0, 5)
    assert march.featured_type == "finance"  # no since-date: it has always held


def test_the_reference_rent_is_the_middle_of_the_asking_range():
    BuildingFactory(rent_min=Decimal("2.40"), rent_max=Decimal("3.00"))

    (facts,) = building_facts(Building.objects.all(), on=ON)

    assert facts.rent_per_m2_day == pytest.approx(2.7)  # (2.40 + 3.00) / 2


def test_the_district_setting_sets_the_retained_share():
    # given 10,000,000 of expected tax, 20% of the retained share for one year, the share set to 0.5
    building = BuildingFactory()
    policy_create(
        name="税收奖励",
        valid_from=FROM,
        benefits=[{"kind": BenefitKind.TAX_REWARD, "percent": 20, "years": 1}],
    )
    district_settings_update(tax_retained_share=Decimal("0.5"))

    result = evaluate_building(
        profile=Profile(expected_annual_tax=10_000_000), offer=OFFER, building=building
    )

    # then 10,000,000 × 50% × 20% = 1,000,000
    assert result.total == Decimal("1000000.00")


def test_without_the_setting_the_retained_share_is_forty_percent():
    building = BuildingFactory()
    policy_create(
        name="税收奖励",
        valid_from=FROM,
        benefits=[{"kind": BenefitKind.TAX_REWARD, "percent": 20, "years": 1}],
    )

    result = evaluate_building(
        profile=Profile(expected_annual_tax=10_000_000), offer=OFFER, building=building
    )

    # 10,000,000 × 40% × 20% = 800,000
    assert result.total == Decimal("800000.00")


def test_a_lead_becomes_a_profile_and_an_offer():
    # given a finance lead (division 66, section J) wanting 150–300 m²
    lead = LeadFactory(
        industry=industry("66"),
        expected_annual_tax=Decimal("2500000"),
        employees=30,
        is_headquarters=True,
        area_min_m2=Decimal("150"),
        area_max_m2=Decimal("300"),
    )

    profile, offer = profile_from_lead(lead), offer_for_lead(lead, on=ON)

    assert (profile.industry_section, profile.industry_division, profile.expected_annual_tax) == (
        "J",
        "66",
        2.5e6,
    )
    assert (profile.employees, profile.is_headquarters, profile.lead_id) == (30, True, lead.pk)
    assert offer.area_m2 == 225  # (150 + 300) / 2


def test_streets_are_loaded_by_name_for_conditions():
    # given a policy for buildings in 北海街道 written as a condition
    north = StreetFactory(name="北海街道")
    south = StreetFactory(name="城南街道")
    a, b = BuildingFactory(street=north), BuildingFactory(street=south)
    _award(70, condition='street == "北海街道"')

    result = evaluate_buildings(profile=PROFILE, offer=OFFER)

    assert (result.total(a.pk), result.total(b.pk)) == (Decimal("70.00"), Decimal("0.00"))


def test_a_lead_what_if_uses_its_profile_and_area():
    # given a finance lead wanting 200–400 m², and 50% of rent for 12 months for section J
    building = BuildingFactory(rent_min=Decimal("3.00"), rent_max=Decimal("3.00"))
    lead = LeadFactory(industry=industry("66"), area_min_m2=Decimal("200"), area_max_m2=Decimal("400"))
    policy_create(
        name="金融房租补贴",
        valid_from=FROM,
        condition='industry_section == "J"',
        benefits=[{"kind": BenefitKind.RENT_SUBSIDY, "percent": 50, "months": 12}],
    )

    result = lead_what_if(lead=lead, building=building, on=ON)

    # then (200 + 400) / 2 = 300 m² × 3.0 × 365 × 50% = 164,250
    assert result.total == Decimal("164250.00")


@pytest.mark.django_db
def test_a_leads_profile_carries_its_own_entry_intentions():
    # given a lead that will register and settle here but pay its tax elsewhere
    lead = LeadFactory(pays_tax_in_district=False)

    # when
    profile = profile_from_lead(lead)

    # then
    assert (profile.registers_in_district, profile.settles_in_district, profile.pays_tax_in_district) == (
        True,
        True,
        False,
    )
    # and a what-if may still override one
    assert profile_from_lead(lead, pays_tax_in_district=True).pays_tax_in_district

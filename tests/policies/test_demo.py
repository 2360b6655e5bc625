"""The demo policies: a district baseline, one policy per street and per featured building, and one approved
case-by-case package, made from the buildings in the database, the same for the same seed."""

import datetime as dt
import random
from decimal import Decimal

import pytest

from crm.constants import FeaturedType, LeadStage, Role
from policies.adapter import profile_from_lead
from policies.demo import seed_demo_policies
from policies.engine import Offer, Profile
from policies.models import ApprovalStatus, Policy
from policies.services import policy_what_if
from tests.factories import BuildingFactory, LeadFactory, StreetFactory, UserFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2023, 12, 31)


@pytest.fixture
def district():
    north, south = StreetFactory(name="北海街道"), StreetFactory(name="城南街道")
    featured = {
        kind: BuildingFactory(street=north if i % 2 else south, featured_type=kind, rent_min=Decimal("2.8"))
        for i, kind in enumerate(FeaturedType)
    }
    plain = BuildingFactory(street=north)
    not_yet = BuildingFactory(
        street=south, featured_type=FeaturedType.MAKER, featured_since=dt.date(2024, 5, 1)
    )
    lead = LeadFactory(
        stage=LeadStage.NEGOTIATING, case_by_case=True, expected_annual_tax=Decimal("80000000")
    )
    admin = UserFactory(role=Role.DISTRICT_ADMIN)
    return featured, plain, not_yet, lead, admin


def _summary():
    return sorted(
        (
            p.scope,
            p.name,
            p.condition,
            p.stacking_group,
            tuple(p.benefits.values_list("kind", "months", "amount_yuan")),
        )
        for p in Policy.objects.all()
    )


def test_the_demo_policies_cover_district_streets_featured_buildings_and_one_package(district):
    featured, plain, not_yet, lead, admin = district

    counts = seed_demo_policies(rng=random.Random(7), as_of=AS_OF)

    # 5 district-wide (the referral reward among them), 1 per street (2), 1 per building featured by the
    # as-of date (5, not the one from 2024)
    assert counts == {"district": 5, "street": 2, "building": 5, "case_by_case": 1}
    assert set(
        Policy.objects.filter(scope="building", lead__isnull=True).values_list("building", flat=True)
    ) == {b.pk for b in featured.values()}
    package = Policy.objects.get(lead__isnull=False)
    assert (package.lead, package.approval_status) == (lead, ApprovalStatus.APPROVED)
    assert (package.proposed_by, package.reviewed_by) == (lead.owner.user, admin)


def test_the_finance_building_gives_section_j_companies_three_rent_free_months(district):
    # given the demo policies; a section-J company takes 300 m² of the finance building at 2.8 yuan/m²/day
    featured, *_ = district
    seed_demo_policies(rng=random.Random(7), as_of=AS_OF)
    profile = Profile(industry_section="J", industry_division="66")

    result = policy_what_if(
        profile=profile, building=featured[FeaturedType.FINANCE], offer=Offer(area_m2=300, on=AS_OF)
    )

    # then 300 × 2.8 × 365 × 3/12 = 76,650 from the building's own policy
    own = [o for o in result.applied if o.scope == "building"]
    assert [b.total for o in own for b in o.benefits] == [Decimal("76650.00")]


def test_the_headquarters_building_outbids_the_district_tax_reward_for_a_big_headquarters(district):
    # given a headquarters expecting 8,000,000 yuan of tax in the headquarters building
    featured, *_ = district
    seed_demo_policies(rng=random.Random(7), as_of=AS_OF)
    profile = Profile(expected_annual_tax=8_000_000, is_headquarters=True, pays_tax_in_district=True)

    result = policy_what_if(
        profile=profile, building=featured[FeaturedType.HEADQUARTERS], offer=Offer(area_m2=1000, on=AS_OF)
    )

    # then in group "tax": the building's 8,000,000 × 40% × 50% = 1,600,000 a year beats the district's
    # 8,000,000 × 40% × 30% = 960,000 a year
    tax = [o for o in result.applied if o.stacking_group == "tax"]
    assert [o.all_years[:3] for o in tax] == [(Decimal("1600000.00"),) * 3]
    assert [o.name for o in result.outranked] == ["税收贡献奖励"]


def test_the_approved_package_applies_to_its_lead(district):
    *_, lead, _ = district
    seed_demo_policies(rng=random.Random(7), as_of=AS_OF)
    package = Policy.objects.get(lead=lead)

    result = policy_what_if(
        profile=profile_from_lead(lead), building=package.building, offer=Offer(500, AS_OF)
    )

    assert package.pk in [o.policy_id for o in result.applied]


def test_the_same_seed_gives_the_same_policies(district):
    seed_demo_policies(rng=random.Random(11), as_of=AS_OF)
    first = _summary()
    Policy.objects.all().delete()

    seed_demo_policies(rng=random.Random(11), as_of=AS_OF)

    assert _summary() == first

"""Commitments: a completed signing stores the evaluated package as a snapshot that later policy edits do not
change, and the district totals its promises per year, per building and per policy."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.constants import LeadStage
from crm.services.signings import signing_complete
from policies.engine import BenefitKind, Scope
from policies.models import Commitment
from policies.selectors import commitments_by_building, commitments_by_policy, commitments_by_year
from policies.services import policy_create, policy_update
from tests.factories import BuildingFactory, LeadFactory, UnitFactory, industry, make_credit_code

pytestmark = pytest.mark.django_db

SIGNED_ON = dt.date(2026, 3, 1)


def _sign(n: int, building, area="300", rent="2.80"):
    lead = LeadFactory(
        stage=LeadStage.NEGOTIATING,
        credit_code=make_credit_code(7000 + n),
        industry=industry("66"),
        expected_annual_tax=Decimal("5000000"),
    )
    unit = UnitFactory(building=building, area_m2=Decimal(area))
    return signing_complete(
        lead=lead, building=building, units=[unit], signed_on=SIGNED_ON, rent=Decimal(rent)
    )


@pytest.fixture
def policies():
    tower = BuildingFactory(name="金融大厦")
    rent = policy_create(
        name="金融企业房租补贴",
        scope=Scope.BUILDING,
        building=tower,
        valid_from=dt.date(2026, 1, 1),
        condition='industry_section == "J"',
        benefits=[{"kind": BenefitKind.RENT_SUBSIDY, "percent": 50, "months": 18}],
    )
    tax = policy_create(
        name="税收贡献奖励",
        valid_from=dt.date(2026, 1, 1),
        benefits=[{"kind": BenefitKind.TAX_REWARD, "percent": 10, "years": 2}],
    )
    return tower, rent, tax


def test_completing_a_signing_stores_the_evaluated_package(policies):
    # given a finance building with a rent subsidy and a district tax reward
    tower, rent, tax = policies

    # when a section-J company signs 300 m² at 2.8 yuan/m²/day
    signing = _sign(1, tower)

    # then rent: 300 × 2.8 × 365 × 50% = 153,300 in year 1 and × 6/12 = 76,650 in year 2;
    # tax: 5,000,000 × 40% × 10% = 200,000 in years 1 and 2; total 153,300 + 76,650 + 400,000 = 629,950
    commitment = signing.commitment
    assert commitment.total_yuan == Decimal("629950.00")
    assert commitment.evaluated_on == SIGNED_ON
    assert commitment.snapshot["evaluation"]["years"][:3] == ["353300.00", "276650.00", "0.00"]
    assert {o["name"] for o in commitment.snapshot["evaluation"]["applied"]} == {rent.name, tax.name}
    lines = sorted(commitment.lines.values_list("policy_name", "year", "amount_yuan"))
    assert lines == [
        ("税收贡献奖励", 2026, Decimal("200000.00")),
        ("税收贡献奖励", 2027, Decimal("200000.00")),
        ("金融企业房租补贴", 2026, Decimal("153300.00")),
        ("金融企业房租补贴", 2027, Decimal("76650.00")),
    ]


def test_a_later_policy_edit_does_not_change_the_commitment(policies):
    # given a signing under the tax reward of 10%
    tower, _, tax = policies
    signing = _sign(2, tower)

    # when the policy is raised to 50% and then deleted
    policy_update(policy=tax, benefits=[{"kind": BenefitKind.TAX_REWARD, "percent": 50, "years": 2}])
    tax.delete()

    # then the promise stands as made, with the policy's name
    commitment = Commitment.objects.get(signing=signing)
    assert commitment.total_yuan == Decimal("629950.00")
    assert sorted(
        commitment.lines.filter(policy_name="税收贡献奖励").values_list("amount_yuan", flat=True)
    ) == [
        Decimal("200000.00"),
        Decimal("200000.00"),
    ]
    assert commitment.lines.filter(policy__isnull=True).count() == 2


def test_a_signing_with_no_policy_records_an_empty_promise():
    building = BuildingFactory()

    signing = _sign(3, building)

    assert signing.commitment.total_yuan == Decimal("0.00")
    assert not signing.commitment.lines.exists()


def test_the_district_totals_its_promises_per_year_building_and_policy(policies):
    # given two signings in the tower and one in another building (tax reward only)
    tower, rent, tax = policies
    elsewhere = BuildingFactory(name="城南大厦")
    _sign(4, tower)
    _sign(5, tower, area="100", rent="3.00")
    _sign(6, elsewhere)

    # then rent in the tower: 153,300 + 76,650 for 300 m²; 100 × 3 × 365 × 50% = 54,750 + 27,375 for 100 m²;
    # tax: 200,000 a year for 2 years for each of the three companies
    by_year = {row["year"]: row["total"] for row in commitments_by_year()}
    assert by_year == {
        2026: Decimal("153300") + Decimal("54750") + 3 * Decimal("200000"),
        2027: Decimal("76650") + Decimal("27375") + 3 * Decimal("200000"),
    }
    by_building = {row["commitment__building__name"]: row["total"] for row in commitments_by_building()}
    assert by_building == {
        "金融大厦": Decimal("153300")
        + Decimal("76650")
        + Decimal("54750")
        + Decimal("27375")
        + 4 * Decimal("200000"),
        "城南大厦": 2 * Decimal("200000"),
    }
    by_policy = {row["policy_name"]: row["total"] for row in commitments_by_policy()}
    assert by_policy == {
        "金融企业房租补贴": Decimal("153300") + Decimal("76650") + Decimal("54750") + Decimal("27375"),
        "税收贡献奖励": 6 * Decimal("200000"),
    }

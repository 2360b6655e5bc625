"""Creating and editing policies through the services: valid ones are stored with history; every bad input
of the issue is refused with a message naming the problem, and nothing is stored."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from policies.engine import BenefitKind, Scope
from policies.models import Benefit, Policy
from policies.services import policy_create, policy_update
from tests.factories import BuildingFactory, StreetFactory

pytestmark = pytest.mark.django_db

FROM = dt.date(2026, 1, 1)
RENT_HALF = {"kind": BenefitKind.RENT_SUBSIDY, "percent": 50, "months": 6}


def _create(**overrides) -> Policy:
    arguments = {"name": "入驻房租补贴", "valid_from": FROM, "benefits": [RENT_HALF], **overrides}
    return policy_create(**arguments)


def _refused(**overrides) -> str:
    """The messages of a refused policy_create, after checking that nothing was stored."""
    with pytest.raises(ValidationError) as error:
        _create(**overrides)
    assert not Policy.objects.exists()
    assert not Benefit.objects.exists()
    assert not Policy.history.exists()
    return " ".join(f"{field}: {' '.join(messages)}" for field, messages in error.value.message_dict.items())


def test_a_valid_policy_is_stored_with_its_benefits_and_history():
    # given a finance building
    building = BuildingFactory(featured_type="finance")

    # when
    policy = _create(
        scope=Scope.BUILDING,
        building=building,
        condition='industry_section == "J" and area_m2 >= 300',
        benefits=[{"kind": BenefitKind.RENT_FREE, "months": 3}, RENT_HALF],
        stacking_group=" rent ",
    )

    # then
    policy.refresh_from_db()
    assert (policy.scope, policy.building, policy.stacking_group) == ("building", building, "rent")
    assert sorted(policy.benefits.values_list("kind", flat=True)) == ["rent_free", "rent_subsidy"]
    assert policy.history.count() == 1


def test_a_condition_with_a_syntax_error_is_refused_with_its_position():
    message = _refused(condition='industry_section == == "J"')

    assert "condition: " in message
    assert "condition syntax error at character 21" in message


def test_a_condition_with_an_unknown_field_is_refused_with_the_allowed_names():
    message = _refused(condition="expected_anual_tax >= 5000000")

    assert "unknown field 'expected_anual_tax' (did you mean expected_annual_tax?)" in message
    assert "allowed fields: industry_section, industry_division, area_m2" in message


def test_comparing_industry_with_a_number_is_refused():
    message = _refused(condition="industry_section == 5")

    assert "type mismatch: industry_section is text and cannot be compared with a number 5" in message


def test_an_industry_code_that_does_not_exist_is_refused():
    message = _refused(condition='industry_section == "Z"')

    assert 'industry_section has no value "Z"' in message


def test_a_misspelt_featured_type_is_refused():
    message = _refused(condition='featured_type == "finanse"')

    assert 'featured_type has no value "finanse"' in message


def test_a_negative_percentage_is_refused():
    message = _refused(benefits=[{"kind": BenefitKind.RENT_SUBSIDY, "percent": -10, "months": 6}])

    assert "benefit 1 percent" in message
    assert "rent subsidy percent -10% cannot be negative" in message


def test_a_negative_amount_is_refused():
    message = _refused(benefits=[{"kind": BenefitKind.ONE_OFF_AWARD, "amount_yuan": -500}])

    assert "amount (yuan) -500 cannot be negative" in message


def test_a_cap_below_zero_is_refused():
    benefit = {"kind": BenefitKind.SETTLEMENT_SUBSIDY, "yuan_per_m2": 100, "cap_yuan": -1}

    message = _refused(benefits=[benefit])

    assert "total cap (yuan) -1 cannot be below zero" in message


def test_a_yearly_cap_below_zero_is_refused():
    benefit = {"kind": BenefitKind.TAX_REWARD, "percent": 50, "years": 3, "yearly_cap_yuan": -100}

    message = _refused(benefits=[benefit])

    assert "yearly cap (yuan) -100 cannot be below zero" in message


def test_valid_to_before_valid_from_is_refused():
    message = _refused(valid_to=dt.date(2025, 12, 31))

    assert "valid_to: " in message
    assert "valid-to 2025-12-31 is before valid-from 2026-01-01" in message


def test_a_benefit_over_100_percent_of_rent_is_refused():
    message = _refused(benefits=[{"kind": BenefitKind.RENT_SUBSIDY, "percent": 120, "months": 6}])

    assert "rent subsidy percent 120% cannot exceed 100% (0–100% of rent)" in message


def test_a_benefit_missing_its_parameter_is_refused():
    message = _refused(benefits=[{"kind": BenefitKind.TAX_REWARD, "percent": 50}])

    assert "a tax reward needs years" in message


def test_a_parameter_of_another_kind_is_refused():
    message = _refused(benefits=[{"kind": BenefitKind.ONE_OFF_AWARD, "amount_yuan": 1000, "months": 3}])

    assert "months does not apply to a one-off award" in message


def test_an_unknown_benefit_kind_is_refused():
    message = _refused(benefits=[{"kind": "free_lunch", "amount_yuan": 1}])

    assert "unknown benefit kind 'free_lunch'" in message


def test_a_policy_without_benefits_is_refused():
    message = _refused(benefits=[])

    assert "a policy needs at least one benefit" in message


def test_a_street_policy_without_its_street_is_refused():
    message = _refused(scope=Scope.STREET)

    assert "a street policy needs its street" in message


def test_a_district_policy_naming_a_building_is_refused():
    message = _refused(building=BuildingFactory())

    assert "a district-wide policy does not name a building" in message


def test_every_problem_is_reported_at_once():
    message = _refused(
        valid_to=dt.date(2020, 1, 1),
        condition="industry_section == 5",
        benefits=[{"kind": BenefitKind.RENT_SUBSIDY, "percent": 150, "months": 6}],
    )

    assert "valid-to 2020-01-01 is before" in message
    assert "type mismatch" in message
    assert "cannot exceed 100%" in message


def test_the_database_refuses_a_benefit_over_100_percent_written_past_the_services():
    # given a stored policy
    policy = _create()

    # when a row is forced in with 150%
    with pytest.raises(IntegrityError), transaction.atomic():
        Benefit.objects.create(policy=policy, kind=BenefitKind.RENT_SUBSIDY, percent=Decimal("150"), months=6)


def test_the_database_refuses_a_policy_whose_scope_names_no_place():
    with pytest.raises(IntegrityError), transaction.atomic():
        Policy.objects.create(name="x", scope=Scope.STREET, valid_from=FROM)


def test_an_update_changes_fields_and_replaces_benefits():
    # given
    street = StreetFactory()
    policy = _create()

    # when
    policy_update(
        policy=policy,
        scope=Scope.STREET,
        street=street,
        priority=5,
        benefits=[{"kind": BenefitKind.ONE_OFF_AWARD, "amount_yuan": 10_000}],
    )

    # then
    policy.refresh_from_db()
    assert (policy.scope, policy.street, policy.priority) == ("street", street, 5)
    assert list(policy.benefits.values_list("kind", "amount_yuan")) == [
        ("one_off_award", Decimal("10000.00"))
    ]
    assert policy.history.count() == 2


def test_a_refused_update_changes_nothing():
    # given
    policy = _create(condition="area_m2 >= 100")

    # when
    with pytest.raises(ValidationError) as error:
        policy_update(
            policy=policy,
            condition="area_m2 >= ",
            benefits=[{"kind": BenefitKind.RENT_SUBSIDY, "percent": 101, "months": 1}],
        )

    # then
    assert "condition syntax error" in " ".join(error.value.message_dict["condition"])
    policy.refresh_from_db()
    assert policy.condition == "area_m2 >= 100"
    assert list(policy.benefits.values_list("percent", flat=True)) == [Decimal("50.00")]
    assert policy.history.count() == 1


def test_an_update_cannot_touch_the_approval_fields():
    policy = _create()

    with pytest.raises(ValidationError) as error:
        policy_update(policy=policy, approval_status="approved")

    assert "fields that cannot be changed" in " ".join(error.value.messages)

"""The condition language: what it accepts, what it refuses (with the position or the allowed names), and
how it explains a failure in Chinese and English."""

import numpy as np
import pytest

from policies.conditions import FIELD_NAMES, ConditionError, parse_condition

ENV = {
    "industry_section": "J",
    "industry_division": "66",
    "area_m2": 300.0,
    "expected_annual_tax": 3_000_000.0,
    "expected_tax_per_m2": 10_000.0,
    "employees": 40.0,
    "is_headquarters": False,
    "registers_in_district": True,
    "settles_in_district": True,
    "pays_tax_in_district": True,
    "star_rating": 4.0,
    "featured_type": "finance",
    "street": "北海街道",
    "business_circle": "",
}


def test_an_empty_condition_holds_for_everyone():
    assert parse_condition("  ").test(ENV) is True


def test_a_condition_over_profile_and_offer_fields_holds():
    condition = parse_condition('industry_section == "J" and area_m2 >= 300')

    assert condition.test(ENV) is True
    assert condition.varies_by_building is False


def test_a_condition_on_a_building_field_varies_by_building():
    assert parse_condition("star_rating >= 3").varies_by_building is True


def test_a_failed_threshold_is_explained_with_both_numbers():
    # given 3,000,000 expected against a 5,000,000 threshold
    condition = parse_condition("expected_annual_tax >= 5000000")

    # when
    zh, en = condition.explain(ENV)

    # then
    assert en == "expected annual tax 3,000,000 < required 5,000,000"
    assert zh == "预计年纳税(元) 3,000,000 < 要求 5,000,000"


def test_the_first_failing_part_of_an_and_is_the_one_explained():
    condition = parse_condition('industry_section == "J" and is_headquarters')

    assert condition.explain(ENV)[1] == "headquarters: no (required: yes)"


def test_a_list_membership_failure_names_the_list():
    condition = parse_condition('industry_section in ["K", "L"]')

    assert condition.explain(ENV)[1] == "industry section J is not one of K, L"


def test_a_negation_that_fails_says_what_is_not_allowed():
    condition = parse_condition('not (featured_type == "finance")')

    assert condition.explain(ENV)[1] == "not allowed: featured type finance = finance"


def test_an_or_that_fails_lists_every_alternative():
    condition = parse_condition("is_headquarters or employees >= 100")

    assert condition.explain(ENV)[1] == (
        "none of these holds: headquarters: no (required: yes); headcount 40 < required 100"
    )


def test_a_constant_on_the_left_is_read_as_the_same_comparison():
    assert parse_condition("5000000 <= expected_annual_tax").explain(ENV)[1] == (
        "expected annual tax 3,000,000 < required 5,000,000"
    )


def test_a_syntax_error_is_refused_with_its_position():
    with pytest.raises(ConditionError) as error:
        parse_condition('industry_section == == "J"')

    # the second "==" starts at character 21 (1-based)
    assert error.value.position == 20
    assert "condition syntax error at character 21" in error.value.message
    assert "第 21 个字符" in error.value.message


def test_an_incomplete_condition_is_refused_at_its_end():
    with pytest.raises(ConditionError) as error:
        parse_condition('industry_section == "J" and (')

    assert "incomplete at the end" in error.value.message


def test_an_unknown_field_is_refused_with_a_suggestion_and_every_allowed_name():
    with pytest.raises(ConditionError) as error:
        parse_condition("expected_anual_tax > 3")

    message = error.value.message
    assert "unknown field 'expected_anual_tax' (did you mean expected_annual_tax?)" in message
    assert all(name in message for name in FIELD_NAMES)


def test_comparing_industry_with_a_number_is_a_type_mismatch():
    with pytest.raises(ConditionError) as error:
        parse_condition("industry_division == 66")

    assert "type mismatch: industry_division is text and cannot be compared with a number 66" in (
        error.value.message
    )
    assert 'write it as "66"' in error.value.message


def test_comparing_a_number_field_with_text_is_a_type_mismatch():
    with pytest.raises(ConditionError) as error:
        parse_condition('expected_annual_tax >= "5000000"')

    assert "type mismatch: expected_annual_tax is a number" in error.value.message


def test_a_number_field_alone_is_not_a_condition():
    with pytest.raises(ConditionError) as error:
        parse_condition("employees")

    assert "compare it with a value" in error.value.message


@pytest.mark.parametrize(
    "text, construct",
    [
        ("area_m2 + 10 > 300", "arithmetic"),
        ('industry_section =~ "J"', "regular expression"),
        ("area_m2 > employees", "comparing two fields"),
        ("industry_section == null", "null"),
    ],
)
def test_constructs_outside_the_language_are_refused(text, construct):
    with pytest.raises(ConditionError) as error:
        parse_condition(text)

    assert construct in error.value.message


def test_a_value_the_field_cannot_take_is_refused_when_values_are_known():
    with pytest.raises(ConditionError) as error:
        parse_condition('featured_type == "finanse"', known_values={"featured_type": ["finance", "maker"]})

    assert 'featured_type has no value "finanse"; allowed: finance, maker' in error.value.message


def test_python_is_never_evaluated():
    # given text that would run code under eval()
    with pytest.raises(ConditionError):
        parse_condition("__import__('os').system('true')")


def test_many_buildings_at_once_give_what_each_would_give_alone():
    # given a condition over a building field, and three buildings of 2, 3 and 5 stars
    condition = parse_condition('star_rating >= 3 and industry_section == "J"')
    stars = np.array([2.0, 3.0, 5.0])

    # when
    together = condition.test_many({**ENV, "star_rating": stars}, 3)

    # then
    alone = [condition.test({**ENV, "star_rating": s}) for s in stars]
    assert together.tolist() == alone == [False, True, True]

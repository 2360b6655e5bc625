"""The one yuan formatter (policies.engine.amounts.yuan_text) and the page filter and texts that use it."""

from decimal import Decimal

import pytest

from crm.web.templatetags.web import yuan
from policies.engine.amounts import format_yuan, yuan_text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1727450.85000000"), "1,727,450.85"),  # a database sum with 8 decimals
        (Decimal("9000000.00"), "9,000,000"),
        (Decimal("76650.50"), "76,650.50"),
        (Decimal("0.005"), "0.01"),  # half a fen rounds up
        (Decimal("-0.004"), "0"),  # a rounded zero has no sign
        (Decimal("-1234.5"), "-1,234.50"),
        (0.1 + 0.2, "0.30"),  # a float by its shortest repr, 0.3
        (30000, "30,000"),
        ("125342.4657", "125,342.47"),
        (None, "—"),
        ("", "—"),
        ("abc", "—"),
    ],
)
def test_yuan_are_shown_to_the_fen_with_separators(value, shown):
    assert yuan_text(value) == shown


def test_the_page_filter_and_the_policy_arithmetic_format_yuan_alike():
    # given 1,727,450.85 yuan as stored and as 172,745,085 fen in the evaluator
    # then the page, a text and the arithmetic all read the same
    assert yuan(Decimal("1727450.85000000")) == format_yuan(172_745_085.0) == "1,727,450.85"
    assert yuan(Decimal("30000.00")) == format_yuan(3_000_000.0) == "30,000"

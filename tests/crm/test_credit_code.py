"""The GB 32100-2015 check character, on codes in the real format."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st

from crm.credit_code import credit_code_check_character, credit_code_error, validate_credit_code

# Published codes of well-known companies and the standard's own example.
REAL_CODES = [
    "91350100M000100Y43",  # GB 32100-2015 example
    "9144030071526726XG",  # Tencent (Shenzhen)
    "914403001922038216",  # Huawei
    "91330100799655058B",  # Alibaba (China)
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert credit_code_error(code) is None


def test_check_character_by_hand():
    # given 91350100M000100Y4: values 9,1,3,5,0,1,0,0,21(M),0,0,0,1,0,0,30(Y),4
    # weights 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28
    # sum = 9+3+27+135+0+26+0+0+420+0+0+0+8+0+0+900+112 = 1640; 1640 mod 31 = 28; 31-28 = 3
    assert credit_code_check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize("first", ["A", "N", "Y"])
def test_letter_authorities_with_wrong_check_are_refused(first):
    first17 = f"{first}1330602MA2BC0001"
    right = credit_code_check_character(first17)
    wrong = "0" if right != "0" else "1"
    assert credit_code_error(first17 + right) is None
    assert "check character" in credit_code_error(first17 + wrong)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("91350100M000100Y44", "check character should be 3, not 4"),
        ("91350100M000100Y4", "must be 18 characters, got 17"),
        ("91350100M000100Y433", "must be 18 characters, got 19"),
        ("91350100I000100Y43", "forbidden characters I"),
        ("91350100O000100Y43", "forbidden characters O"),
        ("91350100Z000100Y43", "forbidden characters Z"),
        ("91350100S000100Y43", "forbidden characters S"),
        ("91350100V000100Y43", "forbidden characters V"),
        # the issue's example: its check character fits, but positions 3–8, "XTY13U", are no division code
        (
            "RTXTY13UH765QQ4E0Y",
            "positions 3–8 are the administrative division code and must be 6 digits, got XTY13U",
        ),
        ("9133060A0000000000", "must be 6 digits, got 33060A"),
    ],
)
def test_invalid_codes_say_why(code, words):
    assert words in credit_code_error(code)


def test_the_issues_example_has_a_fitting_check_character_but_a_letter_division():
    # given: the check character alone would accept it
    assert credit_code_check_character("RTXTY13UH765QQ4E0") == "Y"
    # then the structure refuses it
    assert "positions 3–8" in credit_code_error("RTXTY13UH765QQ4E0Y")


def test_a_model_refuses_a_letter_division_on_the_credit_code_field():
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("RTXTY13UH765QQ4E0Y")
    assert exc.value.code == "invalid_credit_code"


# ---------------------------------------------------------------------------- property tests

# An independent implementation of GB 32100-2015's check character, written from the standard's tables
# rather than from crm.credit_code: the character values of its table 1 and the weights of clause 5.2
# as listed there (not computed as powers of 3).
STANDARD_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGHJKLMNPQRTUWXY", range(10, 31), strict=True)),
}
STANDARD_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
STANDARD_CHARACTERS = {value: ch for ch, value in STANDARD_VALUES.items()}


def standard_check_character(first17: str) -> str:
    remainder = sum(STANDARD_VALUES[ch] * w for ch, w in zip(first17, STANDARD_WEIGHTS, strict=True)) % 31
    return STANDARD_CHARACTERS[0 if remainder == 0 else 31 - remainder]


CODE_CHARACTERS = "".join(STANDARD_VALUES)
code_characters = st.sampled_from(CODE_CHARACTERS)
first17s = st.builds(
    lambda head, division, organisation: head + division + organisation,
    st.text(code_characters, min_size=2, max_size=2),  # letters allowed: N…, Y…, A… authorities
    st.text(st.sampled_from("0123456789"), min_size=6, max_size=6),
    st.text(code_characters, min_size=9, max_size=9),
)


@given(first17s)
def test_the_check_character_agrees_with_the_standards_tables(first17):
    expected = standard_check_character(first17)
    assert credit_code_check_character(first17) == expected
    assert credit_code_error(first17 + expected) is None


@given(first17s, code_characters)
def test_any_other_check_character_is_refused(first17, last):
    assume(last != standard_check_character(first17))
    assert "check character" in credit_code_error(first17 + last)


@given(first17s, st.integers(2, 7), st.sampled_from("ABCDEFGHJKLMNPQRTUWXY"))
def test_a_letter_in_positions_3_to_8_is_refused_whatever_the_check(first17, position, letter):
    changed = first17[:position] + letter + first17[position + 1 :]
    error = credit_code_error(changed + standard_check_character(changed))
    assert "positions 3–8" in error

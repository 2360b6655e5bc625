"""The GB 32100-2015 check character, on codes in the real format."""

import pytest

from crm.credit_code import credit_code_check_character, credit_code_error

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
    ],
)
def test_invalid_codes_say_why(code, words):
    assert words in credit_code_error(code)

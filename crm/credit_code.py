"""The unified social credit code (统一社会信用代码, GB 32100-2015): normalising and checking it."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# 31 characters: the digits and the capitals without I, O, Z, S and V.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 3^(i-1) mod 31 for positions 1..17
LENGTH = 18
# Positions 3–8 (1-based) are the registering authority's administrative division code (GB/T 2260):
# six digits. Position 1 (the kind of authority) may be a letter: N, Y, A… are valid and some
# libraries wrongly refuse them.
DIVISION = slice(2, 8)


def normalise_credit_code(raw: str) -> str:
    return (raw or "").strip().upper()


def credit_code_check_character(first17: str) -> str:
    """The 18th character that makes `first17` a valid code."""
    total = sum(ALPHABET.index(ch) * weight for ch, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_error(code: str) -> str | None:
    """Why `code` is not a valid credit code, or None when it is."""
    if len(code) != LENGTH:
        return _("统一社会信用代码应为18位,实为%(n)d位 / must be 18 characters, got %(n)d") % {"n": len(code)}
    bad = sorted({ch for ch in code if ch not in ALPHABET})
    if bad:
        return _("含有不允许的字符 %(chars)s / contains forbidden characters %(chars)s") % {
            "chars": " ".join(bad)
        }
    division = code[DIVISION]
    if not (division.isascii() and division.isdigit()):
        return _(
            "第3–8位为登记管理机关行政区划码,应为6位数字,实为 %(division)s / "
            "positions 3–8 are the administrative division code and must be 6 digits, got %(division)s"
        ) % {"division": division}
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        return _(
            "校验位应为 %(expected)s 而不是 %(got)s / check character should be %(expected)s, not %(got)s"
        ) % {
            "expected": expected,
            "got": code[17],
        }
    return None


def validate_credit_code(value: str) -> None:
    error = credit_code_error(value)
    if error:
        raise ValidationError(error, code="invalid_credit_code")

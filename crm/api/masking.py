"""How personal contact data looks to those who may not read it: 138****1234, 张**."""

import re

_PHONE = re.compile(r"^[\d\s()+\-]+$")


def mask_personal(value: str | None) -> str | None:
    """A phone number keeps its first three and last four digits; anything else its first character."""
    if not value:
        return value
    if _PHONE.match(value):
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 8:
            return f"{digits[:3]}****{digits[-4:]}"
        return "*" * max(len(digits) - 2, 1) + digits[-2:]
    return value[0] + "*" * max(len(value) - 1, 1)

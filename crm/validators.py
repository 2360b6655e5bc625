"""Input every write path refuses, checked in one place: characters no column can hold, runaway length,
and dates outside the years the product deals in.

PostgreSQL cannot store NUL in text, a lone surrogate cannot be encoded as UTF-8, the other C0 controls
make an .xlsx export fail (XML 1.0 forbids them), and the bidirectional overrides and isolates make a
name read differently from what it is ("Trojan Source"). Joiners, marks, emoji and the right-to-left
*marks* (U+200E/F) are text, and pass.
"""

import datetime as dt
import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# Every text value an API or page accepts; the longest free text (a business scope, an activity's
# notes) is a few thousand characters, so a megabyte is a mistake or an attack.
MAX_TEXT_LENGTH = 10_000
# No input of the API nests more than two objects; a deeper one is refused before anything walks it.
MAX_DEPTH = 20

UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f"  # C0 controls (tab, line feed and carriage return pass) and DEL
    "\x80-\x9f"  # C1 controls
    "\ud800-\udfff"  # lone surrogates (a JSON "\ud800" decodes to one)
    "\u202a-\u202e\u2066-\u2069]"  # bidirectional embeddings, overrides and isolates
)

UNSAFE_MESSAGE = (
    "含有不允许的控制字符(U+{code:04X})/ holds a control character that is not allowed (U+{code:04X})"
)
TOO_LONG_MESSAGE = "文本过长(最多 {limit} 个字符)/ the text is too long (at most {limit} characters)"
TOO_DEEP_MESSAGE = "嵌套层级过深 / nested too deeply"
BAD_NAME_MESSAGE = "字段名含有不允许的字符 / a field name holds characters that are not allowed"


def unsafe_text_error(text: str, *, max_length: int | None = MAX_TEXT_LENGTH) -> str | None:
    """Why `text` cannot be accepted ("中文 / English"), or None when it can."""
    found = UNSAFE_CHARACTERS.search(text)
    if found is not None:
        return UNSAFE_MESSAGE.format(code=ord(found.group()))
    if max_length is not None and len(text) > max_length:
        return TOO_LONG_MESSAGE.format(limit=max_length)
    return None


@deconstructible
class SafeTextValidator:
    """A field validator: refuses unsafe characters and text over MAX_TEXT_LENGTH."""

    code = "unsafe_text"

    def __call__(self, value) -> None:
        if isinstance(value, str):
            error = unsafe_text_error(value)
            if error:
                raise ValidationError(error, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, SafeTextValidator)


def unsafe_input_errors(data, depth: int = 0) -> dict | list | None:
    """The errors of a parsed request body (JSON or form), shaped like it: {"field": ["message"]}.

    Every string is checked, keys included, at any depth, so that no field of any serializer,
    related-object lookups and nested objects included, passes a value the database cannot hold.
    """
    if depth > MAX_DEPTH:
        return [TOO_DEEP_MESSAGE]
    if isinstance(data, str):
        error = unsafe_text_error(data)
        return [error] if error else None
    if isinstance(data, Mapping):
        errors: dict = {}
        for key, value in data.items():
            if isinstance(key, str) and unsafe_text_error(key, max_length=200):
                errors.setdefault("non_field_errors", []).append(BAD_NAME_MESSAGE)
                continue
            values = data.getlist(key) if hasattr(data, "getlist") else [value]
            for item in values:
                found = unsafe_input_errors(item, depth + 1)
                if found:
                    errors[key] = found
                    break
        return errors or None
    if isinstance(data, list | tuple):
        for item in data:
            found = unsafe_input_errors(item, depth + 1)
            if found:
                return found if isinstance(found, list) else [found]
        return None
    return None


# Every date and time the pages, the API and the import accept lies in these years. Nothing in the
# district happened before 1900 or is planned after 2100; year 1 in Asia/Shanghai (+08:05:43 then) is
# 1 BC in UTC, which PostgreSQL stores and Python cannot read back, so one such value broke a lead.
YEAR_MIN = 1900
YEAR_MAX = 2100
# A reporting year (indicators, assessment, white paper, tax records): the plan's data starts in 1990.
REPORT_YEAR_MIN = 1990
DATE_RANGE_MESSAGE = (
    f"日期应在 {YEAR_MIN} 年至 {YEAR_MAX} 年之间 / "
    f"the date must lie between the years {YEAR_MIN} and {YEAR_MAX}"
)


def date_range_error(value: dt.date | dt.datetime | None) -> str | None:
    """Why `value` (a date or a datetime) is refused, or None when it lies in YEAR_MIN–YEAR_MAX."""
    if value is None or YEAR_MIN <= value.year <= YEAR_MAX:
        return None
    return DATE_RANGE_MESSAGE


@deconstructible
class DateRangeValidator:
    """A field validator: a date or datetime in YEAR_MIN–YEAR_MAX."""

    code = "date_out_of_range"
    message = DATE_RANGE_MESSAGE

    def __call__(self, value) -> None:
        error = date_range_error(value)
        if error:
            raise ValidationError(error, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, DateRangeValidator)

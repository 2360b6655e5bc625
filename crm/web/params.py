"""Query and form values a page reads without a form: a malformed one is a 400 naming it, never a 500.

A view calls these instead of int(request.GET[...]); BadParameter is turned into the 400 page (or
fragment) by crm.web.access.roles_required, which every page goes through.
"""

from collections.abc import Mapping

from crm.validators import REPORT_YEAR_MIN, YEAR_MAX, unsafe_text_error

# The largest primary key (PostgreSQL bigint): a longer "id" is no id, not an overflow.
MAX_ID = 2**63 - 1


class BadParameter(Exception):
    """A query or form value a page cannot use; `message` is "中文 / English"."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _whole_number(data: Mapping, name: str, low: int, high: int, what: tuple[str, str]) -> int | None:
    raw = data.get(name)
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    # ASCII digits only: str.isdigit also takes "²", which int() refuses.
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or not low <= int(text) <= high:
        raise BadParameter(name, f"应为 {low}–{high} 的{what[0]} / must be {what[1]} from {low} to {high}")
    return int(text)


def id_param(data: Mapping, name: str) -> int | None:
    """A row id among `data` (request.GET or POST), None when absent or blank."""
    return _whole_number(data, name, 1, MAX_ID, ("编号", "a row number"))


def ids_param(data: Mapping, name: str, *, separator: str = ";") -> list[int]:
    """Row ids joined by `separator` in one value (a hidden field's "12;13")."""
    parts = [part for part in str(data.get(name) or "").split(separator) if part.strip()]
    return [pk for part in parts if (pk := id_param({name: part}, name)) is not None]


def year_param(data: Mapping, name: str) -> int | None:
    """A reporting year, REPORT_YEAR_MIN–YEAR_MAX (crm.validators; the API's `year` takes the same)."""
    return _whole_number(data, name, REPORT_YEAR_MIN, YEAR_MAX, ("年份", "a year"))


def text_param(data: Mapping, name: str) -> str:
    """A free-text value (a search) without characters no column holds: a NUL fails a PostgreSQL query."""
    text = str(data.get(name) or "").strip()
    error = unsafe_text_error(text, max_length=500)
    if error:
        raise BadParameter(name, error)
    return text

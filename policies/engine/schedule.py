"""The periods of an agreement a commitment is paid by, and the state of one period's amount; pure.

Year k of a commitment is the k-th year of the agreement: from the month-anniversary of its start
to the day before the next one (a 2 December 2026 start: 2026-12-02..2027-12-01, then
2027-12-02..2028-12-01). A policy that pays by calendar year says so: its year 1 runs from the start
to 31 December, year k is the calendar year start.year + k - 1.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from decimal import Decimal

ONE_DAY = dt.timedelta(days=1)


class PeriodStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # the period has not begun
    DUE = "due"  # begun, not (wholly) paid
    PAID = "paid"
    WITHHELD = "withheld"  # the district withholds it, with a reason (conditions not met)
    CANCELLED = "cancelled"  # the signing was cancelled: nothing more is owed


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; a day the month lacks is its last day (29 Feb -> 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def agreement_period(start: dt.date, index: int, *, calendar_years: bool = False) -> tuple[dt.date, dt.date]:
    """The first and last day of year `index` (1-based) of an agreement starting on `start`."""
    if index < 1:
        raise ValueError(f"year index starts at 1, got {index}")
    if calendar_years:
        year = start.year + index - 1
        first = start if index == 1 else dt.date(year, 1, 1)
        return first, dt.date(year, 12, 31)
    return add_months(start, 12 * (index - 1)), add_months(start, 12 * index) - ONE_DAY


def period_status(
    *,
    amount: Decimal,
    paid: Decimal,
    period_start: dt.date,
    today: dt.date,
    withheld: bool = False,
    cancelled: bool = False,
) -> PeriodStatus:
    """Where one period's promised amount stands on `today`."""
    if paid >= amount:
        return PeriodStatus.PAID
    if withheld:
        return PeriodStatus.WITHHELD
    if cancelled:
        return PeriodStatus.CANCELLED
    return PeriodStatus.DUE if today >= period_start else PeriodStatus.SCHEDULED

"""Model fields that keep a page readable when a stored value lies at the calendar's edges."""

import datetime as dt

from django.db import models
from django.db.models import Q

from crm.validators import DATE_RANGE_MESSAGE, YEAR_MAX, YEAR_MIN

# The database's own bounds, so that no path (a raw UPDATE, a script, a bulk insert) can store a date
# psycopg cannot read back (issue 21). Dates: the years YEAR_MIN–YEAR_MAX. Instants: the years
# YEAR_MIN–YEAR_MAX in some time zone of the world, i.e. a day of slack either side in UTC, because the
# entry points check the year in the offset the value was given in (an API value may carry any offset
# up to ±24 h) and must never pass a value the database then refuses with an IntegrityError.
EARLIEST_DATE = dt.date(YEAR_MIN, 1, 1)
LATEST_DATE = dt.date(YEAR_MAX, 12, 31)
EARLIEST_INSTANT = dt.datetime(YEAR_MIN - 1, 12, 31, tzinfo=dt.UTC)
END_OF_INSTANTS = dt.datetime(YEAR_MAX + 1, 1, 2, tzinfo=dt.UTC)  # exclusive


def dates_within_years(name: str, *, dates: tuple[str, ...] = (), instants: tuple[str, ...] = ()):
    """One check constraint over a model's user-entered dates and instants (one per model, so that
    full_clean asks one query for all of them). A NULL passes, as NULL does in any check."""
    condition = Q()
    for field in dates:
        condition &= Q(**{f"{field}__gte": EARLIEST_DATE, f"{field}__lte": LATEST_DATE})
    for field in instants:
        condition &= Q(**{f"{field}__gte": EARLIEST_INSTANT, f"{field}__lt": END_OF_INSTANTS})
    return models.CheckConstraint(condition=condition, name=name, violation_error_message=DATE_RANGE_MESSAGE)


class EdgeDateTime(dt.datetime):
    """A stored instant outside YEAR_MIN–YEAR_MAX, which every entry point now refuses but older rows
    may hold: converting it to local time may leave the calendar (9999-12-31 23:00 UTC is year 10000
    in Asia/Shanghai), so the conversion gives the instant back as it is, in its own zone, instead of
    raising OverflowError in a template, a page or the API for everyone who reads the row."""

    def astimezone(self, tz=None):
        try:
            return super().astimezone(tz)
        except (OverflowError, ValueError):
            return self


class ReadableDateTimeField(models.DateTimeField):
    """A DateTimeField whose out-of-range values are read as EdgeDateTime (defence in depth).

    Deconstructs as Django's own field: the column and its migrations are unchanged.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or YEAR_MIN <= value.year <= YEAR_MAX:
            return value
        return EdgeDateTime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            tzinfo=value.tzinfo,
            fold=value.fold,
        )

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DateTimeField", args, kwargs

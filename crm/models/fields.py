"""Model fields that keep a page readable when a stored value lies at the calendar's edges."""

import datetime as dt

from django.db import models

from crm.validators import YEAR_MAX, YEAR_MIN


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

"""Repair stored dates outside the years 1900–2100 before 0013 forbids them (issue 21).

A nullable date (desired move-in, a follow-up, a release, an approval) out of range is unknown rather
than known, so it becomes NULL; a required one (when an activity happened, a tenancy's start, a
signing's date) cannot be NULL, so it is clamped to the nearest bound: 1 January 1900 or 31 December
2100 (instants at noon UTC on those days, the same date in Asia/Shanghai). The rows' history copies
are repaired the same way so that their admin history pages render. Only UPDATEs filtered on the
bounds: no bad value is read into Python, where psycopg could not convert it.
"""

import contextlib
import datetime as dt

from django.db import migrations

# Frozen copies of crm.models.fields' bounds, as a migration must not follow later code.
EARLIEST_DATE, LATEST_DATE = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
EARLIEST_INSTANT = dt.datetime(1899, 12, 31, tzinfo=dt.UTC)
END_OF_INSTANTS = dt.datetime(2101, 1, 2, tzinfo=dt.UTC)
CLAMPED_EARLY_INSTANT = dt.datetime(1900, 1, 1, 12, tzinfo=dt.UTC)
CLAMPED_LATE_INSTANT = dt.datetime(2100, 12, 31, 12, tzinfo=dt.UTC)

# model: (dates, instants); a field is nulled when nullable, else clamped.
BOUNDED = {
    "Lead": (
        ("desired_move_in",),
        ("lawful_basis_recorded_at", "entry_exception_approved_at", "created_at", "last_activity_at"),
    ),
    "StageChange": ((), ("changed_at",)),
    "Activity": ((), ("occurred_at", "next_follow_up_at")),
    "Reservation": (("expires_on",), ("created_at", "released_at")),
    "Signing": (("signed_on",), ()),
    "Tenancy": (("start", "end"), ()),
    "TenancyUnit": (("start", "end"), ()),
    "Reminder": (("due_on",), ("due_at", "act_by")),
    "EarlyWarning": (("due_on",), ()),
}


def _repair(model, name: str, low, high, early, late) -> None:
    rows = model._default_manager
    if model._meta.get_field(name).null:
        rows.filter(**{f"{name}__lt": low}).update(**{name: None})
        rows.filter(**{f"{name}__gte": high}).update(**{name: None})
    else:
        rows.filter(**{f"{name}__lt": low}).update(**{name: early})
        rows.filter(**{f"{name}__gte": high}).update(**{name: late})


def repair(apps, schema_editor):
    after_last_day = LATEST_DATE + dt.timedelta(days=1)
    for model_name, (dates, instants) in BOUNDED.items():
        models = [apps.get_model("crm", model_name)]
        with contextlib.suppress(LookupError):  # only some models keep a history
            models.append(apps.get_model("crm", f"Historical{model_name}"))
        for model in models:
            for name in dates:
                _repair(model, name, EARLIEST_DATE, after_last_day, EARLIEST_DATE, LATEST_DATE)
            for name in instants:
                _repair(
                    model,
                    name,
                    EARLIEST_INSTANT,
                    END_OF_INSTANTS,
                    CLAMPED_EARLY_INSTANT,
                    CLAMPED_LATE_INSTANT,
                )


class Migration(migrations.Migration):
    dependencies = [("crm", "0011_stored_results_and_data_versions")]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]

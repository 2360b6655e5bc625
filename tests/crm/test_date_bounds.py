"""The database itself refuses dates outside 1900–2100 (issue 21): no path, a raw SQL statement
included, can store a value psycopg cannot read back; migration 0012 repairs older rows first."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm.constants import ActivityKind, LeadStage
from crm.models import Activity, Lead, Reservation, Tenancy
from crm.services.reservations import unit_reserve
from tests.factories import LeadFactory, TenancyFactory, UnitFactory

pytestmark = pytest.mark.django_db

repair_migration = importlib.import_module("crm.migrations.0012_repair_dates_out_of_range")


def _copy_with(model, pk: int, column: str, value: str) -> None:
    """INSERT a copy of row `pk` of `model` with `column` set to the literal `value`, in raw SQL."""
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    chosen = ", ".join("%s" if c == column else connection.ops.quote_name(c) for c in columns)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {chosen} FROM {table} WHERE id = %s", [value, pk]
        )


@pytest.fixture
def rows():
    lead = LeadFactory(stage=LeadStage.NEGOTIATING)
    activity = Activity.objects.create(lead=lead, kind=ActivityKind.CALL, occurred_at=timezone.now())
    hold = unit_reserve(lead=lead, unit=UnitFactory(), expires_on=timezone.localdate())
    return {Lead: lead.pk, Activity: activity.pk, Reservation: hold.pk, Tenancy: TenancyFactory().pk}


@pytest.mark.parametrize(
    ("model", "column", "value"),
    [
        # the probe: year 1 in Asia/Shanghai, stored as 1 BC in UTC
        (Activity, "occurred_at", "0001-01-01 00:00:00+08:05:43"),
        (Activity, "next_follow_up_at", "9999-12-31 23:00:00+00"),
        (Lead, "last_activity_at", "1899-12-30 23:59:59+00"),
        (Lead, "desired_move_in", "2101-01-01"),
        (Reservation, "expires_on", "1899-12-31"),
        (Tenancy, "start", "0001-01-01"),
        (Tenancy, "end", "2101-01-01"),
    ],
)
def test_a_raw_insert_of_a_date_outside_1900_to_2100_is_refused(rows, model, column, value):
    if model is Reservation:  # one open hold per unit: the copy would collide on that first
        Reservation.objects.filter(pk=rows[model]).update(released_at=timezone.now())
    with pytest.raises(IntegrityError, match="dates_within_years"), transaction.atomic():
        _copy_with(model, rows[model], column, value)


@pytest.mark.parametrize(
    ("column", "value", "read_back"),
    [
        ("desired_move_in", "1900-01-01", dt.date(1900, 1, 1)),
        ("desired_move_in", "2100-12-31", dt.date(2100, 12, 31)),
        # 00:00 on 1 January 1900 in Asia/Shanghai (+08:05:43 then), the earliest a page accepts
        (
            "last_activity_at",
            "1900-01-01 00:00:00+08:05:43",
            dt.datetime(1899, 12, 31, 15, 54, 17, tzinfo=dt.UTC),
        ),
        # 23:59 on 31 December 2100 given with a −12:00 offset, which the API accepts
        ("last_activity_at", "2100-12-31 23:59:00-12:00", dt.datetime(2101, 1, 1, 11, 59, tzinfo=dt.UTC)),
    ],
)
def test_the_edges_every_entry_point_accepts_are_stored(rows, column, value, read_back):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE crm_lead SET {column} = %s WHERE id = %s", [value, rows[Lead]])
    assert getattr(Lead.objects.get(pk=rows[Lead]), column) == read_back


def _drop(constraint: str, model) -> None:
    # Inside the test's transaction, rolled back after it: the rows as they were before 0013.
    # Deferred foreign-key checks of the rows just written are run first: PostgreSQL alters no table
    # with checks pending.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {model._meta.db_table} DROP CONSTRAINT {constraint}")


def test_the_repair_migration_nulls_optional_dates_and_clamps_required_ones(rows):
    # given rows stored before the bounds: an activity in 1 BC with a follow-up in 9999, a lead
    # wanting to move in in 2200, a tenancy from year 1 to 9999
    _drop("activity_dates_within_years", Activity)
    _drop("lead_dates_within_years", Lead)
    _drop("tenancy_dates_within_years", Tenancy)
    _drop("tenancy_end_after_start", Tenancy)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crm_activity SET occurred_at = '0001-01-01 00:00+00',"
            " next_follow_up_at = '9999-12-31 23:00+00'"
        )
        cursor.execute(
            "UPDATE crm_lead SET desired_move_in = '2200-01-01', last_activity_at = '9000-01-01 00:00+00'"
        )
        cursor.execute("UPDATE crm_historicallead SET last_activity_at = '9000-01-01 00:00+00'")
        cursor.execute("UPDATE crm_tenancy SET start = '0001-01-01', \"end\" = '9999-12-31'")
    # when migration 0012 runs
    repair_migration.repair(apps, None)
    # then optional dates are unknown and required ones sit on the nearest bound
    activity = Activity.objects.get(pk=rows[Activity])
    assert activity.occurred_at == dt.datetime(1900, 1, 1, 12, tzinfo=dt.UTC)
    assert activity.next_follow_up_at is None
    lead = Lead.objects.get(pk=rows[Lead])
    assert lead.desired_move_in is None
    assert lead.last_activity_at == dt.datetime(2100, 12, 31, 12, tzinfo=dt.UTC)
    tenancy = Tenancy.objects.get(pk=rows[Tenancy])
    assert (tenancy.start, tenancy.end) == (dt.date(1900, 1, 1), None)
    # and the lead's history copies were repaired too (its admin history page reads them)
    assert set(lead.history.values_list("last_activity_at", flat=True)) == {
        dt.datetime(2100, 12, 31, 12, tzinfo=dt.UTC)
    }

"""Defence in depth (issue 21, item 5): a lead whose stored dates lie at the calendar's edges, which no
entry point accepts any more, still renders for every role that reads it."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from crm.constants import ActivityKind
from crm.models import Activity, Lead

pytestmark = pytest.mark.django_db

EARLIEST = dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.UTC)  # 08:05:43 local on 1 January of year 1
LATEST = dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.UTC)  # past the end of the calendar in Asia/Shanghai


@pytest.fixture
def bad_dates(district):
    # Rows stored before migration 0013 bounded the years: its constraints are dropped inside the test's
    # transaction (rolled back after it), the deferred foreign-key checks run first as PostgreSQL asks.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE crm_lead DROP CONSTRAINT lead_dates_within_years")
        cursor.execute("ALTER TABLE crm_activity DROP CONSTRAINT activity_dates_within_years")
    lead = district.lead
    Lead.objects.filter(pk=lead.pk).update(desired_move_in=dt.date(1, 1, 1), last_activity_at=EARLIEST)
    for at, follow_up in ((EARLIEST, LATEST), (LATEST, None)):
        Activity.objects.create(
            lead=lead, kind=ActivityKind.CALL, occurred_at=at, next_follow_up_at=follow_up, notes="旧数据"
        )
    return district


@pytest.mark.parametrize("role", ["promoter", "district_admin", "auditor", "street_officer"])
def test_a_lead_with_dates_at_the_calendars_edges_still_renders(bad_dates, role):
    # when
    client = bad_dates.client(role)
    page = client.get(reverse("web:lead", args=[bad_dates.lead.pk]))
    listing = client.get(reverse("web:leads"))
    api = client.get(f"/api/v1/leads/{bad_dates.lead.pk}/")
    activities = client.get(f"/api/v1/leads/{bad_dates.lead.pk}/activities/")
    # then
    assert page.status_code == 200
    assert listing.status_code == 200
    assert "旧数据" in page.content.decode()
    assert (api.status_code, activities.status_code) == (200, 200)
    # the instant as stored, in UTC, where local time would leave the calendar
    assert "9999-12-31T23:00:00Z" in activities.content.decode()


def test_the_leads_admin_page_renders_too(bad_dates):
    # given the office's login as staff, which the admin needs
    office = bad_dates.users["district_admin"]
    office.is_staff = True
    office.save(update_fields=["is_staff"])
    # when the office opens the lead and its history in the admin
    client = bad_dates.client("district_admin")
    change = client.get(f"/admin/crm/lead/{bad_dates.lead.pk}/change/")
    history = client.get(f"/admin/crm/lead/{bad_dates.lead.pk}/history/")
    # then
    assert (change.status_code, history.status_code) == (200, 200)

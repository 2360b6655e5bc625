"""Planned activities: a typed next step with a time and an assignee, done or moved, and reminded of."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.constants import ActivityKind, LeadStage
from crm.models import Activity, Reminder
from crm.services.activities import activity_log, activity_plan_complete, activity_plan_reschedule
from crm.services.followups import followups_scan
from tests.factories import BuildingFactory, LeadFactory, PromoterFactory, UnitFactory, UserFactory
from tests.workers.conftest import mailed_promoter

pytestmark = pytest.mark.django_db


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    """A time relative to now, on the minute (the forms' precision)."""
    return (timezone.now() + dt.timedelta(days=days, hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def owner(db):
    return mailed_promoter(1)


@pytest.fixture
def lead(owner):
    return LeadFactory(owner=owner, stage=LeadStage.CONTACTED, last_activity_at=at(days=-3))


def plan(lead, *, due: dt.datetime, kind: str = ActivityKind.VISIT, assignee=None, building=None, unit=None):
    """A call three days ago that planned the next activity."""
    return activity_log(
        lead=lead,
        kind=ActivityKind.CALL,
        occurred_at=at(days=-3),
        next_follow_up_at=due,
        next_kind=kind,
        next_assignee=assignee,
        building=building,
        unit=unit,
    )


def test_a_planned_activity_keeps_its_kind_time_and_assignee(lead, owner):
    # when
    activity = plan(lead, due=at(days=1), kind=ActivityKind.MEETING, assignee=owner)

    # then
    activity.refresh_from_db()
    assert activity.next_kind == ActivityKind.MEETING
    assert activity.next_follow_up_at == at(days=1)
    assert activity.next_assignee == owner


def test_a_planned_kind_without_a_time_is_refused_with_every_problem_at_once(lead):
    # given a promoter who cannot see the lead (another street's promoter sees only their own)
    stranger = mailed_promoter(2)

    # when
    with pytest.raises(ValidationError) as exc:
        activity_log(
            lead=lead,
            kind=ActivityKind.CALL,
            occurred_at=at(days=-1),
            next_kind=ActivityKind.SITE_TOUR,
            next_assignee=stranger,
        )

    # then: the time, the tour's building and the assignee, each under its field
    assert set(exc.value.message_dict) == {"next_follow_up_at", "building", "next_assignee"}
    assert Activity.objects.filter(lead=lead).count() == 0


def test_the_database_refuses_a_plan_without_a_time(lead):
    activity = activity_log(lead=lead, kind=ActivityKind.CALL, occurred_at=at(days=-1))

    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.filter(pk=activity.pk).update(next_kind=ActivityKind.CALL)


def test_done_logs_the_planned_activity_now_by_its_assignee(lead, owner):
    # given a visit planned for an hour ago
    planned = plan(lead, due=at(hours=-1), kind=ActivityKind.VISIT)

    # when
    done = activity_plan_complete(activity=planned, by=owner.user)

    # then: a visit now, by the owner (no assignee named), planning nothing further
    assert done.kind == ActivityKind.VISIT
    assert done.promoter == owner
    assert done.next_follow_up_at is None
    assert abs(done.occurred_at - timezone.now()) < dt.timedelta(minutes=1)
    lead.refresh_from_db()
    assert lead.last_activity_at == done.occurred_at


def test_a_planned_site_tour_is_done_in_the_booked_building_and_unit(lead, owner):
    # given a tour booked of 甲大厦 501
    building = BuildingFactory(name="甲大厦")
    unit = UnitFactory(building=building, number="501")
    planned = plan(lead, due=at(hours=2), kind=ActivityKind.SITE_TOUR, building=building, unit=unit)

    # when
    done = activity_plan_complete(activity=planned, by=owner.user)

    # then
    assert (done.kind, done.building, done.unit) == (ActivityKind.SITE_TOUR, building, unit)


def test_a_plan_done_twice_is_refused_the_second_time(lead, owner):
    # given
    planned = plan(lead, due=at(hours=-1))
    activity_plan_complete(activity=planned, by=owner.user)

    # when
    with pytest.raises(ValidationError) as exc:
        activity_plan_complete(activity=planned, by=owner.user)

    # then
    assert "activity" in exc.value.message_dict
    assert Activity.objects.filter(lead=lead).count() == 2  # the plan and its one completion


def test_rescheduling_moves_the_time_and_keeps_the_old_one_in_the_history(lead, owner):
    # given a visit planned for tomorrow 10:00 (relative)
    planned = plan(lead, due=at(days=1))

    # when: moved to the day after
    activity_plan_reschedule(activity=planned, due_at=at(days=2), by=owner.user)

    # then
    planned.refresh_from_db()
    assert planned.next_follow_up_at == at(days=2)
    history = list(planned.history.order_by("history_date").values_list("next_follow_up_at", "history_user"))
    assert history == [(at(days=1), None), (at(days=2), owner.user.pk)]


def test_rescheduling_into_the_past_is_refused(lead, owner):
    planned = plan(lead, due=at(days=1))

    with pytest.raises(ValidationError) as exc:
        activity_plan_reschedule(activity=planned, due_at=at(days=-1), by=owner.user)

    assert "due_at" in exc.value.message_dict
    planned.refresh_from_db()
    assert planned.next_follow_up_at == at(days=1)


def test_the_assignee_of_a_planned_activity_is_reminded_not_the_owner(lead, owner):
    # given a district-office colleague with a promoter profile (the office sees every lead)
    colleague = PromoterFactory(
        user=UserFactory(username="office-promoter", role="district_admin"), name="区办招商"
    )
    planned = plan(lead, due=at(hours=-2), assignee=colleague)

    # when
    result = followups_scan(now=timezone.now())

    # then
    reminder = Reminder.objects.get(lead=lead)
    assert result.created == 1
    assert reminder.promoter == colleague
    assert reminder.due_at == planned.next_follow_up_at
    assert reminder.reason == Reminder.Reason.FOLLOW_UP


def test_an_unplanned_stale_lead_still_reminds_its_owner(owner):
    # given a new lead (limit 3 days) quiet for 4 days, no plan
    quiet = LeadFactory(owner=owner, stage=LeadStage.NEW, last_activity_at=at(days=-4))

    # when
    followups_scan(now=timezone.now())

    # then
    reminder = Reminder.objects.get(lead=quiet)
    assert (reminder.reason, reminder.promoter) == (Reminder.Reason.STALE, owner)


def test_a_rescheduled_plan_is_reminded_again_on_its_new_day(lead, owner):
    # given a plan due two hours ago, reminded by a scan
    planned = plan(lead, due=at(hours=-2))
    followups_scan(now=timezone.now())
    first = Reminder.objects.get(lead=lead)

    # when: moved to tomorrow, and the scan runs tomorrow after the new time
    activity_plan_reschedule(activity=planned, due_at=at(days=1), by=owner.user)
    result = followups_scan(now=at(days=1, hours=1))

    # then: the first reminder (still pending) is moot, and one new reminder for tomorrow
    first.refresh_from_db()
    assert first.state == Reminder.State.RESOLVED
    assert result.created == 1
    new = Reminder.objects.exclude(pk=first.pk).get(lead=lead)
    assert new.due_at == at(days=1)
    assert new.due_on == timezone.localdate(at(days=1))


def test_a_rescheduled_plan_is_not_reminded_before_its_new_time(lead, owner):
    # given
    planned = plan(lead, due=at(hours=-2))
    followups_scan(now=timezone.now())

    # when: moved to tomorrow; the scan runs again now
    activity_plan_reschedule(activity=planned, due_at=at(days=1), by=owner.user)
    result = followups_scan(now=timezone.now())

    # then
    assert (result.due, result.created) == (0, 0)

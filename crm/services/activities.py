"""Logging what was done on a lead (calls, visits, site tours...) and when to follow up next."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from crm.constants import PLANNED_ACTIVITY_KINDS, ActivityKind
from crm.models import Activity, Building, Lead, Promoter, Reminder, Unit
from crm.selectors.scope import VIEW, can
from crm.services.common import attribute_to, invalid
from crm.services.dispatch import ACTIVITY_LOGGED, dispatch

# Clocks and time zones of the promoters' devices differ by minutes; more than a day ahead is a mistake.
LOGGED_AHEAD = dt.timedelta(days=1)
# A follow-up set years out is a typing mistake that would keep the lead off the overdue list for years.
FOLLOW_UP_HORIZON = dt.timedelta(days=366)


@transaction.atomic
def activity_log(
    *,
    lead: Lead,
    kind: str,
    occurred_at: dt.datetime,
    promoter: Promoter | None = None,
    by=None,
    building: Building | None = None,
    unit: Unit | None = None,
    notes: str = "",
    next_follow_up_at: dt.datetime | None = None,
    next_kind: str = "",
    next_assignee: Promoter | None = None,
) -> Activity:
    """Record one activity; it renews the owner's protection period from its time on. The next
    follow-up, with its kind and assignee, is the lead's planned activity until another is logged."""
    if kind == ActivityKind.SITE_TOUR and building is None and unit is not None:
        building = unit.building
    if kind == ActivityKind.SITE_TOUR and building is None:
        raise invalid("building", "实地看房须选择楼宇 / a site tour needs a building")
    if unit is not None and building is not None and unit.building_id != building.pk:
        raise invalid(
            "unit", f"房源 {unit.number} 不在楼宇 {building.name} / unit {unit.number} is not in {building}"
        )
    if occurred_at > timezone.now() + LOGGED_AHEAD:
        # An activity renews the owner's protection from its time on: a future one would hold the lead.
        raise invalid("occurred_at", "跟进时间不能晚于现在 / an activity cannot be logged ahead of time")
    if next_follow_up_at is not None and next_follow_up_at < occurred_at:
        raise invalid(
            "next_follow_up_at", "下次跟进时间早于本次跟进 / next follow-up is before this activity"
        )
    if next_follow_up_at is not None and next_follow_up_at > occurred_at + FOLLOW_UP_HORIZON:
        raise invalid(
            "next_follow_up_at",
            "下次跟进须在本次跟进后一年之内 / the next follow-up must be within a year of this activity",
        )
    _check_plan(
        lead=lead,
        next_follow_up_at=next_follow_up_at,
        next_kind=next_kind,
        next_assignee=next_assignee,
        building=building,
    )
    activity = Activity(
        lead=lead,
        kind=kind,
        occurred_at=occurred_at,
        promoter=promoter or lead.owner,
        building=building,
        unit=unit,
        notes=notes,
        next_follow_up_at=next_follow_up_at,
        next_kind=next_kind or "",
        next_assignee=next_assignee,
    )
    activity.full_clean()
    attribute_to(activity, by)
    activity.save()
    # Greatest(): an activity logged late for an earlier date must not shorten the protection.
    Lead.objects.filter(pk=lead.pk).update(
        last_activity_at=Greatest(F("last_activity_at"), Value(occurred_at))
    )
    lead.refresh_from_db(fields=["last_activity_at"])
    dispatch(ACTIVITY_LOGGED, lead_id=lead.pk)
    return activity


def _check_plan(
    *,
    lead: Lead,
    next_follow_up_at: dt.datetime | None,
    next_kind: str,
    next_assignee: Promoter | None,
    building: Building | None,
) -> None:
    """A planned activity needs its time; its assignee must be an active promoter who sees the lead
    (the one scoping rule), and a planned site tour its building. All problems in one answer."""
    errors: dict[str, list[str]] = {}
    if next_follow_up_at is None and (next_kind or next_assignee is not None):
        errors["next_follow_up_at"] = ["请填写下次跟进时间 / the planned activity needs a time"]
    if next_kind and next_kind not in PLANNED_ACTIVITY_KINDS:
        errors["next_kind"] = [
            "下次跟进须为电话、拜访、实地看房或会谈 / plan a call, a visit, a site tour or a meeting"
        ]
    if next_kind == ActivityKind.SITE_TOUR and building is None:
        errors["building"] = ["预约看房须选择楼宇 / a planned site tour needs a building"]
    if next_assignee is not None and not (next_assignee.active and can(next_assignee.user, lead, VIEW)):
        errors["next_assignee"] = [
            "负责人须是能查看此线索的在岗招商人员 / "
            "the assignee must be an active promoter who can see the lead"
        ]
    if errors:
        raise ValidationError(errors)


def _current_plan(activity: Activity) -> Lead:
    """Lock the lead and check that `activity` still holds its plan: the latest activity, with a
    follow-up time. A second click, or a plan replaced by a later activity, is refused."""
    lead = Lead.objects.select_for_update().get(pk=activity.lead_id)
    latest = (
        Activity.objects.filter(lead=lead)
        .order_by("-occurred_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    activity.refresh_from_db()
    if latest != activity.pk or activity.next_follow_up_at is None:
        raise invalid(
            "activity",
            "此计划已完成或已被新的跟进取代 / this planned activity was done or replaced by a later one",
        )
    return lead


@transaction.atomic
def activity_plan_complete(
    *,
    activity: Activity,
    by,
    promoter: Promoter | None = None,
    kind: str = "",
    notes: str = "",
    at: dt.datetime | None = None,
) -> Activity:
    """Mark the planned activity of `activity` done: log it now, as planned (its kind, and for a
    site tour the booked building and unit), by its assignee unless someone else did it."""
    lead = _current_plan(activity)
    kind = kind or activity.next_kind
    if not kind:
        raise invalid("kind", "请选择完成的跟进方式 / choose what kind of activity was done")
    tour = kind == ActivityKind.SITE_TOUR
    planned_for = f"{timezone.localtime(activity.next_follow_up_at):%Y-%m-%d %H:%M}"
    return activity_log(
        lead=lead,
        kind=kind,
        occurred_at=at or timezone.now(),
        promoter=promoter or activity.next_assignee or lead.owner,
        by=by,
        building=activity.building if tour else None,
        unit=activity.unit if tour else None,
        notes=notes or f"按计划完成({planned_for})/ done as planned ({planned_for})",
    )


@transaction.atomic
def activity_plan_reschedule(*, activity: Activity, due_at: dt.datetime, by) -> Activity:
    """Move the planned activity of `activity` to `due_at`. A pending reminder of the old time is
    moot (resolved); the reminders' scan reminds of the new time when it falls due."""
    lead = _current_plan(activity)
    now = timezone.now()
    if due_at < now - dt.timedelta(minutes=1):
        raise invalid("due_at", "新的跟进时间不能早于现在 / the new time cannot be in the past")
    if due_at > now + FOLLOW_UP_HORIZON:
        raise invalid("due_at", "跟进时间须在一年之内 / the planned activity must be within a year")
    activity.next_follow_up_at = due_at
    activity.full_clean()
    attribute_to(activity, by)
    activity.save(update_fields=["next_follow_up_at"])
    Reminder.objects.filter(
        lead=lead, reason=Reminder.Reason.FOLLOW_UP, state=Reminder.State.PENDING
    ).exclude(due_at=due_at).update(state=Reminder.State.RESOLVED)
    return activity

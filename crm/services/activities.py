"""Logging what was done on a lead (calls, visits, site tours...) and when to follow up next."""

import datetime as dt

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from crm.constants import ActivityKind
from crm.models import Activity, Building, Lead, Promoter, Unit
from crm.services.common import invalid
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
    by=None,  # noqa: ARG001 - kept for a uniform service signature; activities carry `promoter`
    building: Building | None = None,
    unit: Unit | None = None,
    notes: str = "",
    next_follow_up_at: dt.datetime | None = None,
) -> Activity:
    """Record one activity; it renews the owner's protection period from its time on."""
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
    activity = Activity(
        lead=lead,
        kind=kind,
        occurred_at=occurred_at,
        promoter=promoter or lead.owner,
        building=building,
        unit=unit,
        notes=notes,
        next_follow_up_at=next_follow_up_at,
    )
    activity.full_clean()
    activity.save()
    # Greatest(): an activity logged late for an earlier date must not shorten the protection.
    Lead.objects.filter(pk=lead.pk).update(
        last_activity_at=Greatest(F("last_activity_at"), Value(occurred_at))
    )
    lead.refresh_from_db(fields=["last_activity_at"])
    dispatch(ACTIVITY_LOGGED, lead_id=lead.pk)
    return activity

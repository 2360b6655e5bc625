"""Logging a retention visit (稳商走访) to an enterprise at risk of moving out of the district."""

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.models import Building, Enterprise, Tenancy
from crm.selectors.scope import CHANGE, visible_to
from crm.services.activities import LOGGED_AHEAD
from crm.services.common import attribute_to, invalid
from retention.models import RetentionScore, RetentionVisit

NOTES_MAX = 2000


@transaction.atomic
def retention_visit_log(
    *,
    enterprise: Enterprise,
    building: Building,
    by,
    occurred_at: dt.datetime | None = None,
    notes: str = "",
) -> RetentionVisit:
    """Record one visit to a tenant of `building` by someone whose scope holds the building; the
    risk it was visited at is kept with it, so that a later look can tell whether visits helped."""
    now = timezone.now()
    occurred_at = occurred_at or now
    today = timezone.localdate()
    tenant = Tenancy.objects.filter(
        Q(end__isnull=True) | Q(end__gte=today), enterprise=enterprise, building=building, start__lte=today
    )
    if not tenant.exists():
        raise invalid(
            "enterprise", "该企业不是本楼宇在租企业 / the enterprise is not a tenant of this building"
        )
    if occurred_at > now + LOGGED_AHEAD:
        raise invalid("occurred_at", "走访时间不能晚于现在 / a visit cannot be logged ahead of time")
    if len(notes) > NOTES_MAX:
        raise invalid("notes", f"记录不超过{NOTES_MAX}字 / notes are at most {NOTES_MAX} characters")
    risk = RetentionScore.objects.filter(enterprise=enterprise, building=building).values_list(
        "probability", flat=True
    )
    visit = RetentionVisit(
        enterprise=enterprise,
        building=building,
        occurred_at=occurred_at,
        by=by,
        probability=risk.first(),
        notes=notes,
    )
    visit.full_clean()
    attribute_to(visit, by)
    visit.save()
    # The one scoping function decides who may write a visit of this building; a visit outside the
    # writer's scope is rolled back with the transaction.
    if not visible_to(by, RetentionVisit, CHANGE).filter(pk=visit.pk).exists():
        raise invalid("building", "无权在该楼宇登记走访 / this building is outside your scope")
    return visit

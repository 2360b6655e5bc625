"""The promoter's desk: follow-ups due today and overdue, the pipeline by stage, this period's appraisal
against targets, notifications and early-warning tasks."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm.constants import OPEN_STAGES, LeadStage, Role
from crm.models import Activity, EarlyWarning, Lead, Notification, PromoterTarget, Reminder
from crm.models.appraisal import Metric, PeriodKind
from crm.services.appraisal import Period, achievement, promoter_metrics, score, weights_for
from crm.web.access import request_viewer, roles_required, scoped

DESK_ROLES = (Role.PROMOTER, Role.DISTRICT_ADMIN, Role.STREET_OFFICER)
SHOWN = 50  # rows per list on the desk; the leads page has the rest


def leads_with_plan(leads):
    """`leads` with `planned_at`: the next follow-up set by their latest activity (one subquery)."""
    latest = Activity.objects.filter(lead=OuterRef("pk")).order_by("-occurred_at", "-pk")
    return leads.annotate(planned_at=Subquery(latest.values("next_follow_up_at")[:1]))


def followups_due(leads, *, now: dt.datetime):
    """Open leads whose planned follow-up falls before the end of today, earliest first."""
    end_of_today = timezone.make_aware(
        dt.datetime.combine(timezone.localdate(now) + dt.timedelta(days=1), dt.time.min)
    )
    return (
        leads_with_plan(leads.filter(stage__in=OPEN_STAGES))
        .filter(planned_at__lt=end_of_today)
        .select_related("owner", "industry")
        .order_by("planned_at", "pk")
    )


def stale_reminders(leads):
    """Reminders that a lead went its stage's limit without contact, not answered by an activity since."""
    return (
        Reminder.objects.filter(
            lead__in=leads.filter(stage__in=OPEN_STAGES).values("pk"),
            reason=Reminder.Reason.STALE,
            lead__last_activity_at__lt=F("due_at"),
        )
        .exclude(state=Reminder.State.RESOLVED)
        .select_related("lead", "lead__owner")
        .order_by("due_at")
    )


def pipeline(leads) -> list[dict]:
    """Leads by stage with their expected yearly tax, in the stages' order (one query)."""
    rows = {
        row["stage"]: row
        for row in leads.values("stage").annotate(n=Count("pk"), tax=Sum("expected_annual_tax")).order_by()
    }
    result = []
    for stage in LeadStage:
        row = rows.get(stage.value, {})
        result.append(
            {"stage": stage.value, "label": stage.label, "count": row.get("n", 0), "tax": row.get("tax")}
        )
    most = max((r["count"] for r in result), default=0)
    for r in result:
        r["scale"] = most
    return result


def appraisal_now(promoter_id: int, *, today: dt.date) -> dict:
    """This month's figures of one promoter against their targets, computed now by the appraisal
    service's own functions (the stored snapshot is the nightly copy of the same numbers)."""
    period = Period.containing(PeriodKind.MONTH, today)
    figures = promoter_metrics(period).get(promoter_id, {})
    target = PromoterTarget.objects.filter(
        promoter_id=promoter_id, period_kind=period.kind, period_start=period.start
    ).first()
    weights = weights_for(period.start)
    rows, achieved = [], {}
    for metric in Metric:
        actual = figures.get(metric.value)
        goal = target.target(metric.value) if target else None
        share = achievement(metric.value, actual, goal)
        achieved[metric.value] = share
        rows.append(
            {
                "label": metric.label,
                "actual": actual,
                "target": goal,
                "achievement": share,
                "percent": None if share is None else (share * 100).quantize(Decimal("1")),
                "weight": weights.get(metric.value),
            }
        )
    return {"period": period, "rows": rows, "score": score(achieved, weights)}


@roles_required(DESK_ROLES)
def desk(request):
    viewer = request_viewer(request)
    now = timezone.now()
    leads = scoped(request, Lead)
    due = list(followups_due(leads, now=now)[:SHOWN])
    start_of_today = timezone.make_aware(dt.datetime.combine(timezone.localdate(now), dt.time.min))
    context = {
        "overdue": [lead for lead in due if lead.planned_at < start_of_today],
        "due_today": [lead for lead in due if lead.planned_at >= start_of_today],
        "stale": list(stale_reminders(leads)[:SHOWN]),
        "pipeline": pipeline(leads),
        "notifications": list(
            Notification.objects.filter(user=request.user)
            .select_related("lead")
            .order_by("read_at", "-created_at")[:20]
        ),
        "unread": Notification.objects.filter(user=request.user, read_at__isnull=True).count(),
        "warnings": list(
            EarlyWarning.objects.filter(assignee=request.user, state=EarlyWarning.State.OPEN)
            .select_related("building", "enterprise")
            .order_by("due_on", "-created_at")[:20]
        ),
        "appraisal": appraisal_now(viewer.promoter_id, today=timezone.localdate(now))
        if viewer.promoter_id
        else None,
        "shown": SHOWN,
    }
    return render(request, "web/desk.html", context)


@transaction.atomic
def notification_mark_read(*, user, notification_id: int) -> int:
    """Mark one of the user's own notifications read; returns 1, or 0 when it was not theirs or read."""
    return Notification.objects.filter(Q(pk=notification_id) & Q(user=user) & Q(read_at__isnull=True)).update(
        read_at=timezone.now()
    )


@require_POST
@roles_required()
def notification_read(request, pk: int):
    notification_mark_read(user=request.user, notification_id=pk)
    if request.htmx:
        return render(request, "web/_notification_read.html")
    return redirect("web:desk")

"""The promoter's desk: follow-ups due today and overdue, the pipeline by stage, this period's appraisal
against targets, notifications and early-warning tasks."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.api.exceptions import in_language
from crm.constants import OPEN_STAGES, PLANNED_ACTIVITY_KINDS, LeadStage, Role
from crm.models import Activity, EarlyWarning, Lead, Notification, Promoter, PromoterTarget, Reminder
from crm.models.appraisal import Metric, PeriodKind
from crm.services.activities import activity_plan_complete, activity_plan_reschedule
from crm.services.appraisal import Period, achievement, promoter_metrics, score, weights_for
from crm.web.access import CHANGE, object_in_scope, request_viewer, roles_required, scoped, works_leads
from crm.web.forms import DATETIME_LOCAL, PlanDoneForm, PlanRescheduleForm

DESK_ROLES = (Role.PROMOTER, Role.DISTRICT_ADMIN, Role.STREET_OFFICER)
PLAN_WORKERS = (Role.PROMOTER, Role.DISTRICT_ADMIN)  # who marks planned activities done or moves them
SHOWN = 50  # rows per list on the desk; the leads page has the rest


def leads_with_plan(leads):
    """`leads` with `planned_at`: the next follow-up set by their latest activity, and
    `plan_id`: that activity, which holds the planned kind and assignee (two subqueries)."""
    latest = Activity.objects.filter(lead=OuterRef("pk")).order_by("-occurred_at", "-pk")
    return leads.annotate(
        planned_at=Subquery(latest.values("next_follow_up_at")[:1]),
        plan_id=Subquery(latest.values("pk")[:1]),
    )


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
                # Exact: the page labels it by the one progress rule, which never shows a miss as 100%.
                "percent": None if share is None else share * 100,
                "met": share is not None and share >= 1,
                "weight": weights.get(metric.value),
            }
        )
    return {"period": period, "rows": rows, "score": score(achieved, weights)}


# ------------------------------------------------------------------ planned activities


def plan_rows(request, leads: list, *, now: dt.datetime) -> list[dict]:
    """The desk's rows of planned activities for `leads` (annotated by `leads_with_plan`): what,
    when, by whom, overdue or not, and whether this user may mark it done or move it (two queries:
    the planning activities, and which of the leads the user may change)."""
    plans = Activity.objects.select_related("next_assignee").in_bulk([lead.plan_id for lead in leads])
    workable = set()
    if works_leads(request):
        workable = set(
            scoped(request, Lead.objects.filter(pk__in=[lead.pk for lead in leads]), CHANGE).values_list(
                "pk", flat=True
            )
        )
    return [plan_row(lead, plans[lead.plan_id], now=now, workable=lead.pk in workable) for lead in leads]


def plan_row(lead: Lead, plan: Activity, *, now: dt.datetime, workable: bool) -> dict:
    due_at = plan.next_follow_up_at
    start_of_today = timezone.make_aware(dt.datetime.combine(timezone.localdate(now), dt.time.min))
    return {
        "lead": lead,
        "plan": plan,
        "due_at": due_at,
        "overdue": due_at < now,
        "before_today": due_at < start_of_today,
        "assignee": plan.next_assignee or lead.owner,
        "workable": workable,
        # Reschedule in one click: to the same time tomorrow (or later: the field can be changed).
        "tomorrow": timezone.localtime(max(due_at, now) + dt.timedelta(days=1)).strftime(DATETIME_LOCAL),
        "kinds": PLANNED_ACTIVITY_KINDS,
    }


def _plan_for_work(request, pk: int) -> Activity:
    """The planning activity, if the user may change its lead (404 out of scope, 403 if read-only)."""
    return object_in_scope(
        request, Activity.objects.select_related("lead", "lead__owner", "next_assignee"), pk, CHANGE
    )


@require_POST
@roles_required(PLAN_WORKERS)
def plan_done(request, pk: int):
    """Done, in one click: the planned activity is logged now (activity_plan_complete)."""
    plan = _plan_for_work(request, pk)
    form = PlanDoneForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            done = activity_plan_complete(
                activity=plan,
                by=request.user,
                promoter=_promoter_of(request),
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as exc:
            errors = [in_language(m) for m in exc.messages]
        else:
            if request.htmx:
                context = {"done": done, "plan": plan, "lead": plan.lead}
                return render(request, "web/_plan_row.html", context)
            messages.success(request, _("已完成:%(company)s") % {"company": plan.lead.company_name})
            return redirect("web:desk")
    else:
        errors = [in_language(m) for field in form.errors.values() for m in field]
    return _plan_refused(request, plan, errors)


@require_POST
@roles_required(PLAN_WORKERS)
def plan_reschedule(request, pk: int):
    """Move the planned activity to another time (activity_plan_reschedule)."""
    plan = _plan_for_work(request, pk)
    form = PlanRescheduleForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            activity_plan_reschedule(activity=plan, due_at=form.cleaned_data["due_at"], by=request.user)
        except ValidationError as exc:
            errors = [in_language(m) for m in exc.messages]
        else:
            if request.htmx:
                lead = leads_with_plan(Lead.objects.filter(pk=plan.lead_id)).select_related("owner").get()
                row = plan_row(lead, plan, now=timezone.now(), workable=True)
                return render(request, "web/_plan_row.html", {"row": row, "moved": True})
            messages.success(request, _("已改期:%(company)s") % {"company": plan.lead.company_name})
            return redirect("web:desk")
    else:
        errors = [in_language(m) for field in form.errors.values() for m in field]
    return _plan_refused(request, plan, errors)


def _plan_refused(request, plan: Activity, errors: list[str]):
    """A 400 that shows why, in the row the user clicked (htmx) or on the desk."""
    if request.htmx:
        lead = leads_with_plan(Lead.objects.filter(pk=plan.lead_id)).select_related("owner").get()
        if lead.plan_id == plan.pk and lead.planned_at is not None:
            row = plan_row(lead, plan, now=timezone.now(), workable=True)
        else:
            row = None  # done or replaced meanwhile: nothing left to click
        context = {"row": row, "lead": plan.lead, "errors": errors}
        return render(request, "web/_plan_row.html", context, status=400)
    for error in errors:
        messages.error(request, error)
    return redirect("web:desk")


def _promoter_of(request) -> Promoter | None:
    promoter_id = request_viewer(request).promoter_id
    return Promoter.objects.filter(pk=promoter_id).first() if promoter_id else None


# ------------------------------------------------------------------ the desk


@roles_required(DESK_ROLES)
def desk(request):
    viewer = request_viewer(request)
    now = timezone.now()
    leads = scoped(request, Lead)
    due = list(followups_due(leads, now=now)[:SHOWN])
    start_of_today = timezone.make_aware(dt.datetime.combine(timezone.localdate(now), dt.time.min))
    rows = plan_rows(request, due, now=now)
    context = {
        "overdue": [row for row in rows if row["due_at"] < start_of_today],
        "due_today": [row for row in rows if row["due_at"] >= start_of_today],
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

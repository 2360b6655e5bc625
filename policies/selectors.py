"""Queries over policies and commitments: what the district has promised, totalled in the database."""

import datetime as dt
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy

from policies.engine.schedule import PeriodStatus, period_status
from policies.models import CommitmentLine, CommitmentPayment

# A schedule period's state as the pages and the admin name it.
STATUS_LABELS = {
    PeriodStatus.SCHEDULED: gettext_lazy("未到期"),
    PeriodStatus.DUE: gettext_lazy("应兑现"),
    PeriodStatus.PAID: gettext_lazy("已兑现"),
    PeriodStatus.WITHHELD: gettext_lazy("暂缓兑现"),
    PeriodStatus.CANCELLED: gettext_lazy("签约已取消"),
}
ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=16, decimal_places=2))


def commitment_lines_standing() -> QuerySet:
    """Lines of commitments still owed: a cancelled signing's promise is reversed (its rows stay, as
    the audit of what was once promised), and a withheld period is not owed."""
    return CommitmentLine.objects.filter(
        commitment__signing__cancelled_at__isnull=True, withheld_at__isnull=True
    )


def commitments_by_year() -> QuerySet:
    """Promised yuan per year of the schedule (the calendar year each period starts in): rows of
    {year, total}."""
    return commitment_lines_standing().values("year").annotate(total=Sum("amount_yuan")).order_by("year")


def _paid_subquery() -> Subquery:
    return Subquery(
        CommitmentPayment.objects.filter(line=OuterRef("pk"))
        .values("line")
        .annotate(total=Sum("amount_yuan"))
        .values("total")[:1],
        output_field=DecimalField(max_digits=16, decimal_places=2),
    )


def commitment_schedule(lines: QuerySet) -> QuerySet:
    """Scoped schedule rows (the caller passes them through crm.selectors.scope.visible_to), each
    with `paid_yuan`, its signing, lead, building and referrer (a referral reward's), in period order."""
    return (
        lines.annotate(paid_yuan=Coalesce(_paid_subquery(), ZERO))
        .select_related("commitment__signing__lead", "commitment__building", "referrer")
        .order_by("period_start", "commitment_id", "id")
    )


def schedule_row_status(line: CommitmentLine, *, today: dt.date) -> PeriodStatus:
    """The state of one annotated schedule row (commitment_schedule) on `today`."""
    return period_status(
        amount=line.amount_yuan,
        paid=line.paid_yuan,
        period_start=line.period_start,
        today=today,
        withheld=line.withheld_at is not None,
        cancelled=line.commitment.signing.cancelled_at is not None,
    )


def schedule_year_totals(*, year: int, lines: QuerySet | None = None) -> dict[str, Decimal]:
    """For one calendar year, over `lines` (all, or the rows a viewer may see): what the periods
    starting in it promise (owed: not cancelled, not withheld), and what the district paid in it
    against any of those lines' periods."""
    lines = CommitmentLine.objects.all() if lines is None else lines
    due = lines.filter(
        year=year, commitment__signing__cancelled_at__isnull=True, withheld_at__isnull=True
    ).aggregate(total=Sum("amount_yuan"))["total"]
    paid = CommitmentPayment.objects.filter(line__in=lines.values("pk"), paid_on__year=year).aggregate(
        total=Sum("amount_yuan")
    )["total"]
    return {"due": due or Decimal(0), "paid": paid or Decimal(0)}


def commitments_by_building() -> QuerySet:
    """Promised yuan per building: rows of {building_id, building_name, total}."""
    return (
        commitment_lines_standing()
        .values("commitment__building_id", "commitment__building__name")
        .annotate(total=Sum("amount_yuan"))
        .order_by("commitment__building_id")
    )


def commitments_by_policy() -> QuerySet:
    """Promised yuan per policy, by the name it had when promised: rows of {policy_id, policy_name, total}."""
    return (
        commitment_lines_standing()
        .values("policy_id", "policy_name")
        .annotate(total=Sum("amount_yuan"))
        .order_by("policy_id", "policy_name")
    )

"""Promoter appraisal for a month, quarter or year: metrics by database aggregation, a weighted score, ranks.

Each metric is one GROUP BY per source table (leads, activities, signings, reminders), so the number
of queries does not depend on the number of promoters or rows; Python only joins the per-promoter
results and scores them. docs/appraisal.md gives every definition and the score formula.
"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear, RowNumber, TruncDate
from django.utils import timezone

from crm.constants import ActivityKind, LeadStage
from crm.models import (
    Activity,
    AppraisalSnapshot,
    AppraisalWeight,
    Lead,
    Promoter,
    PromoterTarget,
    Reminder,
    StageChange,
    TaxRecord,
)
from crm.models.appraisal import LOWER_IS_BETTER, Metric, PeriodKind, period_bounds, period_start_error
from crm.selectors.appraisal import signings_pipeline_in, signings_verified_in
from crm.services.common import invalid
from crm.validators import YEAR_MAX, YEAR_MIN

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
# One metric can make up for a shortfall elsewhere only up to 120% of its target.
ACHIEVEMENT_CAP = Decimal("1.2")
# Stages a lead can only be in after it was contacted: such a lead is valid.
REACHED_CONTACTED = (
    LeadStage.CONTACTED,
    LeadStage.VISITING,
    LeadStage.NEGOTIATING,
    LeadStage.SIGNED,
    LeadStage.SETTLED,
)
NO_DATA_NOTE = "本期无数据,各项为零 / no data in this period: every figure is zero"
NO_TARGETS_NOTE = "未设定目标,不计分 / no targets set: not scored"


@dataclass(frozen=True)
class Period:
    """A month, quarter or year: its first and last day, and the instants that bound it locally."""

    kind: str
    start: dt.date
    end: dt.date

    @classmethod
    def of(cls, kind: str, start: dt.date) -> "Period":
        if kind not in PeriodKind.values:
            raise invalid("period_kind", f"未知周期 {kind} / unknown period kind {kind}")
        error = period_start_error(kind, start)
        if error:
            raise invalid("period_start", error)
        first, last = period_bounds(kind, start)
        return cls(kind, first, last)

    @classmethod
    def containing(cls, kind: str, day: dt.date) -> "Period":
        if kind == PeriodKind.MONTH:
            return cls.of(kind, day.replace(day=1))
        if kind == PeriodKind.QUARTER:
            return cls.of(kind, dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1))
        return cls.of(kind, dt.date(day.year, 1, 1))

    @classmethod
    def parse(cls, text: str) -> "Period":
        """'2024' (year), '2024-Q2' (quarter) or '2024-05' (month)."""
        text = text.strip().upper()
        # ASCII digits only ("\d" takes any script's), and years the product's dates may hold.
        if m := re.fullmatch(r"([0-9]{4})(?:-Q([1-4])|-([0-9]{1,2}))?", text):
            year, quarter, month = int(m[1]), m[2], m[3]
            if not YEAR_MIN <= year <= YEAR_MAX:
                raise invalid(
                    "period",
                    f"周期年份应在 {YEAR_MIN}–{YEAR_MAX} 之间 / "
                    f"the period's year must be {YEAR_MIN}–{YEAR_MAX}",
                )
            if quarter:
                return cls.of(PeriodKind.QUARTER, dt.date(year, (int(quarter) - 1) * 3 + 1, 1))
            if month is None:
                return cls.of(PeriodKind.YEAR, dt.date(year, 1, 1))
            if 1 <= int(month) <= 12:
                return cls.of(PeriodKind.MONTH, dt.date(year, int(month), 1))
        raise invalid(
            "period", f"无法识别的周期 {text!r}(如 2024、2024-Q2、2024-05)/ unknown period {text!r}"
        )

    @property
    def start_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def end_at(self) -> dt.datetime:
        """The first instant after the period (exclusive bound)."""
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))

    def __str__(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return f"{self.start.year}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"


@transaction.atomic
def promoter_target_set(
    *, promoter: Promoter, period_kind: str, period_start: dt.date, **targets: Decimal | int | None
) -> PromoterTarget:
    """Set a promoter's targets for one period; negative or inconsistent targets are refused."""
    unknown = set(targets) - set(Metric.values)
    if unknown:
        raise invalid(sorted(unknown)[0], "未知考核指标 / unknown appraisal metric")
    target = PromoterTarget.objects.filter(
        promoter=promoter, period_kind=period_kind, period_start=period_start
    ).first() or PromoterTarget(promoter=promoter, period_kind=period_kind, period_start=period_start)
    for metric, value in targets.items():
        setattr(target, metric, None if value is None else Decimal(value))
    target.full_clean()
    target.save()
    return target


@transaction.atomic
def appraisal_weight_set(*, effective_from: dt.date, **weights: int) -> AppraisalWeight:
    """Set the metric weights in force from a date; they must be ≥ 0, add up to 100 and favour outcomes."""
    unknown = set(weights) - set(Metric.values)
    if unknown:
        raise invalid(sorted(unknown)[0], "未知考核指标 / unknown appraisal metric")
    row = AppraisalWeight.objects.filter(effective_from=effective_from).first() or AppraisalWeight(
        effective_from=effective_from
    )
    for metric, value in weights.items():
        setattr(row, metric, value)
    row.full_clean()
    row.save()
    return row


def weights_for(start: dt.date) -> dict[str, int]:
    """The weights in force on `start`: the latest row from then or before, else the seeded defaults."""
    row = AppraisalWeight.objects.filter(effective_from__lte=start).order_by("-effective_from").first()
    return (row or AppraisalWeight()).weights()


def _by_promoter(rows, key: str) -> dict[int, dict]:
    return {row[key]: row for row in rows if row[key] is not None}


def promoter_metrics(period: Period) -> dict[int, dict[str, Decimal | int | None]]:
    """Each promoter's raw figures for the period, one aggregate query per source (seven queries)."""
    start_at, end_at = period.start_at, period.end_at

    contacted = StageChange.objects.filter(lead=OuterRef("pk"), to_stage=LeadStage.CONTACTED)
    leads = _by_promoter(
        Lead.objects.filter(owner__isnull=False, created_at__gte=start_at, created_at__lt=end_at)
        .values("owner_id")
        .annotate(
            logged=Count("pk"),
            valid=Count("pk", filter=Q(stage__in=REACHED_CONTACTED) | Q(Exists(contacted))),
        )
        .order_by(),
        "owner_id",
    )
    activities = _by_promoter(
        Activity.objects.filter(promoter__isnull=False, occurred_at__gte=start_at, occurred_at__lt=end_at)
        .values("promoter_id")
        .annotate(n=Count("pk"), tours=Count("pk", filter=Q(kind=ActivityKind.SITE_TOUR)))
        .order_by(),
        "promoter_id",
    )
    # Outcomes are credited to the lead's owner at signing, which signing_complete records as signed_by.
    # Results are verified signings, in the period they were verified (settled_at): a signing is a
    # promise until the district's records show the company registered here and paying tax. One
    # cancelled is never settled (a database check), so it counts nowhere.
    signed = signings_verified_in(period)
    signings = _by_promoter(
        signed.values("credited")
        .annotate(n=Count("pk"), area=Sum("area_m2"), expected=Sum("lead__expected_annual_tax"))
        .order_by(),
        "credited",
    )
    # Pipeline: signed in the period and still waiting for verification.
    pipeline = _by_promoter(
        signings_pipeline_in(period)
        .values("credited")
        .annotate(n=Count("pk"), area=Sum("area_m2"))
        .order_by(),
        "credited",
    )
    # First-year tax: records in the twelve months from the tenancy's start (a yearly total counts as
    # paid in December of its year) of the signings verified in the period.
    # Months are numbered year × 12 + month in integers (PostgreSQL's EXTRACT is numeric, and slow).
    start_month = Cast(ExtractYear("enterprise__signings__tenancy__start"), IntegerField()) * 12 + Cast(
        ExtractMonth("enterprise__signings__tenancy__start"), IntegerField()
    )
    actual = _by_promoter(
        TaxRecord.objects.filter(
            enterprise__signings__settled_at__gte=start_at,
            enterprise__signings__settled_at__lt=end_at,
        )
        .alias(record_month=F("year") * 12 + Coalesce("month", Value(12)), start_month=start_month)
        .filter(record_month__gte=F("start_month"), record_month__lt=F("start_month") + 12)
        .values(
            credited=Coalesce("enterprise__signings__signed_by_id", "enterprise__signings__lead__owner_id")
        )
        .annotate(actual=Sum("amount_yuan"))
        .order_by(),
        "credited",
    )
    # The median by the database: number each promoter's signings by days to sign and keep the middle
    # one (odd count) or two (even count); Python averages at most two numbers per promoter.
    middle = (
        signed.annotate(
            days=ExpressionWrapper(
                F("signed_on") - TruncDate("lead__created_at"), output_field=DurationField()
            ),
        )
        .annotate(
            position=Window(
                RowNumber(), partition_by=[F("credited")], order_by=[F("days").asc(), F("pk").asc()]
            ),
            count=Window(Count("pk"), partition_by=[F("credited")]),
        )
        .filter(Q(position=(F("count") + 1) / 2) | Q(position=(F("count") + 2) / 2))
        .values_list("credited", "days")
    )
    medians: dict[int, list[dt.timedelta]] = {}
    for promoter_id, days in middle:
        if promoter_id is not None:
            medians.setdefault(promoter_id, []).append(days)
    acted = Activity.objects.filter(
        lead=OuterRef("lead_id"), occurred_at__gte=OuterRef("due_at"), occurred_at__lt=OuterRef("act_by")
    )
    timeliness = _by_promoter(
        Reminder.objects.filter(due_at__gte=start_at, due_at__lt=end_at)
        .values("promoter_id")
        .annotate(due=Count("pk"), acted=Count("pk", filter=Q(Exists(acted))))
        .order_by(),
        "promoter_id",
    )

    result: dict[int, dict[str, Decimal | int | None]] = {}
    promoter_ids = (
        set(leads) | set(activities) | set(signings) | set(actual) | set(timeliness) | set(pipeline)
    )
    for pid in promoter_ids:
        lead_row = leads.get(pid, {})
        activity_row = activities.get(pid, {})
        signing_row = signings.get(pid, {})
        reminder_row = timeliness.get(pid, {})
        valid = lead_row.get("valid", 0)
        signed_count = signing_row.get("n", 0)
        middle_days = medians.get(pid)
        result[pid] = {
            Metric.LEADS_LOGGED: lead_row.get("logged", 0),
            Metric.VALID_LEADS: valid,
            Metric.ACTIVITIES: activity_row.get("n", 0),
            Metric.SITE_TOURS: activity_row.get("tours", 0),
            Metric.SIGNINGS: signed_count,
            Metric.SIGNED_AREA_M2: _money(signing_row.get("area")),
            Metric.EXPECTED_TAX_YUAN: _money(signing_row.get("expected")),
            Metric.ACTUAL_TAX_YUAN: _money(actual.get(pid, {}).get("actual")),
            Metric.CONVERSION_RATE: _percent(signed_count, valid),
            Metric.MEDIAN_DAYS_TO_SIGN: (
                _days(sum(middle_days, dt.timedelta()) / len(middle_days)) if middle_days else None
            ),
            Metric.FOLLOWUP_TIMELINESS: _percent(reminder_row.get("acted", 0), reminder_row.get("due", 0)),
            "reminders_due": reminder_row.get("due", 0),
            "pipeline_signings": pipeline.get(pid, {}).get("n", 0),
            "pipeline_area_m2": _money(pipeline.get(pid, {}).get("area")),
        }
    return result


def _money(value) -> Decimal:
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(CENT)


def _days(value: dt.timedelta) -> Decimal:
    return (Decimal(value.days) + Decimal(value.seconds) / Decimal(86400)).quantize(CENT)


def achievement(metric: str, actual: Decimal | int | None, target: Decimal | None) -> Decimal | None:
    """Actual against target, capped at ACHIEVEMENT_CAP; None where there is no (positive) target.

    For the median days to sign, lower is better: target / actual; no signing at all achieves 0.
    """
    if target is None or target <= 0:
        return None
    if actual is None:
        return Decimal(0)
    actual = Decimal(actual)
    if metric in LOWER_IS_BETTER:
        ratio = ACHIEVEMENT_CAP if actual <= 0 else Decimal(target) / actual
    else:
        ratio = actual / Decimal(target)
    return min(ratio, ACHIEVEMENT_CAP)


def score(achievements: dict[str, Decimal | None], weights: dict[str, int]) -> Decimal | None:
    """100 × Σ weight × achievement / Σ weight, over the metrics that have a target and a weight."""
    weighed = [(weights[m], a) for m, a in achievements.items() if a is not None and weights.get(m)]
    total = sum(w for w, _ in weighed)
    if not total:
        return None
    return (HUNDRED * sum(Decimal(w) * a for w, a in weighed) / Decimal(total)).quantize(CENT)


def _ranks(scores: dict[int, Decimal | None]) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) by score, highest first; the unscored are not ranked."""
    ordered = sorted((s, pid) for pid, s in scores.items() if s is not None)
    ordered.reverse()
    ranks, previous, rank = {}, None, 0
    for position, (value, pid) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[pid] = rank
    return ranks


@transaction.atomic
def appraisal_compute(
    *, period_kind: str, period_start: dt.date, now: dt.datetime | None = None
) -> list[AppraisalSnapshot]:
    """Compute and store every promoter's appraisal for the period, replacing an earlier computation."""
    period = Period.of(period_kind, period_start)
    now = now or timezone.now()
    metrics = promoter_metrics(period)
    weights = weights_for(period.start)
    targets = {
        t.promoter_id: t
        for t in PromoterTarget.objects.filter(period_kind=period.kind, period_start=period.start)
    }
    promoters = list(
        Promoter.objects.filter(Q(active=True) | Q(pk__in=list(metrics))).values("pk", "team", "street_id")
    )
    snapshots: dict[int, AppraisalSnapshot] = {}
    for promoter in promoters:
        pid = promoter["pk"]
        figures = metrics.get(pid)
        target = targets.get(pid)
        target_values = {m: (target.target(m) if target else None) for m in Metric.values}
        values = figures or {m: None for m in Metric.values}
        achieved = {m: achievement(m, values.get(m), target_values[m]) for m in Metric.values}
        snapshot = AppraisalSnapshot(
            promoter_id=pid,
            period_kind=period.kind,
            period_start=period.start,
            period_end=period.end,
            team=promoter["team"],
            street_id=promoter["street_id"],
            targets={m: str(v) for m, v in target_values.items() if v is not None},
            achievements={
                m: str(a.quantize(Decimal("0.0001"))) for m, a in achieved.items() if a is not None
            },
            score=score(achieved, weights),
            reminders_due=(figures or {}).get("reminders_due", 0),
            pipeline_signings=(figures or {}).get("pipeline_signings", 0),
            pipeline_area_m2=(figures or {}).get("pipeline_area_m2", Decimal("0.00")),
            computed_at=now,
        )
        for metric in Metric.values:
            value = values.get(metric)
            if value is not None:
                setattr(snapshot, metric, value)
        notes = []
        if figures is None:
            notes.append(NO_DATA_NOTE)
        if snapshot.score is None:
            notes.append(NO_TARGETS_NOTE)
        snapshot.note = ";".join(notes)
        snapshots[pid] = snapshot
    district = _ranks({pid: s.score for pid, s in snapshots.items()})
    teams: dict[str, dict[int, Decimal | None]] = {}
    for pid, snapshot in snapshots.items():
        if snapshot.team:
            teams.setdefault(snapshot.team, {})[pid] = snapshot.score
    team_ranks = {pid: rank for members in teams.values() for pid, rank in _ranks(members).items()}
    for pid, snapshot in snapshots.items():
        snapshot.rank_district = district.get(pid)
        snapshot.rank_team = team_ranks.get(pid)
    AppraisalSnapshot.objects.filter(period_kind=period.kind, period_start=period.start).delete()
    return AppraisalSnapshot.objects.bulk_create(list(snapshots.values()))


def appraisal_compute_current(*, today: dt.date | None = None) -> int:
    """The beat's nightly run: the month, quarter and year that contain today (and yesterday's, on the
    first day of a period, so the closing figures of the period just ended are kept)."""
    today = today or timezone.localdate()
    periods = {
        Period.containing(kind, day)
        for kind in PeriodKind.values
        for day in (today, today - dt.timedelta(days=1))
    }
    for period in sorted(periods, key=lambda p: (p.start, p.kind)):
        appraisal_compute(period_kind=period.kind, period_start=period.start)
    return len(periods)

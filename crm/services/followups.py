"""Follow-ups: find what is due, remind owners once per lead and due date, send digests once, escalate.

Everything due is derived from the database by a scan (nothing is parked in the broker with a long
countdown), so a lost message, a Redis outage or a dead worker only delays work until the next scan.
docs/workers.md explains why each reminder is e-mailed exactly once.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from crm.constants import OPEN_STAGES, Role
from crm.models import (
    Activity,
    Lead,
    Notification,
    Promoter,
    Reminder,
    ReminderDigest,
    StageLimit,
)
from crm.selectors.reservations import reservations_live
from crm.services.channels import robot_user_ids
from crm.services.common import commit_without_waiting_for_disk
from crm.services.reservations import reservations_expire

logger = logging.getLogger(__name__)

SCAN_BATCH = 10_000  # leads found due per pass
PREPARE_BATCH = 10_000  # pending reminders put into digests per pass
DUE_BATCH = 10_000  # digests enqueued per pass
DIGEST_MAX_REMINDERS = 200
ACT_WITHIN = dt.timedelta(days=2)
# A digest claimed longer ago than this is taken to belong to a dead worker. It must exceed the
# task's hard time limit (CELERY_TASK_TIME_LIMIT, 600 s), after which a live worker is killed anyway.
CLAIM_LEASE = dt.timedelta(minutes=15)
# A ready digest is enqueued again if its message has not been consumed after this long.
REQUEUE_AFTER = dt.timedelta(minutes=10)
# The right-hand side of digest Message-IDs: fixed, so they do not depend on the worker's host name.
DIGEST_DOMAIN = "district-crm.local"


@dataclass(frozen=True)
class ScanResult:
    """What one scan found due and how many reminders it added (the rest existed already)."""

    due: int
    created: int


@transaction.atomic
def stage_limit_set(*, stage: str, days: int, escalate_after_days: int | None = None) -> StageLimit:
    """Set how many days a lead of `stage` may go without an activity; zero or less is refused."""
    limit = StageLimit.objects.filter(stage=stage).first() or StageLimit(stage=stage)
    limit.days = days
    if escalate_after_days is not None:
        limit.escalate_after_days = escalate_after_days
    limit.full_clean()
    limit.save()
    return limit


def _limits() -> dict[str, StageLimit]:
    return {limit.stage: limit for limit in StageLimit.objects.all()}


def due_leads(*, now: dt.datetime, limits: dict[str, StageLimit] | None = None):
    """Open, owned leads whose follow-up is due at `now` and not yet reminded, oldest first.

    Due means: the latest activity's next follow-up has been reached, or, with no follow-up
    planned, the lead has gone its stage's limit without an activity. A reminder whose due time is
    at or after the lead's last activity belongs to the current stretch without contact, so a lead
    that has one is not due again until someone acts on it.
    """
    limits = _limits() if limits is None else limits
    latest = Activity.objects.filter(lead=OuterRef("pk")).order_by("-occurred_at", "-pk")
    # A planned follow-up is reminded of once, on its day: rescheduled to another day, it is due
    # again then (the reminder of the old day does not count). Without a plan, any reminder since the
    # last activity answers for the current stretch without contact.
    reminded_of_plan = Reminder.objects.filter(lead=OuterRef("pk"), due_on=OuterRef("planned_on"))
    reminded_since_contact = Reminder.objects.filter(
        lead=OuterRef("pk"), due_at__gte=OuterRef("last_activity_at")
    )
    stale = Q(pk__in=[])
    for stage, limit in limits.items():
        stale |= Q(stage=stage, last_activity_at__lte=now - dt.timedelta(days=limit.days))
    return (
        Lead.objects.filter(stage__in=OPEN_STAGES, owner__isnull=False, owner__active=True)
        .annotate(
            planned_at=Subquery(latest.values("next_follow_up_at")[:1]),
            planned_for=Subquery(latest.values("next_assignee_id")[:1]),
        )
        .annotate(planned_on=TruncDate("planned_at", tzinfo=timezone.get_current_timezone()))
        .filter(Q(planned_at__lte=now) | (Q(planned_at__isnull=True) & stale))
        .filter(
            (Q(planned_at__isnull=False) & ~Exists(reminded_of_plan))
            | (Q(planned_at__isnull=True) & ~Exists(reminded_since_contact))
        )
        .order_by("last_activity_at", "pk")
    )


def followups_scan(*, now: dt.datetime | None = None, batch_size: int | None = None) -> ScanResult:
    """Create one reminder (and its in-app notification) per due lead, at most `batch_size` of them.

    Two scans at once, a retried scan or a redelivered one add nothing twice: the database keeps
    one reminder per lead and due date, and one notification per user and reminder.
    """
    now = now or timezone.now()
    batch_size = batch_size or SCAN_BATCH
    limits = _limits()
    rows = list(
        due_leads(now=now, limits=limits).values(
            "pk",
            "owner_id",
            "owner__user_id",
            "stage",
            "planned_at",
            "planned_for",
            "last_activity_at",
            "company_name",
            "ref",
        )[:batch_size]
    )
    if not rows:
        return ScanResult(due=0, created=0)
    reminders = []
    for row in rows:
        # A planned activity reminds its assignee; everything else, the lead's owner.
        promoter_id = row["owner_id"]
        if row["planned_at"] is not None:
            due_at, reason = row["planned_at"], Reminder.Reason.FOLLOW_UP
            promoter_id = row["planned_for"] or row["owner_id"]
        else:
            due_at = row["last_activity_at"] + dt.timedelta(days=limits[row["stage"]].days)
            reason = Reminder.Reason.STALE
        reminders.append(
            Reminder(
                lead_id=row["pk"],
                promoter_id=promoter_id,
                reason=reason,
                stage=row["stage"],
                due_on=timezone.localdate(due_at),
                due_at=due_at,
                act_by=due_at + ACT_WITHIN,
                created_at=now,
            )
        )
    with transaction.atomic():
        before = Reminder.objects.filter(lead_id__in=[r["pk"] for r in rows]).count()
        Reminder.objects.bulk_create(reminders, ignore_conflicts=True)
        made = Reminder.objects.filter(lead_id__in=[r["pk"] for r in rows]).count() - before
        _notify_reminders([r["pk"] for r in rows], now)
    return ScanResult(due=len(rows), created=made)


def _notify_reminders(lead_ids: list[int], now: dt.datetime) -> None:
    """The in-app notification of each pending reminder of these leads that has none yet."""
    pending = (
        Reminder.objects.filter(lead_id__in=lead_ids, state=Reminder.State.PENDING)
        .exclude(notifications__kind=Notification.Kind.REMINDER)
        .values("pk", "lead_id", "lead__ref", "lead__company_name", "promoter__user_id", "due_on", "reason")
    )
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=r["promoter__user_id"],
                kind=Notification.Kind.REMINDER,
                title=f"跟进提醒:{r['lead__company_name']}({r['lead__ref']})/ follow up {r['lead__ref']}",
                body=f"{Reminder.Reason(r['reason']).label},到期日 {r['due_on']:%Y-%m-%d}",
                lead_id=r["lead_id"],
                reminder_id=r["pk"],
                dedupe_key=f"reminder:{r['pk']}",
                created_at=now,
            )
            for r in pending
        ],
        ignore_conflicts=True,
    )


def reminders_resolve(*, lead_id: int | None = None) -> int:
    """Mark pending reminders moot whose lead was acted on since they fell due, or is no longer open."""
    # EXISTS rather than a join: the UPDATE then probes the lead by primary key for each pending
    # reminder, whatever the planner believes about a table that has just grown.
    moot_lead = Lead.objects.filter(pk=OuterRef("lead_id")).filter(
        Q(last_activity_at__gte=OuterRef("due_at")) | ~Q(stage__in=OPEN_STAGES)
    )
    moot = Reminder.objects.filter(state=Reminder.State.PENDING).filter(Exists(moot_lead))
    if lead_id is not None:
        moot = moot.filter(lead_id=lead_id)
    return moot.update(state=Reminder.State.RESOLVED)


def _digest_text(promoter: Promoter, reminders: list[Reminder]) -> tuple[str, str]:
    subject = (
        f"[招商跟进] {promoter.name}:{len(reminders)} 条线索待跟进 / {len(reminders)} leads to follow up"
    )
    lines = [
        f"{promoter.name},您好:",
        "",
        "以下线索已到跟进时间,请在两天内跟进 / These leads are due; please follow up within two days:",
        "",
    ]
    for reminder in reminders:
        lead = reminder.lead
        lines.append(
            f"- {lead.ref} {lead.company_name} [{reminder.get_stage_display()}] "
            f"{reminder.get_reason_display()},到期 {reminder.due_on:%Y-%m-%d} (reminder #{reminder.pk})"
        )
    lines += ["", "区楼宇办 · 楼宇经济招商管理系统"]
    return subject, "\n".join(lines)


def reminder_digests_prepare(*, now: dt.datetime | None = None, limit: int | None = None) -> list[int]:
    """Put up to `limit` pending reminders into digests, one per promoter (of at most
    DIGEST_MAX_REMINDERS each), rendered once; returns the new digests' ids.

    The claim: the pending rows are locked (rows another preparation holds are skipped, on
    PostgreSQL), and the UPDATE that moves them to `queued` takes only rows still pending, so a
    reminder joins exactly one digest however many preparations race.
    """
    now = now or timezone.now()
    limit = limit or PREPARE_BATCH
    reminders_resolve()
    with transaction.atomic():
        claimed = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(state=Reminder.State.PENDING)
            .order_by("promoter_id", "due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not claimed:
            return []
        reminders = list(
            Reminder.objects.filter(pk__in=claimed)
            .select_related("lead")
            .order_by("promoter_id", "due_at", "pk")
        )
        promoters = Promoter.objects.select_related("user").in_bulk({r.promoter_id for r in reminders})
        # Who chose a group robot over e-mail: the robot carries their reminders (crm.services.channels).
        robot_users = robot_user_ids(p.user_id for p in promoters.values())
        chunks: list[list[Reminder]] = []
        for reminder in reminders:
            if (
                chunks
                and chunks[-1][0].promoter_id == reminder.promoter_id
                and len(chunks[-1]) < DIGEST_MAX_REMINDERS
            ):
                chunks[-1].append(reminder)
            else:
                chunks.append([reminder])
        digests = []
        for chunk in chunks:
            promoter = promoters[chunk[0].promoter_id]
            subject, body = _digest_text(promoter, chunk)
            recipient = "" if promoter.user_id in robot_users else promoter.user.email
            digests.append(
                ReminderDigest(
                    promoter=promoter,
                    state=ReminderDigest.State.READY if recipient else ReminderDigest.State.NO_ADDRESS,
                    message_id=make_msgid("reminders", domain=DIGEST_DOMAIN),
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    created_at=now,
                )
            )
        ReminderDigest.objects.bulk_create(digests)
        for state, moved in (
            (ReminderDigest.State.READY, Reminder.State.QUEUED),
            (ReminderDigest.State.NO_ADDRESS, Reminder.State.SENT),
        ):
            # No address: the in-app notification is the delivery, so the reminder counts as sent.
            pairs = [
                (digest, chunk)
                for digest, chunk in zip(digests, chunks, strict=True)
                if digest.state == state
            ]
            if not pairs:
                continue
            Reminder.objects.filter(
                pk__in=[r.pk for _, chunk in pairs for r in chunk], state=Reminder.State.PENDING
            ).update(
                state=moved,
                sent_at=now if moved == Reminder.State.SENT else None,
                digest_id=Case(*(When(pk__in=[r.pk for r in chunk], then=Value(d.pk)) for d, chunk in pairs)),
            )
        return [digest.pk for digest in digests]


def reminder_digests_due(
    *,
    now: dt.datetime | None = None,
    lease: dt.timedelta = CLAIM_LEASE,
    requeue_after: dt.timedelta = REQUEUE_AFTER,
    limit: int = 5000,
) -> list[int]:
    """Digests to (re-)enqueue: ready and never enqueued or not consumed for a while, or claimed by a
    worker that has been silent for longer than the lease. Stamps them enqueued now; returns their ids."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            ReminderDigest.objects.filter(
                Q(state=ReminderDigest.State.READY, enqueued_at__isnull=True)
                | Q(state=ReminderDigest.State.READY, enqueued_at__lt=now - requeue_after)
                | Q(state=ReminderDigest.State.SENDING, claimed_at__lt=now - lease)
            )
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        ReminderDigest.objects.filter(pk__in=ids).update(enqueued_at=now)
    return ids


def reminder_digest_send(
    *,
    digest_id: int,
    now: dt.datetime | None = None,
    lease: dt.timedelta = CLAIM_LEASE,
    mail_connection: BaseEmailBackend | None = None,
) -> bool:
    """Send one digest unless another worker has it or it went out already; True if this call sent it.

    Run outside any transaction: the claim must be committed before the mail leaves. On a mail
    error the claim is given back and the error raised, so that the task retries with backoff.
    """
    now = now or timezone.now()
    claimable = Q(state=ReminderDigest.State.READY) | Q(
        state=ReminderDigest.State.SENDING, claimed_at__lt=now - lease
    )
    with transaction.atomic():
        commit_without_waiting_for_disk()
        claimed = ReminderDigest.objects.filter(claimable, pk=digest_id).update(
            state=ReminderDigest.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    if not claimed:
        return False
    digest = ReminderDigest.objects.get(pk=digest_id)
    message = EmailMessage(
        subject=digest.subject,
        body=digest.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.recipient],
        headers={"Message-ID": digest.message_id},
        connection=mail_connection,
    )
    try:
        message.send(fail_silently=False)
    except Exception as exc:
        ReminderDigest.objects.filter(
            pk=digest_id, state=ReminderDigest.State.SENDING, claimed_at=now
        ).update(state=ReminderDigest.State.READY, last_error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    # The only moment a death can make the digest go out twice is between the mail server's
    # acceptance and this commit; a resend then carries the same Message-ID and content.
    sent_at = timezone.now()
    with transaction.atomic():
        commit_without_waiting_for_disk()
        ReminderDigest.objects.filter(pk=digest_id).update(state=ReminderDigest.State.SENT, sent_at=sent_at)
        Reminder.objects.filter(digest_id=digest_id, state=Reminder.State.QUEUED).update(
            state=Reminder.State.SENT, sent_at=sent_at
        )
    return True


def reminder_digests_send(*, digest_ids: list[int], lease: dt.timedelta = CLAIM_LEASE) -> int:
    """Send several digests over one mail connection (one SMTP session); returns how many this call sent.

    Each digest is claimed on its own, so a retry of the batch skips the ones that went out.
    """
    mail_connection = get_connection()
    mail_connection.open()
    try:
        return sum(
            reminder_digest_send(digest_id=digest_id, lease=lease, mail_connection=mail_connection)
            for digest_id in digest_ids
        )
    finally:
        mail_connection.close()


def reminders_mark_sent(*, digest_id: int | None = None) -> int:
    """Mark sent the queued reminders of sent digests (of one digest, or all of them)."""
    sent = ReminderDigest.objects.filter(pk=OuterRef("digest_id"), state=ReminderDigest.State.SENT)
    queued = Reminder.objects.filter(state=Reminder.State.QUEUED).filter(Exists(sent))
    if digest_id is not None:
        queued = queued.filter(digest_id=digest_id)
    return queued.update(state=Reminder.State.SENT, sent_at=Subquery(sent.values("sent_at")[:1]))


def _district_admin_ids() -> list[int]:
    return list(
        get_user_model()
        .objects.filter(groups__name=Role.DISTRICT_ADMIN, is_active=True)
        .values_list("pk", flat=True)
    )


def followups_escalate(*, now: dt.datetime | None = None, batch_size: int | None = None) -> int:
    """Tell the team lead (or, without one, the district office) about reminders still not acted on
    a stage's further limit after they fell due; each reminder escalates once. Returns how many."""
    now = now or timezone.now()
    batch_size = batch_size or SCAN_BATCH
    overdue_now = Q(pk__in=[])
    for stage, limit in _limits().items():
        overdue_now |= Q(lead__stage=stage, due_at__lte=now - dt.timedelta(days=limit.escalate_after_days))
    overdue = list(
        Reminder.objects.filter(escalated_at__isnull=True, lead__last_activity_at__lt=F("due_at"))
        .exclude(state=Reminder.State.RESOLVED)
        .filter(overdue_now)
        .order_by("due_at", "pk")
        .values(
            "pk",
            "lead_id",
            "lead__ref",
            "lead__company_name",
            "promoter_id",
            "promoter__name",
            "promoter__team",
            "due_on",
        )[:batch_size]
    )
    if not overdue:
        return 0
    team_leads: dict[str, list[tuple[int, int]]] = {}
    for promoter_id, user_id, team in (
        Promoter.objects.filter(is_team_lead=True, active=True)
        .exclude(team="")
        .values_list("pk", "user_id", "team")
    ):
        team_leads.setdefault(team, []).append((promoter_id, user_id))
    office = _district_admin_ids()
    notifications = []
    for row in overdue:
        leads = [
            user
            for promoter, user in team_leads.get(row["promoter__team"], [])
            if promoter != row["promoter_id"]
        ]
        for user_id in leads or office:
            notifications.append(
                Notification(
                    user_id=user_id,
                    kind=Notification.Kind.ESCALATION,
                    title=(
                        f"逾期未跟进:{row['promoter__name']} 的线索 {row['lead__ref']} "
                        f"{row['lead__company_name']} / "
                        f"overdue lead {row['lead__ref']}"
                    ),
                    body=f"提醒到期日 {row['due_on']:%Y-%m-%d},至今无跟进 / no activity since it fell due",
                    lead_id=row["lead_id"],
                    reminder_id=row["pk"],
                    dedupe_key=f"escalation:{row['pk']}",
                    created_at=now,
                )
            )
    with transaction.atomic():
        Notification.objects.bulk_create(notifications, ignore_conflicts=True)
        return Reminder.objects.filter(
            pk__in=[row["pk"] for row in overdue], escalated_at__isnull=True
        ).update(escalated_at=now)


@dataclass(frozen=True)
class RunResult:
    """What one pass left to do: the digests to send, and whether a batch limit stopped it short."""

    digest_ids: list[int]
    more: bool


def followups_run(
    *,
    now: dt.datetime | None = None,
    lease: dt.timedelta = CLAIM_LEASE,
    requeue_after: dt.timedelta = REQUEUE_AFTER,
) -> RunResult:
    """One bounded pass: scan, escalate, prepare digests; returns the digests to send.

    Each step is capped, so a pass stays well inside the task time limit; `more` says a cap was
    reached, and the caller runs another pass at once instead of waiting for the next beat tick.
    """
    now = now or timezone.now()
    reminders_mark_sent()
    scan = followups_scan(now=now)
    followups_escalate(now=now)
    prepared = reminder_digests_prepare(now=now, limit=PREPARE_BATCH)
    due = reminder_digests_due(now=now, lease=lease, requeue_after=requeue_after, limit=DUE_BATCH)
    more = (
        scan.due >= SCAN_BATCH
        or len(due) >= DUE_BATCH
        or (bool(prepared) and Reminder.objects.filter(state=Reminder.State.PENDING).exists())
    )
    return RunResult(digest_ids=due, more=more)


def reservation_expiry_notify(*, today: dt.date | None = None) -> int:
    """Tell each holder, the day before, that their unit hold expires (and is released the night after)."""
    today = today or timezone.localdate()
    now = timezone.now()
    holds = (
        reservations_live(today=today)
        .filter(expires_on__lte=today + dt.timedelta(days=1))
        .filter(Q(promoter__isnull=False) | Q(lead__owner__isnull=False))
        .values(
            "pk",
            "expires_on",
            "lead_id",
            "lead__ref",
            "unit__number",
            "unit__building__name",
            "promoter__user_id",
            "lead__owner__user_id",
        )
    )
    notes = [
        Notification(
            user_id=hold["promoter__user_id"] or hold["lead__owner__user_id"],
            kind=Notification.Kind.RESERVATION,
            title=(
                f"房源预留将于 {hold['expires_on']:%Y-%m-%d} 到期:{hold['unit__building__name']} "
                f"{hold['unit__number']}(线索 {hold['lead__ref']})/ unit hold expires"
            ),
            body="到期后次日夜间自动释放,如需延长请重新预留 / it is released the night after it expires",
            lead_id=hold["lead_id"],
            dedupe_key=f"reservation:{hold['pk']}:{hold['expires_on']:%Y-%m-%d}",
            created_at=now,
        )
        for hold in holds
    ]
    before = Notification.objects.filter(kind=Notification.Kind.RESERVATION).count()
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    return Notification.objects.filter(kind=Notification.Kind.RESERVATION).count() - before


def reservations_nightly(*, today: dt.date | None = None) -> int:
    """Release expired holds (crm.services.reservations) and warn holders a day ahead; returns releases."""
    today = today or timezone.localdate()
    released = 0
    while batch := reservations_expire(today=today):
        released += batch
    reservation_expiry_notify(today=today)
    return released

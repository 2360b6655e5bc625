"""Thin Celery tasks: take ids or dates, call one service, retry with backoff, and are safe to run twice."""

import datetime as dt
import smtplib

from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone

from crm.models import ReminderDigest, Signing
from crm.models.appraisal import PeriodKind
from crm.services.appraisal import Period, appraisal_compute, appraisal_compute_current
from crm.services.assessment import street_assessment_compute
from crm.services.channels import CLAIM_LEASE as CHANNEL_CLAIM_LEASE
from crm.services.channels import ChannelRetry, channel_message_send, channel_messages_run
from crm.services.followups import (
    CLAIM_LEASE,
    followups_run,
    reminder_digests_send,
    reminders_resolve,
    reservations_nightly,
)
from crm.services.privacy import contacts_expired_erase
from crm.services.stored_results import stale_groups, stored_results_recompute
from crm.services.warnings import warnings_nightly
from crm.services.webhooks import MAX_ATTEMPTS as WEBHOOK_MAX_ATTEMPTS
from crm.services.webhooks import WebhookHeld, WebhookRetry, webhook_deliver, webhook_deliveries_due
from crm.services.white_paper import white_paper_generate, white_paper_request
from ops.heartbeat import heartbeat_record
from workers.celery import app
from workers.enqueue import publish, publish_in, queued_mark, stored_results_schedule

# A dropped database connection (a restart, pg_terminate_backend) is worth another try.
DATABASE_ERRORS = (OperationalError, InterfaceError)
# Digests per sending task: one mail connection (one SMTP session) serves them all.
SEND_BATCH = 50
RETRY = {"retry_backoff": True, "retry_backoff_max": 600, "retry_jitter": True, "max_retries": 5}


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def followups_dispatch(stale_after_seconds: int | None = None) -> int:
    """Scan for due follow-ups, escalate, prepare digests, and enqueue each digest's sending.

    `stale_after_seconds` shortens both the claim lease and the re-enqueue delay (default 15 and
    10 minutes): for an operator who knows the old worker is dead, and for the reliability tests.
    """
    options = {}
    if stale_after_seconds is not None:
        stale = dt.timedelta(seconds=stale_after_seconds)
        options = {"lease": stale, "requeue_after": stale}
    run = followups_run(**options)
    if run.more:
        # A backlog (the first run after an outage, say): the next pass goes ahead of the sending.
        publish(followups_dispatch, stale_after_seconds=stale_after_seconds)
    for start in range(0, len(run.digest_ids), SEND_BATCH):
        # Outside any transaction, so this publishes at once; a failure leaves the digests ready and
        # the next dispatch enqueues them again.
        batch = run.digest_ids[start : start + SEND_BATCH]
        publish(send_reminder_digests, batch, lease_seconds=stale_after_seconds)
    # The group robots carry what the scan (and the nightly jobs) notified, one message per robot.
    robots = channel_messages_run(**options)
    for start in range(0, len(robots.message_ids), SEND_BATCH):
        batch = robots.message_ids[start : start + SEND_BATCH]
        publish(send_channel_messages, batch, lease_seconds=stale_after_seconds)
    return len(run.digest_ids) + len(robots.message_ids)


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def send_channel_messages(message_ids: list[int], lease_seconds: int | None = None) -> int:
    """Post these robot messages, skipping any that went out, are not due, or another worker holds.

    A message that must wait (its robot's rate, a timeout, a 5xx, "too frequent") is sent again on
    its own after its backoff; its state is in the database, so a lost retry only waits for the scan.
    """
    lease = dt.timedelta(seconds=lease_seconds) if lease_seconds is not None else CHANNEL_CLAIM_LEASE
    sent = 0
    for message_id in message_ids:
        try:
            sent += channel_message_send(message_id=message_id, lease=lease) == "sent"
        except ChannelRetry as retry:
            publish_in(retry.seconds, send_channel_messages, [message_id], lease_seconds=lease_seconds)
    return sent


@app.task(
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError, *DATABASE_ERRORS),
    retry_backoff=True,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=8,
)
def send_reminder_digests(digest_ids: list[int], lease_seconds: int | None = None) -> int:
    """Send these reminder digests over one mail connection, skipping any that went out already or
    that another worker holds; a mail error retries the batch with backoff."""
    existing = list(
        ReminderDigest.objects.filter(pk__in=digest_ids).order_by("pk").values_list("pk", flat=True)
    )
    lease = dt.timedelta(seconds=lease_seconds) if lease_seconds is not None else CLAIM_LEASE
    return reminder_digests_send(digest_ids=existing, lease=lease)


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def resolve_lead_reminders(lead_id: int) -> int:
    """After an activity: drop the lead's pending reminders that the activity answered."""
    return reminders_resolve(lead_id=lead_id)


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def appraisal_period(period_kind: str, period_start: str) -> int:
    """Compute every promoter's appraisal for one period (on demand: after a signing, from the admin)."""
    return len(appraisal_compute(period_kind=period_kind, period_start=dt.date.fromisoformat(period_start)))


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def appraisal_for_signing(signing_id: int, unsettled_on: str | None = None) -> int:
    """After a signing is signed, settled or cancelled: the appraisal of the month it was signed in
    (its pipeline) and of the month it was verified in (its results); a settled signing cancelled no
    longer says when it was verified, so the cancellation names that day (`unsettled_on`)."""
    row = Signing.objects.filter(pk=signing_id).values_list("signed_on", "settled_at").first()
    if row is None:
        return 0
    signed_on, settled_at = row
    days = {signed_on} | ({timezone.localdate(settled_at)} if settled_at else set())
    if unsettled_on:
        days.add(dt.date.fromisoformat(unsettled_on))
    periods = {Period.containing(PeriodKind.MONTH, day) for day in days}
    return sum(
        len(appraisal_compute(period_kind=p.kind, period_start=p.start)) for p in sorted(periods, key=str)
    )


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def appraisal_nightly() -> int:
    """The month, quarter and year in progress (and those that ended yesterday)."""
    return appraisal_compute_current()


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def street_assessment_nightly(year: int | None = None) -> int:
    return len(street_assessment_compute(year=year or timezone.localdate().year))


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def indicators_and_warnings_nightly() -> int:
    """Indicator snapshots, tier movements, tenancies ending and tax falls (迁出预警)."""
    run = warnings_nightly()
    return run.tier_warnings + run.tenancy_warnings + run.tax_warnings + run.risk_warnings


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def reservations_nightly_task() -> int:
    """Release expired unit holds and tell holders whose hold expires tomorrow."""
    return reservations_nightly()


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def contacts_retention_nightly() -> int:
    """Erase the contacts of leads lost longer ago than CONTACT_RETENTION_DAYS_AFTER_LOST."""
    return contacts_expired_erase()


@app.task(autoretry_for=(DatabaseError,), **RETRY)
def generate_white_paper(year: int) -> int:
    """Render the white paper of `year` (HTML, and PDF where WeasyPrint runs)."""
    return white_paper_generate(year=year).pk


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def white_paper_yearly() -> int:
    """The paper of the year just ended."""
    year = timezone.localdate().year - 1
    white_paper_request(year=year)
    return white_paper_generate(year=year).pk


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def models_retrain_nightly() -> dict[str, str]:
    """Retrain the ranking weights and the industry classifier where their outcomes changed."""
    from matching.retraining import industry_retrain_if_changed, ranking_retrain_if_changed

    return {"ranking": ranking_retrain_if_changed(), "industry": industry_retrain_if_changed()}


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def retention_retrain_nightly() -> str:
    """Retrain the move-out model, keeping the one in use if the new one evaluates worse; a new
    model rescores every active tenancy at once."""
    from retention.training import TRAINED, retention_retrain_if_better

    outcome = retention_retrain_if_better()
    if outcome == TRAINED:
        publish(retention_score_all)
    return outcome


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def retention_score_all() -> dict[str, float]:
    """Score every active tenancy's move-out risk with the model in use and store the scores."""
    from crm.services.stored_results import retention_recompute

    return retention_recompute()


@app.task(
    bind=True,
    autoretry_for=(WebhookRetry, *DATABASE_ERRORS),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=WEBHOOK_MAX_ATTEMPTS - 1,
)
def deliver_webhook(self, delivery_id: int) -> str | None:
    """POST one webhook delivery, signed; an unreachable receiver or its 5xx retries with backoff."""
    try:
        return webhook_deliver(delivery_id=delivery_id)
    except WebhookHeld as held:
        # A worker killed mid-send leaves its lease on the row; this redelivered message is the only
        # one left to send it, so it comes back when the lease ends (a live holder will be done).
        raise self.retry(exc=held, countdown=held.seconds + 1) from held


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def webhooks_redeliver() -> int:
    """Sent by beat: enqueue again the webhook deliveries whose message was lost (a broker outage)."""
    delivery_ids = webhook_deliveries_due()
    for delivery_id in delivery_ids:
        publish(deliver_webhook, delivery_id)
    return len(delivery_ids)


@app.task(ignore_result=True)
def worker_heartbeat() -> float:
    """Sent by beat every minute: records that a worker consumes the queue (/readyz reads the time)."""
    return heartbeat_record()


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def stored_results_recompute_task(group: str) -> dict[str, float]:
    """Recompute the stored results of one group of inputs (queued by a write, debounced)."""
    from django.core.cache import cache

    # Cleared first: a write during the computation queues the next one.
    cache.delete(queued_mark(group))
    return stored_results_recompute(group=group)


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def stored_results_refresh() -> list[str]:
    """Sent by beat every minute: queue the groups whose stored results lag their inputs (a write
    whose own queueing was lost, a new day, a result nobody computed yet)."""
    groups = stale_groups()
    for group in groups:
        stored_results_schedule(group)
    return groups


@app.task(autoretry_for=DATABASE_ERRORS, **RETRY)
def stored_results_nightly() -> dict[str, float]:
    """Recompute every stored result, whatever its version."""
    timings = {}
    for group in ("indicators", "matching"):
        timings.update(stored_results_recompute(group=group, full=True))
    return timings

"""Enqueue background work after the surrounding transaction commits; a broker outage is logged, never raised.

Every task's work can also be found again in the database by a scheduled scan, so a message that
could not be sent (Redis down) only delays the work; the user's write has already succeeded.
"""

import logging
import time

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from crm.services import dispatch

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args, **kwargs) -> None:
    """Send `task(*args, **kwargs)` once the current transaction commits (at once outside one).

    A transaction that rolls back sends nothing: the callback is dropped with it.
    """
    transaction.on_commit(lambda: publish(task, *args, **kwargs), robust=True)


# After a failed publish the broker is taken to be down for this long, so that during an outage only
# the first request pays for the connection attempts (kombu retries for several seconds by default)
# and later ones fall through at once. The scan finds the skipped work once Redis is back.
BROKER_DOWN_PAUSE = 30.0
_broker_down_until = 0.0


def publish(task: Task, *args, **kwargs) -> bool:
    """Send the message now; False (and a warning in the log) if the broker could not take it."""
    return _send(task, args, kwargs)


def publish_in(seconds: float, task: Task, *args, **kwargs) -> bool:
    """publish, for a worker to run `seconds` from now (at once in eager mode)."""
    return _send(task, args, kwargs, countdown=seconds)


def _send(task: Task, args: tuple, kwargs: dict, **options) -> bool:
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        logger.warning(
            "could not enqueue %s%r %r: the broker was down moments ago; the next scheduled scan "
            "will pick the work up",
            task.name,
            args,
            kwargs,
        )
        return False
    try:
        # No publish retries: a web request must not wait on a dead broker; the scan retries for us.
        task.apply_async(args=args, kwargs=kwargs, retry=False, **options)
    except (BrokerError, ConnectionError, OSError):
        _broker_down_until = time.monotonic() + BROKER_DOWN_PAUSE
        logger.warning(
            "could not enqueue %s%r %r; the next scheduled scan will pick the work up",
            task.name,
            args,
            kwargs,
            exc_info=True,
        )
        return False
    except Exception:
        # Eager mode (no Redis) runs the task right here: its failure must not fail the user's write.
        logger.exception("could not run %s%r %r in process", task.name, args, kwargs)
        return False
    return True


# What each event of crm.services.dispatch becomes. workers.apps registers `handle` as the
# dispatcher when Django starts; the services only name the event.


def after_activity_logged(*, lead_id: int) -> None:
    """An activity may answer the lead's pending reminder: drop it before the digest goes out."""
    from workers.tasks import resolve_lead_reminders

    enqueue(resolve_lead_reminders, lead_id)


def after_signing_completed(*, signing_id: int, unsettled_on: str | None = None) -> None:
    """A signing moves the leaderboard: recompute the appraisal of the signing's month (and of the
    month a cancelled settled signing had been verified in)."""
    from workers.tasks import appraisal_for_signing

    if unsettled_on:
        enqueue(appraisal_for_signing, signing_id, unsettled_on)
    else:
        enqueue(appraisal_for_signing, signing_id)


def after_webhook_deliveries_created(*, delivery_ids: list[int]) -> None:
    """A stage change of an agency's lead: send each of its webhook deliveries once the change commits."""
    from workers.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        enqueue(deliver_webhook, delivery_id)


# ------------------------------------------------ stored results (crm.services.stored_results)

# A write waits this long for the writes that follow it before its group is recomputed, so a burst
# (an import, a morning of edits) costs one recomputation; well inside the 60 s budget.
RECOMPUTE_DEBOUNCE_SECONDS = 5
# The "queued" mark lapses after this long, in case its message was lost with a worker or Redis;
# the minute's sweep (stored_results_refresh) does not wait for it.
QUEUED_MARK_SECONDS = 300


def queued_mark(group: str) -> str:
    return f"stored-results:queued:{group}"


def stored_results_schedule(group: str) -> bool:
    """Queue one recomputation of `group`'s stored results unless one is queued already (a mark in
    the shared cache, set atomically: at most one queued per group). True if this call queued it."""
    from django.core.cache import cache

    from workers.tasks import stored_results_recompute_task

    try:
        added = cache.add(queued_mark(group), 1, timeout=QUEUED_MARK_SECONDS)
    except Exception:  # the cache fails open elsewhere too; the minute's sweep still runs
        logger.warning("could not mark %s queued; queueing anyway", group, exc_info=True)
        added = True
    if not added:
        return False
    if not publish_in(RECOMPUTE_DEBOUNCE_SECONDS, stored_results_recompute_task, group):
        cache.delete(queued_mark(group))
        return False
    return True


def after_inputs_changed(*, groups: tuple[str, ...]) -> None:
    """A write to the inputs of `groups`: recompute their stored results once it commits (once per
    transaction and group however many rows it writes)."""
    from django.db import connection

    pending = {getattr(entry[1], "stored_results_group", None) for entry in connection.run_on_commit}
    for group in groups:
        if group in pending:
            continue

        def schedule(group=group) -> None:
            stored_results_schedule(group)

        schedule.stored_results_group = group  # type: ignore[attr-defined]
        transaction.on_commit(schedule, robust=True)


HANDLERS = {
    dispatch.ACTIVITY_LOGGED: after_activity_logged,
    dispatch.SIGNING_COMPLETED: after_signing_completed,
    dispatch.WEBHOOK_DELIVERIES_CREATED: after_webhook_deliveries_created,
    dispatch.INPUTS_CHANGED: after_inputs_changed,
}


def handle(event: str, **payload) -> None:
    """The dispatcher workers registers into crm.services.dispatch."""
    HANDLERS[event](**payload)

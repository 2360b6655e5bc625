"""The one seam through which services ask for background work, so that they never import workers.

A service names what happened (`dispatch(ACTIVITY_LOGGED, lead_id=…)`); the workers package registers
the function that turns such an event into tasks when Django starts (workers.apps), and it enqueues
them after the transaction commits. Imports then run one way: workers → crm.services, never back.
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

ACTIVITY_LOGGED = "activity_logged"  # lead_id: an activity may answer the lead's pending reminder
# signing_id (and, when a settled signing is cancelled, the ISO day it had been verified on,
# unsettled_on): the leaderboards of the signing's month and of its verification's month move
SIGNING_COMPLETED = "signing_completed"
WEBHOOK_DELIVERIES_CREATED = "webhook_deliveries_created"  # delivery_ids: send each once committed
# groups: the stored results (crm.data_versions) whose inputs a write changed, recomputed after commit
INPUTS_CHANGED = "inputs_changed"
EVENTS = frozenset({ACTIVITY_LOGGED, SIGNING_COMPLETED, WEBHOOK_DELIVERIES_CREATED, INPUTS_CHANGED})

Handler = Callable[..., None]
_handler: Handler | None = None


def dispatcher_register(handler: Handler | None) -> Handler | None:
    """Install `handler(event, **payload)` as the receiver of every event; returns the one before it
    (None unregisters, e.g. for a test)."""
    global _handler
    previous, _handler = _handler, handler
    return previous


def dispatch(event: str, **payload) -> None:
    """Ask for the background work that follows `event`; without a registered handler it is logged
    and dropped (the scheduled scans find every such piece of work again)."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    if _handler is None:
        logger.warning(
            "no background dispatcher registered; %s %r left to the scheduled scans", event, payload
        )
        return
    _handler(event, **payload)

"""Agencies' webhooks: registering them, one delivery per webhook for each event, and sending it signed."""

import datetime as dt
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from crm.models import Agency, AgencyWebhook, Lead, StageChange, WebhookDelivery
from crm.services.common import invalid
from crm.services.dispatch import WEBHOOK_DELIVERIES_CREATED, dispatch
from crm.services.webhook_hosts import (
    HostRefused,
    checked_opener,
    webhook_host_check,
    webhook_url_problem,
)

STAGE_CHANGED = "lead.stage_changed"
# One try and up to five retries (workers.tasks.deliver_webhook retries with backoff in between).
MAX_ATTEMPTS = 6
TIMEOUT_SECONDS = 5
# Longer than one try can take, so that a worker that died mid-send frees the row for the next.
CLAIM_LEASE = dt.timedelta(seconds=TIMEOUT_SECONDS * 6)
ERROR_EXCERPT = 500
# A delivery's six tries with their backoff (workers.tasks.deliver_webhook) end within minutes; one
# still pending after this lost its message, and beat sends it again (webhook_deliveries_due).
REDELIVER_AFTER = dt.timedelta(minutes=10)
REDELIVER_BATCH = 200
USER_AGENT = "district-crm-webhooks/1"
NOT_IN_URLS = frozenset('<>"{}|\\^` ')


class WebhookRetry(Exception):
    """The receiver could not take the delivery now (no connection, a timeout, 408/429/5xx): try later."""


class WebhookHeld(Exception):
    """Another run holds the delivery's lease: try again once it ends (`seconds` from now).

    Mostly a redelivered message whose first run was killed mid-send: the row stays pending and
    leased, and only this message still knows to send it.
    """

    def __init__(self, delivery_id: int, seconds: float):
        super().__init__(f"delivery {delivery_id} is held for another {seconds:.1f} s")
        self.seconds = seconds


def webhook_signature(secret: str, body: bytes) -> str:
    """The `X-Signature` header: `sha256=` and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _body(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _refuse_bad_url(url: str) -> None:
    """The rules of every URL a webhook is given, as a field error on `url`."""
    problem = webhook_url_problem(url)  # http(s) to a public address only (SSRF; docs/api.md)
    if problem:
        raise invalid("url", problem)
    if any(character in url for character in NOT_IN_URLS):
        # RFC 3986 has no place for these: a URL holding them is markup or a typo, never an endpoint.
        raise invalid("url", "回调地址含有非法字符 / the URL holds characters a URL cannot have")


@transaction.atomic
def webhook_register(*, agency: Agency, url: str) -> AgencyWebhook:
    """Register a URL of `agency`'s system; the returned row carries the secret, shown this once."""
    _refuse_bad_url(url)
    webhook = AgencyWebhook(agency=agency, url=url, secret=secrets.token_urlsafe(32))
    webhook.full_clean()
    webhook.save()
    return webhook


@transaction.atomic
def webhook_update(*, webhook: AgencyWebhook, url: str, active: bool) -> AgencyWebhook:
    """Point a webhook at another URL (checked as at registration), or pause or resume it."""
    _refuse_bad_url(url)
    webhook.url, webhook.active = url, active
    webhook.full_clean()
    webhook.save(update_fields=["url", "active"])
    return webhook


@transaction.atomic
def webhook_delete(*, webhook: AgencyWebhook) -> None:
    """Remove a webhook with its delivery log; a delivery already queued finds it gone and stops."""
    webhook.delete()


@transaction.atomic
def webhook_deliveries_create(*, lead: Lead, event: str, payload: dict) -> list[int]:
    """One pending delivery of `payload` for each active webhook of the lead's agency; their ids."""
    if lead.agency_id is None:
        return []
    hooks = AgencyWebhook.objects.filter(agency_id=lead.agency_id, active=True).values_list("pk", flat=True)
    deliveries = [WebhookDelivery(webhook_id=pk, lead=lead, event=event, payload=payload) for pk in hooks]
    return [d.pk for d in WebhookDelivery.objects.bulk_create(deliveries)]


def webhooks_lead_stage_changed(*, lead: Lead, change: StageChange) -> None:
    """The hook of lead_record_stage: an agency's lead tells the agency's webhooks, after the commit."""
    if lead.agency_id is None:
        return
    # What the agency already sees through the API: its own lead's reference, name and stage.
    payload = {
        "event": STAGE_CHANGED,
        "lead": {"id": lead.pk, "ref": lead.ref, "company_name": lead.company_name},
        "from_stage": change.from_stage,
        "to_stage": change.to_stage,
        "changed_at": change.changed_at.isoformat(),
    }
    delivery_ids = webhook_deliveries_create(lead=lead, event=STAGE_CHANGED, payload=payload)
    if delivery_ids:
        dispatch(WEBHOOK_DELIVERIES_CREATED, delivery_ids=delivery_ids)


# Straight to the receiver (no proxy, no redirects), through connections that refuse private addresses.
_opener = checked_opener()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """(HTTP status, error text) of one POST; status None when no answer came at all.

    HostRefused, before anything is sent, when the URL's host is an address webhooks may not reach.
    """
    webhook_host_check(url)  # DNS may answer differently now than at registration: HostRefused
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        text = error.read(ERROR_EXCERPT).decode("utf-8", "replace")
        return error.code, f"HTTP {error.code} {error.reason}: {text}".strip()
    except urllib.error.URLError as error:
        if isinstance(error.reason, HostRefused):
            raise error.reason from error
        return None, f"{type(error).__name__}: {error}"
    except (OSError, ValueError) as error:
        # Refused connections and timeouts are OSErrors; ValueError is a malformed URL.
        return None, f"{type(error).__name__}: {error}"


def _retryable(code: int | None) -> bool:
    return code is None or code in (408, 429) or code >= 500


def webhook_deliveries_due(
    *, now: dt.datetime | None = None, after: dt.timedelta = REDELIVER_AFTER, batch: int = REDELIVER_BATCH
) -> list[int]:
    """Pending deliveries whose sending was lost, oldest first, at most `batch`: for beat to re-send.

    A delivery still pending `after` its creation and held by no worker has no message left to send
    it: the broker was down when it was enqueued, or a worker died with its retry. Sending it again is
    safe: webhook_deliver claims the row, so a message that did survive sends it only once.
    """
    now = now or timezone.now()
    unheld = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    due = WebhookDelivery.objects.filter(
        unheld, status=WebhookDelivery.Status.PENDING, created_at__lt=now - after
    ).order_by("created_at", "id")
    return list(due.values_list("id", flat=True)[:batch])


def webhook_deliver(*, delivery_id: int) -> str | None:
    """Send one delivery if no other worker holds it; record the answer; WebhookRetry if worth retrying.

    Not one transaction: a row lock must not be held across a network call. The claim is a
    conditional UPDATE (pending and not leased), and the outcome is written only under that lease.
    Returns the delivery's status, or None when it was gone or done; WebhookHeld while another
    run's lease holds it.
    """
    now = timezone.now()
    lease = now + CLAIM_LEASE
    claimable = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    pending = WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
    if pending.filter(claimable).update(locked_until=lease, attempts=F("attempts") + 1) == 0:
        held_until = pending.filter(locked_until__gte=now).values_list("locked_until", flat=True).first()
        if held_until is not None:
            raise WebhookHeld(delivery_id, (held_until - now).total_seconds())
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    body = _body({**delivery.payload, "delivery_id": delivery.pk})
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Delivery-Id": str(delivery.pk),
        "X-Event": delivery.event,
        "X-Signature": webhook_signature(delivery.webhook.secret, body),
    }
    try:
        code, error = _post(delivery.webhook.url, body, headers)
        refused = False
    except HostRefused as problem:
        code, error, refused = None, str(problem), True
    ours = WebhookDelivery.objects.filter(pk=delivery_id, locked_until=lease)
    if code is not None and 200 <= code < 300:
        ours.update(
            status=WebhookDelivery.Status.SENT,
            response_code=code,
            last_error="",
            sent_at=timezone.now(),
            locked_until=None,
        )
        return WebhookDelivery.Status.SENT
    if code is not None and 300 <= code < 400:
        error = f"HTTP {code}: 回调地址不应重定向 / redirects are not followed"
    retry = not refused and _retryable(code) and delivery.attempts < MAX_ATTEMPTS
    status = WebhookDelivery.Status.PENDING if retry else WebhookDelivery.Status.FAILED
    ours.update(status=status, response_code=code, last_error=error[:ERROR_EXCERPT], locked_until=None)
    if retry:
        raise WebhookRetry(f"delivery {delivery_id} attempt {delivery.attempts}: {error}")
    return status

"""Agencies' webhooks: registering them, one delivery per webhook for each event, and sending it signed."""

import datetime as dt
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from crm.models import Agency, AgencyWebhook, Lead, StageChange, WebhookDelivery
from crm.services.common import invalid

STAGE_CHANGED = "lead.stage_changed"
# One try and up to five retries (workers.tasks.deliver_webhook retries with backoff in between).
MAX_ATTEMPTS = 6
TIMEOUT_SECONDS = 5
# Longer than one try can take, so that a worker that died mid-send frees the row for the next.
CLAIM_LEASE = dt.timedelta(seconds=TIMEOUT_SECONDS * 6)
ERROR_EXCERPT = 500
USER_AGENT = "district-crm-webhooks/1"


class WebhookRetry(Exception):
    """The receiver could not take the delivery now (no connection, a timeout, 408/429/5xx): try later."""


def webhook_signature(secret: str, body: bytes) -> str:
    """The `X-Signature` header: `sha256=` and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _body(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


@transaction.atomic
def webhook_register(*, agency: Agency, url: str) -> AgencyWebhook:
    """Register a URL of `agency`'s system; the returned row carries the secret, shown this once."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise invalid("url", "回调地址须为 http 或 https / the URL must be http or https")
    webhook = AgencyWebhook(agency=agency, url=url, secret=secrets.token_urlsafe(32))
    webhook.full_clean()
    webhook.save()
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
        from workers.enqueue import after_webhook_deliveries_created

        after_webhook_deliveries_created(delivery_ids=delivery_ids)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would resend the body (or drop it) to a URL the agency never registered.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """(HTTP status, error text) of one POST; status None when no answer came at all."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        text = error.read(ERROR_EXCERPT).decode("utf-8", "replace")
        return error.code, f"HTTP {error.code} {error.reason}: {text}".strip()
    except (urllib.error.URLError, OSError, ValueError) as error:
        # URLError, refused connections and timeouts are OSErrors; ValueError is a malformed URL.
        return None, f"{type(error).__name__}: {error}"


def _retryable(code: int | None) -> bool:
    return code is None or code in (408, 429) or code >= 500


def webhook_deliver(*, delivery_id: int) -> str | None:
    """Send one delivery if no other worker holds it; record the answer; WebhookRetry if worth retrying.

    Not one transaction: a row lock must not be held across a network call. The claim is a
    conditional UPDATE (pending and not leased), and the outcome is written only under that lease.
    Returns the delivery's status, or None when it was gone, done or held by another worker.
    """
    now = timezone.now()
    lease = now + CLAIM_LEASE
    claimable = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    rows = WebhookDelivery.objects.filter(claimable, pk=delivery_id, status=WebhookDelivery.Status.PENDING)
    if rows.update(locked_until=lease, attempts=F("attempts") + 1) == 0:
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
    code, error = _post(delivery.webhook.url, body, headers)
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
    retry = _retryable(code) and delivery.attempts < MAX_ATTEMPTS
    status = WebhookDelivery.Status.PENDING if retry else WebhookDelivery.Status.FAILED
    ours.update(status=status, response_code=code, last_error=error[:ERROR_EXCERPT], locked_until=None)
    if retry:
        raise WebhookRetry(f"delivery {delivery_id} attempt {delivery.attempts}: {error}")
    return status

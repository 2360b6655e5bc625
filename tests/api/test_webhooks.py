"""Agencies' webhooks, against a real HTTP receiver on 127.0.0.1: signed deliveries of stage changes,
retries of a failing receiver, the delivery log, and each agency seeing only its own webhooks."""

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import AgencyWebhook, WebhookDelivery
from crm.services import webhook_hosts
from crm.services.webhooks import webhook_deliveries_due, webhook_register
from tests.api.conftest import api_client
from tests.factories import LeadFactory
from workers.celery import app
from workers.schedule import DEFAULT_SCHEDULE
from workers.tasks import webhooks_redeliver

pytestmark = pytest.mark.django_db


@dataclass
class Receiver:
    """An agency's system: records every request; answers the queued status codes, then 200."""

    url: str = ""
    requests: list[dict] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)


@pytest.fixture
def receiver():
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the name http.server calls
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.requests.append({"headers": dict(self.headers), "body": body})
            code = got.codes.pop(0) if got.codes else 200
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: a free one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    got.url = f"http://127.0.0.1:{server.server_address[1]}/crm-hook"
    yield got
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _tasks_in_process():
    # The task runs right where the transaction commits (no broker), its retries one after another
    # without the backoff's waits; Celery retries an eager task only when its errors do not propagate.
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.update(task_always_eager=True, task_eager_propagates=False)
    yield
    app.conf.update(task_always_eager=before[0], task_eager_propagates=before[1])


def _register(world, url: str) -> dict:
    response = api_client(world, "agency").post("/api/v1/webhooks/", {"url": url}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _contact(world, lead, capture) -> None:
    """The office moves the lead from new to contacted; the commit sends the webhooks."""
    with capture(execute=True):
        response = api_client(world, "district_admin").post(
            f"/api/v1/leads/{lead.pk}/transition/", {"stage": "contacted"}, format="json"
        )
    assert response.status_code == 200, response.content


def test_registering_shows_the_secret_once(world, receiver):
    # given
    created = _register(world, receiver.url)
    # when
    read = api_client(world, "agency").get(f"/api/v1/webhooks/{created['id']}/").json()
    # then: 32 random bytes in URL-safe base64 are 43 characters (ceil(32 * 8 / 6) = 43, no padding)
    assert len(created["secret"]) == 43
    assert "secret" not in read
    assert read["url"] == receiver.url


def test_a_stage_change_of_an_agency_lead_sends_one_signed_delivery(
    world, receiver, django_capture_on_commit_callbacks
):
    # given
    secret = _register(world, receiver.url)["secret"]
    # when
    _contact(world, world.agency_lead, django_capture_on_commit_callbacks)
    # then: one request, whose signature the receiver can check with the secret it was shown
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["X-Signature"], expected)
    body = json.loads(request["body"])
    assert (body["event"], body["lead"]["id"]) == ("lead.stage_changed", world.agency_lead.pk)
    assert (body["from_stage"], body["to_stage"]) == ("new", "contacted")
    delivery = WebhookDelivery.objects.get()
    assert request["headers"]["X-Delivery-Id"] == str(delivery.pk) == str(body["delivery_id"])
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("sent", 1, 200)


def test_a_tampered_body_fails_the_signature_check(world, receiver, django_capture_on_commit_callbacks):
    # given
    secret = _register(world, receiver.url)["secret"]
    _contact(world, world.agency_lead, django_capture_on_commit_callbacks)
    request = receiver.requests[0]
    # when
    forged = request["body"].replace(b"contacted", b"negotiating")
    digest = "sha256=" + hmac.new(secret.encode(), forged, hashlib.sha256).hexdigest()
    # then
    assert not hmac.compare_digest(request["headers"]["X-Signature"], digest)


def test_a_promoters_lead_sends_nothing(world, receiver, django_capture_on_commit_callbacks):
    # given
    _register(world, receiver.url)
    # when
    _contact(world, world.lead, django_capture_on_commit_callbacks)
    # then
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_500_is_retried_until_the_receiver_takes_it(world, receiver, django_capture_on_commit_callbacks):
    # given a receiver that fails twice
    _register(world, receiver.url)
    receiver.codes = [500, 503]
    # when
    _contact(world, world.agency_lead, django_capture_on_commit_callbacks)
    # then: 2 failures + 1 success = 3 requests of the same delivery, body and signature
    assert len(receiver.requests) == 3
    assert (
        len(
            {
                (r["headers"]["X-Delivery-Id"], r["body"], r["headers"]["X-Signature"])
                for r in receiver.requests
            }
        )
        == 1
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.last_error) == (
        "sent",
        3,
        200,
        "",
    )


def test_a_receiver_that_keeps_failing_is_given_up_and_logged(
    world, receiver, django_capture_on_commit_callbacks
):
    # given a receiver that always answers 500
    hook = _register(world, receiver.url)
    receiver.codes = [500] * 10
    # when
    _contact(world, world.agency_lead, django_capture_on_commit_callbacks)
    # then: one try and five retries = 6 requests; the log shows the failure
    assert len(receiver.requests) == 6
    log = api_client(world, "agency").get(f"/api/v1/webhooks/{hook['id']}/deliveries/").json()
    assert log["count"] == 1
    entry = log["results"][0]
    assert (entry["status"], entry["attempts"], entry["response_code"]) == ("failed", 6, 500)
    assert entry["last_error"].startswith("HTTP 500")


def test_a_client_error_is_not_retried(world, receiver, django_capture_on_commit_callbacks):
    # given a receiver that refuses the request itself
    _register(world, receiver.url)
    receiver.codes = [410]
    # when
    _contact(world, world.agency_lead, django_capture_on_commit_callbacks)
    # then
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.values_list("status", "attempts").get() == ("failed", 1)


def test_an_unreachable_receiver_is_retried_and_logged(world, django_capture_on_commit_callbacks):
    # given a URL where nothing listens: a free port, closed again before the delivery
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook_register(agency=world.agency, url=f"http://127.0.0.1:{port}/hook")
    # when
    _contact(world, world.agency_lead, django_capture_on_commit_callbacks)
    # then: one try and five retries, none answered, the last error kept
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 6, None)
    assert "refused" in delivery.last_error.lower()


def test_an_agency_cannot_see_another_agencys_webhook(world, receiver):
    # given a webhook of the other agency
    foreign = webhook_register(agency=world.other_agency, url=receiver.url)
    client = api_client(world, "agency")
    # when
    answers = (
        client.get(f"/api/v1/webhooks/{foreign.pk}/").status_code,
        client.get(f"/api/v1/webhooks/{foreign.pk}/deliveries/").status_code,
        client.delete(f"/api/v1/webhooks/{foreign.pk}/").status_code,
        client.get("/api/v1/webhooks/").json()["count"],
    )
    # then: not found, as if it did not exist; the list is empty; the webhook is still there
    assert answers == (404, 404, 404, 0)
    assert AgencyWebhook.objects.filter(pk=foreign.pk).exists()


def test_an_agency_deletes_its_webhook(world, receiver):
    # given
    hook = _register(world, receiver.url)
    # when
    response = api_client(world, "agency").delete(f"/api/v1/webhooks/{hook['id']}/")
    # then
    assert response.status_code == 204
    assert not AgencyWebhook.objects.exists()


def test_a_webhook_url_must_be_http(world):
    # when
    response = api_client(world, "agency").post(
        "/api/v1/webhooks/", {"url": "ftp://example.com/x"}, format="json"
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["url"]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def test_list_queries_do_not_grow_with_the_page(world, receiver):
    # given 60 webhooks, the first with 60 deliveries
    hooks = [webhook_register(agency=world.agency, url=f"{receiver.url}/{n}") for n in range(60)]
    lead = LeadFactory(owner=None, agency=world.agency, channel="agency")
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=hooks[0], lead=lead, event="lead.stage_changed", payload={})
        for _ in range(60)
    )
    client = api_client(world, "agency")
    # when
    counts = {
        url: (_queries(client, f"{url}?page_size=10"), _queries(client, f"{url}?page_size=50"))
        for url in ("/api/v1/webhooks/", f"/api/v1/webhooks/{hooks[0].pk}/deliveries/")
    }
    # then: the key with its user and agency, then groups, scope and promoter row in one (2), then
    # webhooks: COUNT(*) and the page = 2 + 2 = 4;
    # deliveries: the webhook (scoped), COUNT(*) and the page = 2 + 3 = 5
    assert counts == {
        "/api/v1/webhooks/": (4, 4),
        f"/api/v1/webhooks/{hooks[0].pk}/deliveries/": (5, 5),
    }


# ---------------------------------------------------------------------------- private hosts (SSRF)


@pytest.fixture
def public_only(settings):
    """Production's rule: webhooks reach public addresses only."""
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",  # this machine
        "http://localhost/hook",  # this machine, by name
        "http://10.1.2.3/hook",  # private
        "http://192.168.0.10/hook",  # private
        "http://172.16.5.5/hook",  # private
        "http://169.254.169.254/latest/meta-data/",  # link-local: a cloud's metadata service
        "http://100.64.0.1/hook",  # shared address space (carrier NAT)
        "http://224.0.0.1/hook",  # multicast
        "http://240.0.0.1/hook",  # reserved
        "http://0.0.0.0/hook",  # unspecified
        "http://[::1]/hook",  # loopback, IPv6
        "http://[fe80::1]/hook",  # link-local, IPv6
        "http://[::ffff:10.0.0.1]/hook",  # a private IPv4 address written as IPv6
    ],
)
def test_a_private_host_is_refused_at_registration(world, public_only, url):
    # when
    response = api_client(world, "agency").post("/api/v1/webhooks/", {"url": url}, format="json")
    # then: a field error on url, and nothing registered
    assert response.status_code == 400
    assert list(response.json()) == ["url"]
    assert not AgencyWebhook.objects.exists()


def test_a_public_address_is_accepted(world, public_only):
    # when an agency registers a public IPv4 address (a literal: no DNS needed)
    response = api_client(world, "agency").post(
        "/api/v1/webhooks/", {"url": "https://93.184.216.34/crm-hook"}, format="json"
    )
    # then
    assert response.status_code == 201, response.content


def test_a_host_name_is_judged_by_the_addresses_it_resolves_to(world, public_only, monkeypatch):
    # given a DNS where one name has a public and a private address, and another only a public one
    answers = {"mixed.example": {"93.184.216.34", "10.0.0.8"}, "public.example": {"93.184.216.34"}}
    monkeypatch.setattr(webhook_hosts, "resolve", lambda host, port: answers[host])
    client = api_client(world, "agency")
    # when
    mixed = client.post("/api/v1/webhooks/", {"url": "https://mixed.example/h"}, format="json")
    public = client.post("/api/v1/webhooks/", {"url": "https://public.example/h"}, format="json")
    # then: any private address refuses the name
    assert (mixed.status_code, public.status_code) == (400, 201)
    assert "10.0.0.8" in mixed.json()["url"][0]


def test_a_host_name_that_does_not_resolve_is_refused(world, public_only, monkeypatch):
    # given a DNS that knows no such name
    def unknown(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(webhook_hosts, "resolve", unknown)
    # when
    response = api_client(world, "agency").post(
        "/api/v1/webhooks/", {"url": "https://nowhere.example/h"}, format="json"
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["url"]


def test_the_scheme_rule_holds_even_where_private_hosts_are_allowed(world):
    # given the test settings, which allow private hosts
    # when
    response = api_client(world, "agency").post(
        "/api/v1/webhooks/", {"url": "file:///etc/passwd"}, format="json"
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["url"]


def test_a_host_that_turned_private_is_not_sent_to_nor_retried(
    world, receiver, settings, django_capture_on_commit_callbacks
):
    # given a webhook registered while its host was allowed, whose host is now refused
    _register(world, receiver.url)
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    # when the agency's lead changes stage
    _contact(world, world.agency_lead, django_capture_on_commit_callbacks)
    # then: nothing reached the receiver; one attempt, failed, saying why
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, None)
    assert "127.0.0.1" in delivery.last_error


def test_an_address_that_changed_after_the_check_is_refused_on_connecting(
    world, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given a webhook whose host the check sees as public, while the connection reaches 127.0.0.1
    # (DNS answering differently between the check and the connection: a rebinding attack)
    _register(world, receiver.url)
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    monkeypatch.setattr(webhook_hosts, "resolve", lambda host, port: {"93.184.216.34"})
    # when
    _contact(world, world.agency_lead, django_capture_on_commit_callbacks)
    # then: the connection is closed before any request is sent, and the delivery fails for good
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "connected to a private" in delivery.last_error


# ---------------------------------------------------------------------------- lost deliveries


def _delivery(world, hook: AgencyWebhook, *, minutes_old: int, **fields) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        webhook=hook, lead=world.agency_lead, event="lead.stage_changed", payload={"n": minutes_old}, **fields
    )
    created = timezone.now() - dt.timedelta(minutes=minutes_old)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=created)
    return delivery


def test_beat_resends_a_delivery_whose_message_was_lost(world, receiver):
    # given a delivery pending for 11 minutes that no worker holds (its message was lost)
    hook = webhook_register(agency=world.agency, url=receiver.url)
    lost = _delivery(world, hook, minutes_old=11)
    # when beat runs the re-send task
    resent = webhooks_redeliver.apply().get()
    # then: sent once, signed like any delivery
    assert resent == 1
    assert len(receiver.requests) == 1
    assert receiver.requests[0]["headers"]["X-Delivery-Id"] == str(lost.pk)
    lost.refresh_from_db()
    assert (lost.status, lost.attempts) == ("sent", 1)


def test_only_lost_deliveries_are_due(world, receiver):
    # given deliveries in every state
    hook = webhook_register(agency=world.agency, url=receiver.url)
    later = timezone.now() + dt.timedelta(minutes=1)
    lost = _delivery(world, hook, minutes_old=30)
    lost_after_a_dead_worker = _delivery(
        world, hook, minutes_old=20, attempts=2, locked_until=timezone.now() - dt.timedelta(minutes=5)
    )
    _delivery(world, hook, minutes_old=2)  # still within its own retries
    _delivery(world, hook, minutes_old=30, locked_until=later)  # a worker is sending it right now
    _delivery(world, hook, minutes_old=30, status="sent", sent_at=timezone.now())
    _delivery(world, hook, minutes_old=30, status="failed", attempts=6)
    # when
    due = webhook_deliveries_due()
    # then: the two lost ones, oldest first
    assert due == [lost.pk, lost_after_a_dead_worker.pk]


def test_the_resend_is_capped_per_run(world, receiver):
    # given three lost deliveries
    hook = webhook_register(agency=world.agency, url=receiver.url)
    oldest = [_delivery(world, hook, minutes_old=m) for m in (40, 30, 20)]
    # when a run may take two
    due = webhook_deliveries_due(batch=2)
    # then: the two oldest
    assert due == [oldest[0].pk, oldest[1].pk]


def test_the_resend_is_on_the_beat_schedule():
    # then: every five minutes, seeded by workers/migrations/0002_seed_later_entries.py
    entry = next(e for e in DEFAULT_SCHEDULE if e.task == "workers.tasks.webhooks_redeliver")
    assert entry.every_minutes == 5
    assert "workers.tasks.webhooks_redeliver" in app.tasks

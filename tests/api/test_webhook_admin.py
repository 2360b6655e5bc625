"""Agencies' webhooks in the admin: the office registers and edits them (the secret shown once, the
URL checked like the API's), deliveries are a read-only log, and roles see what their scope gives."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from crm.models import AgencyWebhook, WebhookDelivery
from crm.services.webhooks import webhook_register
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:crm_agencywebhook_add")
WEBHOOKS = reverse("admin:crm_agencywebhook_changelist")
DELIVERIES = reverse("admin:crm_webhookdelivery_changelist")


def _change(webhook) -> str:
    return reverse("admin:crm_agencywebhook_change", args=[webhook.pk])


def _login(client, role: str):
    client.force_login(UserFactory(role=role, is_staff=True))


def test_the_office_registers_a_webhook_and_sees_its_secret_once(client, world):
    # given the district office in the admin
    _login(client, "district_admin")
    # when it registers a URL for the agency
    response = client.post(
        ADD, {"agency": world.agency.pk, "url": "https://93.184.216.34/crm-hook", "active": "on"}
    )
    # then: saved through the service, its 43-character secret in one message, the first
    assert response.status_code == 302, response.content
    webhook = AgencyWebhook.objects.get()
    assert (webhook.agency, webhook.url, webhook.active) == (
        world.agency,
        "https://93.184.216.34/crm-hook",
        True,
    )
    assert len(webhook.secret) == 43
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert [m for m in shown if webhook.secret in m] == shown[:1]  # the first message, and only it
    # and once that message has been shown, the webhook's own page does not show it again
    client.get(response.url)
    page = client.get(_change(webhook)).content.decode()
    assert webhook.secret not in page


def test_a_private_url_is_refused_in_the_admin_too(client, world, settings):
    # given production's rule and a registered webhook
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    webhook = webhook_register(agency=world.agency, url="https://93.184.216.34/crm-hook")
    _login(client, "district_admin")
    # when the office points it at the metadata service
    response = client.post(_change(webhook), {"url": "http://169.254.169.254/latest/", "active": "on"})
    # then: the form comes back with the error on the URL, and the webhook is unchanged
    assert response.status_code == 200
    assert "169.254.169.254" in response.context["adminform"].form.errors["url"][0]
    webhook.refresh_from_db()
    assert webhook.url == "https://93.184.216.34/crm-hook"


def test_the_office_pauses_a_webhook(client, world):
    # given
    webhook = webhook_register(agency=world.agency, url="https://93.184.216.34/crm-hook")
    _login(client, "district_admin")
    # when the office unticks "active"
    response = client.post(_change(webhook), {"url": webhook.url})
    # then
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert webhook.active is False


def test_deliveries_are_a_read_only_log_with_filters(client, world):
    # given one sent and one failed delivery
    webhook = webhook_register(agency=world.agency, url="https://93.184.216.34/crm-hook")
    lead = LeadFactory(owner=None, agency=world.agency, channel="agency")
    sent, failed = (
        WebhookDelivery.objects.create(
            webhook=webhook, lead=lead, event="lead.stage_changed", payload={}, **f
        )
        for f in (
            {"status": "sent", "attempts": 1, "sent_at": lead.created_at},
            {"status": "failed", "attempts": 6},
        )
    )
    _login(client, "district_admin")
    change = reverse("admin:crm_webhookdelivery_change", args=[failed.pk])
    # when
    listing = client.get(DELIVERIES, {"status__exact": "failed"})
    page = client.get(change)
    post = client.post(change, {"status": "sent"})
    add = client.get(reverse("admin:crm_webhookdelivery_add"))
    # then: the filter keeps the failed one; the page shows it but nothing can be written
    assert [d.pk for d in listing.context["cl"].result_list] == [failed.pk]
    assert page.status_code == 200
    assert (post.status_code, add.status_code) == (403, 403)
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_the_auditor_reads_webhooks_but_changes_nothing(client, world):
    # given
    webhook = webhook_register(agency=world.agency, url="https://93.184.216.34/crm-hook")
    _login(client, "auditor")
    # when
    listing = client.get(WEBHOOKS)
    post = client.post(_change(webhook), {"url": "https://93.184.216.35/other", "active": "on"})
    # then
    assert listing.status_code == 200
    assert [w.pk for w in listing.context["cl"].result_list] == [webhook.pk]
    assert post.status_code == 403
    webhook.refresh_from_db()
    assert webhook.url == "https://93.184.216.34/crm-hook"


@pytest.mark.parametrize("role", ["promoter", "street_officer", "building_manager"])
def test_other_roles_do_not_reach_webhooks(client, world, role):
    # given a webhook
    webhook_register(agency=world.agency, url="https://93.184.216.34/crm-hook")
    _login(client, role)
    # when
    statuses = (client.get(WEBHOOKS).status_code, client.get(DELIVERIES).status_code)
    # then: their roles carry no permission on either table
    assert statuses == (403, 403)

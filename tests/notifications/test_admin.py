"""Street robots in the admin: the office sets them with a write-only secret; the outbox shows failures
with the platform's code; the auditor reads the outbox but not the credentials."""

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import ChannelMessage, NotificationChannel
from crm.services.channels import channel_set
from tests.factories import StreetFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:crm_notificationchannel_add")
CHANNELS = reverse("admin:crm_notificationchannel_changelist")
MESSAGES = reverse("admin:crm_channelmessage_changelist")
URL = "http://127.0.0.1:9/robot/send?access_token=tok-secret-part"


def _login(client, role: str):
    client.force_login(UserFactory(role=role, is_staff=True))


def test_the_office_sets_a_street_robot_whose_secret_and_token_are_never_shown(client):
    # given the district office in the admin and a street
    street = StreetFactory()
    _login(client, "district_admin")

    # when it adds the street's DingTalk robot with a secret
    response = client.post(
        ADD,
        {
            "street": street.pk,
            "kind": "dingtalk",
            "url": URL,
            "secret": "SEC-admin-1",
            "language": "zh-hans",
            "active": "on",
        },
    )

    # then it is saved through the service, and neither the list nor the change page shows the
    # secret or the URL's token
    assert response.status_code == 302, response.content
    channel = NotificationChannel.objects.get(street=street)
    assert (channel.url, channel.secret) == (URL, "SEC-admin-1")
    for page in (CHANNELS, reverse("admin:crm_notificationchannel_change", args=[channel.pk])):
        text = client.get(page).content.decode()
        assert "SEC-admin-1" not in text
        assert "tok-secret-part" not in text
    history = client.get(reverse("admin:crm_notificationchannel_history", args=[channel.pk])).content.decode()
    assert "SEC-admin-1" not in history and "tok-secret-part" not in history


def test_an_edit_that_leaves_url_and_secret_empty_keeps_them(client):
    # given a street robot
    street = StreetFactory()
    channel = channel_set(street=street, kind="dingtalk", url=URL, secret="keep-me")
    _login(client, "district_admin")

    # when its language is changed in the admin
    response = client.post(
        reverse("admin:crm_notificationchannel_change", args=[channel.pk]),
        {"kind": "dingtalk", "url": "", "secret": "", "language": "en", "active": "on"},
    )

    # then URL and secret stay
    assert response.status_code == 302, response.content
    channel.refresh_from_db()
    assert (channel.url, channel.secret, channel.language) == (URL, "keep-me", "en")


def test_a_failure_is_listed_with_the_platforms_code_and_the_auditor_sees_no_credentials(client):
    # given a failed message of a street robot
    channel = channel_set(street=StreetFactory(), kind="dingtalk", url=URL, secret="s")
    ChannelMessage.objects.create(
        channel=channel,
        title="t",
        markdown="m",
        created_at=timezone.now(),
        state=ChannelMessage.State.FAILED,
        error_code=310000,
        last_error="sign not match",
    )

    # when the auditor opens the outbox and the channels
    _login(client, "auditor")
    outbox = client.get(MESSAGES)
    channels = client.get(CHANNELS)

    # then the failure is listed with its code, and the channels are closed to them
    assert outbox.status_code == 200
    assert "310000" in outbox.content.decode() and "sign not match" in outbox.content.decode()
    assert channels.status_code == 403

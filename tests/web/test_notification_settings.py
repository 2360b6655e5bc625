"""The notification settings page: a user picks e-mail or a robot; the secret is never shown back."""

import pytest
from django.urls import reverse

from crm.models import NotificationChannel
from crm.services.channels import channel_set

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/robot/send?access_token=tok-abc"


def test_a_user_chooses_a_dingtalk_robot_and_its_secret_is_never_shown_back(district):
    # given the promoter on their settings page
    client = district.client("promoter")

    # when they choose a DingTalk robot with its secret
    response = client.post(
        reverse("web:notification_settings"),
        {"kind": "dingtalk", "url": URL, "secret": "SEC-hidden-1", "language": "en"},
    )

    # then it is saved, and the page shows neither the secret nor the URL's token
    assert response.status_code == 302
    channel = NotificationChannel.objects.get(user=district.users["promoter"])
    assert (channel.kind, channel.url, channel.secret, channel.language) == (
        "dingtalk",
        URL,
        "SEC-hidden-1",
        "en",
    )
    page = client.get(reverse("web:notification_settings")).content.decode()
    assert "SEC-hidden-1" not in page
    assert "tok-abc" not in page
    assert "http://127.0.0.1:9/robot/send?…" in page


def test_saving_again_without_url_or_secret_keeps_them(district):
    # given a robot already set
    user = district.users["promoter"]
    channel_set(user=user, kind="dingtalk", url=URL, secret="keep")
    client = district.client("promoter")

    # when only the language is changed
    client.post(
        reverse("web:notification_settings"), {"kind": "dingtalk", "url": "", "secret": "", "language": "en"}
    )

    # then URL and secret stay
    channel = NotificationChannel.objects.get(user=user)
    assert (channel.url, channel.secret, channel.language) == (URL, "keep", "en")


def test_a_robot_on_another_host_is_refused_beside_the_url_field(district, settings):
    # given production's host list
    settings.NOTIFY_ALLOWED_HOSTS = ["oapi.dingtalk.com"]
    client = district.client("promoter")

    # when a URL of another host is given
    response = client.post(
        reverse("web:notification_settings"),
        {"kind": "wecom", "url": "https://evil.example/x", "language": "zh-hans"},
    )

    # then the page says why, on the URL field, and nothing is saved
    assert response.status_code == 200
    assert "NOTIFY_ALLOWED_HOSTS" in response.context["form"].errors["url"][0]
    assert not NotificationChannel.objects.exists()


def test_the_district_admin_sees_the_street_robots(district):
    # given a street robot
    channel_set(street=district.street, kind="wecom", url="http://127.0.0.1:9/cgi-bin/webhook/send?key=k")

    # when the district admin opens the page, then the street is listed; a promoter sees no such list
    page = district.client("district_admin").get(reverse("web:notification_settings")).content.decode()
    assert district.street.name in page
    other = district.client("promoter").get(reverse("web:notification_settings"))
    assert other.context["street_channels"] is None

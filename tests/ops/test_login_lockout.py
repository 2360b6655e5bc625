"""Login throttling on the real login page (axes): five wrong passwords lock a username at an address."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory, override_settings

from ops.client_ip import client_ip
from tests.factories import UserFactory

PASSWORD = "pass-word-123"  # tests.factories.UserFactory's
LOGIN = "/login/"


def attempt(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.fixture
def promoter(db):
    return UserFactory(username="promoter", role="promoter")


def test_the_fifth_wrong_password_locks_the_login_for_15_minutes(promoter, client):
    # given four wrong passwords, each answered by the login form again
    for _ in range(4):
        assert attempt(client, "promoter", "wrong").status_code == 200
    # when the fifth is wrong too
    fifth = attempt(client, "promoter", "wrong")
    # then the lockout page answers, in both languages, and even the right password is refused
    assert fifth.status_code == 429
    text = fifth.content.decode()
    assert "登录已暂停 / Login paused" in text
    assert "5 wrong passwords in a row" in text
    assert "for 15 minutes" in text
    right = attempt(client, "promoter", PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_ends_after_the_cool_off(promoter, client):
    # given a locked login whose last failure was 16 minutes ago
    for _ in range(5):
        attempt(client, "promoter", "wrong")
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    # when
    response = attempt(client, "promoter", PASSWORD)
    # then the right password logs in
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(promoter.pk)


def test_a_successful_login_clears_the_count(promoter, client):
    # given four failures, then a success
    for _ in range(4):
        attempt(client, "promoter", "wrong")
    assert attempt(client, "promoter", PASSWORD).status_code == 302
    client.logout()
    # when four more failures follow
    for _ in range(4):
        last = attempt(client, "promoter", "wrong")
    # then the count started again: not locked
    assert last.status_code == 200
    assert attempt(client, "promoter", PASSWORD).status_code == 302


def test_the_lock_holds_one_username_at_one_address_only(promoter, client):
    # given the promoter locked out from 127.0.0.1 (the test client's address)
    UserFactory(username="office", role="district_admin")
    for _ in range(5):
        attempt(client, "promoter", "wrong")
    # then another user at the same address, and the same user elsewhere, still log in
    assert attempt(Client(), "office", PASSWORD).status_code == 302
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert attempt(elsewhere, "promoter", PASSWORD).status_code == 302


def test_the_admin_login_is_watched_too(promoter, client):
    for _ in range(5):
        client.post("/admin/login/", {"username": "promoter", "password": "wrong"})
    assert client.post("/admin/login/", {"username": "promoter", "password": PASSWORD}).status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_client_is_the_address_that_proxy_appended():
    # the client sent a forged hop; our proxy appended the address it saw
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "203.0.113.9"


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_a_trusted_proxy_forwarded_addresses_are_ignored():
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="198.51.100.4")
    assert client_ip(request) == "198.51.100.4"

"""`manage.py bootstrap_admin`: the first district administrator, who can then log in to the admin."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from crm.constants import Role
from crm.roles import roles_sync_permissions

STRONG = "Yuecheng-office-2026!"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def role_groups():
    if not Group.objects.filter(name=Role.DISTRICT_ADMIN).exists():  # flushed by a transactional test
        roles_sync_permissions()


def bootstrap(monkeypatch, password: str | None = STRONG, *args: str) -> str:
    if password is None:
        monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", password)
    out = io.StringIO()
    call_command(
        "bootstrap_admin", "--username", "wang", "--email", "wang@district.example", *args, stdout=out
    )
    return out.getvalue()


def test_the_first_administrator_logs_in_to_the_admin_and_may_add_users(client, monkeypatch):
    # when
    output = bootstrap(monkeypatch)
    # then a district admin who is also a superuser exists ...
    user = get_user_model().objects.get(username="wang")
    assert "created: wang" in output
    assert list(user.groups.values_list("name", flat=True)) == [Role.DISTRICT_ADMIN]
    assert (user.is_active, user.is_staff, user.is_superuser) == (True, True, True)
    assert user.email == "wang@district.example"
    # ... who logs in through the admin's own form with that password, and may create the other logins
    response = client.post("/admin/login/?next=/admin/", {"username": "wang", "password": STRONG})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/auth/user/add/").status_code == 200


@pytest.mark.parametrize("weak", ["12345678", "password", "wang.district", "short"])
def test_a_weak_password_is_refused_and_nothing_is_created(monkeypatch, weak):
    with pytest.raises(CommandError, match="password refused, nothing was changed"):
        bootstrap(monkeypatch, weak)
    assert not get_user_model().objects.filter(username="wang").exists()


def test_running_it_again_changes_nothing_and_keeps_the_password(monkeypatch):
    # given the administrator exists
    bootstrap(monkeypatch)
    # when it runs again with another password in the environment
    output = bootstrap(monkeypatch, "Another-strong-passphrase-9")
    # then one user, the first password still valid
    assert "already in place: wang" in output
    assert get_user_model().objects.filter(username="wang").count() == 1
    assert get_user_model().objects.get(username="wang").check_password(STRONG)


def test_an_existing_user_is_given_the_role_and_a_new_password_only_when_asked(monkeypatch):
    # given a plain user "wang"
    user = get_user_model().objects.create_user("wang", password="Old-but-fine-pass-1")
    # when
    output = bootstrap(monkeypatch, STRONG)
    # then the role and flags are added, the password is untouched
    user.refresh_from_db()
    assert "updated (is_staff, is_superuser, email, district_admin)" in output
    assert user.check_password("Old-but-fine-pass-1")
    assert user.groups.filter(name=Role.DISTRICT_ADMIN).exists()
    # when asked to reset it
    bootstrap(monkeypatch, STRONG, "--reset-password")
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_without_a_terminal_or_the_variable_it_asks_for_a_password_and_creates_nothing(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD"):
        bootstrap(monkeypatch, None)
    assert not get_user_model().objects.filter(username="wang").exists()


def test_a_malformed_email_is_refused(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG)
    with pytest.raises(CommandError, match="--email"):
        call_command("bootstrap_admin", "--username", "wang", "--email", "wang at district")
    assert not get_user_model().objects.filter(username="wang").exists()

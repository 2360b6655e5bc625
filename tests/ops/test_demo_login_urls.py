"""`demo_login` says where the pages, the admin and the API are, and which logins each one lets in;
the claims are checked by requesting each place as each login."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from crm.constants import Role
from crm.roles import roles_sync_permissions

pytestmark = pytest.mark.django_db


def test_demo_login_prints_the_pages_admin_and_api_and_who_uses_which(client):
    if not Group.objects.filter(name=Role.AGENCY).exists():  # flushed by a transactional test
        roles_sync_permissions()
    out = io.StringIO()
    # when
    call_command("demo_login", "--url", "http://crm.local:8000/", stdout=out)
    # then the three places are printed
    text = out.getvalue()
    assert "pages:  http://crm.local:8000/login/" in text
    assert "admin:  http://crm.local:8000/admin/" in text
    assert "http://crm.local:8000/api/v1/docs/" in text
    lines = {line.split()[0]: line for line in text.splitlines()[5:] if line.strip()}
    assert "pages, API (no admin)" in lines["agency"]
    assert "pages, admin, API" in lines["admin"]
    # and they are true: the agency's pages answer, its admin does not let it in, the office's does
    User = get_user_model()
    client.force_login(User.objects.get(username="agency"))
    assert client.get("/leads/").status_code == 200
    assert client.get("/admin/").status_code == 302  # to the admin's login: not staff
    client.force_login(User.objects.get(username="admin"))
    assert client.get("/admin/").status_code == 200

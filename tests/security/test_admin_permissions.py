"""Admin pages open by model permission only; state never widens one (issue #21, 2 and 7)."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.urls import resolve, reverse

from crm.models import Building, Lead
from policies.models import DistrictPolicySettings
from tests.security.state import changed_tables, database_state
from tests.security.test_admin_lookups import _build_district

pytestmark = pytest.mark.django_db

MISSING = "987654321"
settings_migration = importlib.import_module("policies.migrations.0002_district_policy_settings_row")


@pytest.fixture
def settings_row():
    """The row migration 0002 makes; made again here, because a transactional test elsewhere in the
    suite empties every table (the settings row with them) when it ends."""
    settings_migration.create_settings_row(apps, None)
    return DistrictPolicySettings.objects.get(pk=1)


def _perm(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _status(user, method: str, url: str):
    """The admin's answer to `user`, through its URL and view (the admin's login check, CSRF
    exempted as the test client does), without the middleware a browser's request also passes."""
    request = getattr(RequestFactory(), method)(url)
    request.user = user
    request._dont_enforce_csrf_checks = True
    request.session = {}
    try:
        match = resolve(url)
        return match.func(request, *match.args, **match.kwargs).status_code
    except PermissionDenied:
        return 403
    except Http404:
        return 404


def test_every_add_change_and_delete_page_is_403_to_every_role_without_its_model_permission(settings_row):
    # given a district, a staff login of every role, and what the database holds
    users = _build_district()
    before = database_state()
    wrong = []

    for role, user in users.items():
        for model in admin.site._registry:
            first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
            row = first if first is not None else MISSING
            pages = []
            # when a role without the add permission opens the add page (a POST takes the same check)
            if not user.has_perm(_perm(model, "add")):
                pages.append(("get", _url(model, "add")))
            # and a role without view or change opens a row's page, or posts it without change
            if not (user.has_perm(_perm(model, "view")) or user.has_perm(_perm(model, "change"))):
                pages.append(("get", _url(model, "change", row)))
            if not user.has_perm(_perm(model, "change")):
                pages.append(("post", _url(model, "change", row)))
            # and a role without the delete permission opens a row's delete page
            if not user.has_perm(_perm(model, "delete")):
                pages.append(("get", _url(model, "delete", row)))
            for method, url in pages:
                status = _status(user, method, url)
                if status != 403:
                    wrong.append((role, model.__name__, method, url, status))

    # then every one of those is a 403, whatever the row, and nothing was written
    assert wrong == []
    assert changed_tables(before, database_state()) == []


def test_over_http_the_settings_add_page_and_a_locked_models_pages_are_403(client, settings_row):
    # given the auditor, who reads everything and changes nothing
    users = _build_district()
    client.force_login(users["auditor"])
    tower = Building.objects.get(name="北海大厦")

    # when it opens the settings' add page and posts a building's change page through the whole stack
    add = client.get(_url(DistrictPolicySettings, "add"))
    post = client.post(_url(Building, "change", tower.pk), {"name": "改名"})

    # then both are 403 and the building keeps its name
    assert (add.status_code, post.status_code) == (403, 403)
    tower.refresh_from_db()
    assert tower.name == "北海大厦"


def test_the_settings_migration_makes_the_one_row_with_the_default_share_and_keeps_a_set_one():
    # given no settings row
    DistrictPolicySettings.objects.all().delete()

    # when the migration runs, the share is set to 45 %, and the migration runs again
    settings_migration.create_settings_row(apps, None)
    made = list(DistrictPolicySettings.objects.values_list("pk", "tax_retained_share"))
    DistrictPolicySettings.objects.filter(pk=1).update(tax_retained_share=Decimal("0.45"))
    settings_migration.create_settings_row(apps, None)

    # then it made row 1 at 40 %, and running again kept the 45 %
    assert made == [(1, Decimal("0.400"))]
    kept = list(DistrictPolicySettings.objects.values_list("pk", "tax_retained_share"))
    assert kept == [(1, Decimal("0.450"))]


@pytest.mark.parametrize("role", ["street_officer", "promoter", "building_manager", "auditor"])
def test_no_role_but_the_office_opens_or_posts_the_policy_settings(client, role, settings_row):
    # given a staff login of the role (the probe of issue #21: all four were 200 on the add page)
    users = _build_district()
    client.force_login(users[role])
    settings_url = _url(DistrictPolicySettings, "change", 1)

    # when it opens the add page and posts a retained share of 100 % to the row
    add = client.get(_url(DistrictPolicySettings, "add"))
    post = client.post(settings_url, {"tax_retained_share": "1.000"})

    # then both are forbidden and the share stays 40 %
    assert (add.status_code, post.status_code) == (403, 403)
    assert DistrictPolicySettings.objects.get(pk=1).tax_retained_share == Decimal("0.400")


def test_the_office_changes_the_retained_share_and_has_no_add_page(client, settings_row):
    # given the district admin
    users = _build_district()
    client.force_login(users["district_admin"])

    # when it opens the add page, then saves a share of 45 % on the row
    add = client.get(_url(DistrictPolicySettings, "add"))
    saved = client.post(_url(DistrictPolicySettings, "change", 1), {"tax_retained_share": "0.450"})

    # then the add page is refused (the row exists), the change is saved and audited
    assert add.status_code == 403
    assert saved.status_code == 302
    row = DistrictPolicySettings.objects.get(pk=1)
    assert row.tax_retained_share == Decimal("0.450")
    assert row.history.latest().history_user_id == users["district_admin"].pk


def test_history_of_a_row_out_of_scope_answers_like_a_missing_one(client):
    # given an officer of 北海街道, 南门广场 in another street, and a promoter with another's lead
    users = _build_district()
    plaza, tower = Building.objects.get(name="南门广场"), Building.objects.get(name="北海大厦")
    others_lead = Lead.objects.get(company_name="乙数据有限公司")  # 李强's; the promoter is 王敏

    # when each opens the history of a row out of scope, of a missing row, and of their own
    client.force_login(users["street_officer"])
    officer = [client.get(_url(Building, "history", pk)).status_code for pk in (plaza.pk, MISSING, tower.pk)]
    client.force_login(users["promoter"])
    promoter = [client.get(_url(Lead, "history", pk)).status_code for pk in (others_lead.pk, MISSING)]

    # then out of scope and missing are the same 404; their own opens
    assert officer == [404, 404, 200]
    assert promoter == [404, 404]

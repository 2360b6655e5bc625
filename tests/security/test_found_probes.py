"""Issue 21's "Found" probes repeated as an attacker sent them: no leak, no 500, no write.

Each item has its own thorough test elsewhere (named in its comment); these send the issue's own
requests against the pages' small district, so that the issue's "done when" is checked as written.
"""

import pytest
from django.urls import reverse

from crm.models import Agency, Building
from policies.models import DistrictPolicySettings
from tests.security.probe import attempt

pytestmark = pytest.mark.django_db

STAFF_ROLES = ("street_officer", "promoter", "building_manager", "auditor")


def _staff(district, role):
    user = district.users[role]
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return district.client(role)


def _rows(response) -> int | None:
    context = getattr(response, "context", None)
    return context["cl"].result_count if context and "cl" in context else None


@pytest.mark.parametrize("role", ["auditor", "street_officer"])
def test_1_an_admin_lookup_on_a_masked_contact_answers_alike_for_a_right_and_a_wrong_guess(district, role):
    # (tests/security/test_admin_lookups.py walks every model, role and field)
    client = _staff(district, role)
    lead = district.lead  # contact 王五, 13812345678
    Agency.objects.filter(pk=district.agency.pk).update(contact_phone="13900001111")
    guesses = [
        (f"/admin/crm/lead/?id={lead.pk}&contact_phone__startswith=", "1381", "9"),
        (f"/admin/crm/lead/?id={lead.pk}&contact_name__regex=", "^王", "^李"),
        ("/admin/crm/agency/?contact_phone__startswith=", "1", "9"),
    ]
    for url, right, wrong in guesses:
        hit, miss = (
            attempt(url + right, lambda u=url + right: client.get(u)),
            attempt(url, lambda u=url + wrong: client.get(u)),
        )
        assert hit.raised is None and hit.response.status_code != 500, url
        assert (hit.response.status_code, _rows(hit.response)) == (
            miss.response.status_code,
            _rows(miss.response),
        )
        assert hit.changed == [], url


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_2_no_staff_login_but_the_office_may_set_the_tax_retained_share(district, role):
    # (tests/security/test_admin_permissions.py: every add/change page for every role)
    client = _staff(district, role)
    url = "/admin/policies/districtpolicysettings/add/"
    assert client.get(url).status_code == 403
    posted = attempt(role, lambda: client.post(url, {"tax_retained_share": "1.000"}))
    assert posted.response.status_code == 403
    assert posted.changed == []
    settings_row, _ = DistrictPolicySettings.objects.get_or_create()  # migration 0002's row, if flushed
    change = attempt(
        role,
        lambda: client.post(
            f"/admin/policies/districtpolicysettings/{settings_row.pk}/change/",
            {"tax_retained_share": "1.000"},
        ),
    )
    assert change.response.status_code == 403
    assert change.changed == []


@pytest.mark.parametrize(
    ("where", "send"),
    [
        (
            "page",
            lambda d, c: c.post(
                reverse("web:activity_add", args=[d.lead.pk]),
                {"kind": "call", "occurred_at": "0001-01-01T00:00"},
            ),
        ),
        (
            "api",
            lambda d, c: c.post(
                f"/api/v1/leads/{d.lead.pk}/activities/",
                {"kind": "call", "occurred_at": "0001-01-01T00:00:00+00:00"},
                content_type="application/json",
            ),
        ),
    ],
)
def test_5_an_activity_in_year_one_is_refused_and_the_lead_still_renders(district, where, send):
    # (tests/security/test_page_bad_input.py, test_api_bad_input.py; tests/crm/test_date_bounds.py)
    client = district.client("promoter")
    sent = attempt(where, lambda: send(district, client))
    assert sent.raised is None
    assert sent.response.status_code in (200, 400)  # the page shows its form again with the error
    assert "1900" in sent.response.content.decode()
    assert sent.changed == []
    for role in ("promoter", "district_admin", "auditor"):
        assert district.client(role).get(reverse("web:lead", args=[district.lead.pk])).status_code == 200


def test_6_a_street_officer_cannot_move_a_building_to_another_street(district):
    # (tests/security/test_admin_choices.py: every foreign key of every admin form)
    client = _staff(district, "street_officer")
    building = district.building
    url = f"/admin/crm/building/{building.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data["street"] = district.other_street.pk
    posted = attempt("move", lambda: client.post(url, data))
    assert posted.raised is None and posted.response.status_code != 500
    assert Building.objects.get(pk=building.pk).street_id == district.street.pk


@pytest.mark.parametrize(
    ("role", "method", "url", "data"),
    [
        ("promoter", "get", "/policies/what-if/?lead=abc", None),
        ("district_admin", "get", "/assessment/?year=²", None),
        ("promoter", "get", "/leads/{lead}/units/?building=abc", None),
        ("district_admin", "get", "/appraisal/?period=0000", None),
        ("district_admin", "post", "/white-papers/", {"year": "²"}),
        ("district_admin", "post", "/white-papers/", {"year": "99999999999"}),
        ("district_admin", "post", "/white-papers/", {"year": "0"}),
        ("district_admin", "post", "/plan/what-if/", {"lead_0": "²"}),
        ("promoter", "post", "/leads/{lead}/tour/", {"units": "²"}),
    ],
)
def test_7_a_malformed_value_is_a_400_and_writes_nothing(district, role, method, url, data):
    # (tests/security/test_page_bad_input.py sends a hostile value to every parameter of every page)
    client = district.client(role)
    url = url.format(lead=district.lead.pk)
    # as htmx sends it, and as a bookmark or a new tab does (a fragment then redirects to its page)
    for headers in ({"HTTP_HX_REQUEST": "true"}, {}):
        sent = attempt(url, lambda h=headers: getattr(client, method)(url, data or {}, follow=True, **h))
        assert sent.raised is None, url
        # the page a fragment redirects to ignores the fragment's malformed value (200), never a 500
        assert sent.response.status_code in ((400,) if headers else (200, 400)), (url, headers)
        assert sent.changed == [], url


def test_7_admin_history_answers_alike_for_a_row_out_of_scope_and_a_missing_one(district):
    # (tests/security/test_admin_permissions.py)
    client = _staff(district, "street_officer")
    out_of_scope = client.get(f"/admin/crm/building/{district.other_building.pk}/history/")
    missing = client.get("/admin/crm/building/999999/history/")
    assert out_of_scope.status_code == missing.status_code


@pytest.mark.parametrize(
    ("where", "send"),
    [
        (
            "api",
            lambda c: c.post(
                "/api/v1/leads/",
                {"company_name": "渠道测试有限公司", "channel": "agency"},
                content_type="application/json",
            ),
        ),
        (
            "page",
            lambda c: c.post(
                reverse("web:lead_add"), {"company_name": "渠道测试有限公司", "channel": "agency"}
            ),
        ),
    ],
)
def test_7_a_promoter_cannot_file_a_lead_under_the_agency_channel_without_an_agency(district, where, send):
    # (tests/crm/test_leads.py: the agency channel needs an agency)
    client = district.client("promoter")  # signed in first: a login writes its own rows
    sent = attempt(where, lambda: send(client))
    assert sent.raised is None
    assert sent.response.status_code in (200, 400)  # the page shows its form again with the error
    assert sent.changed == []

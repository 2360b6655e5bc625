"""Each role lands on its own home page and reaches only what its scope allows, as the API does."""

import pytest
from django.urls import reverse

from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    # when
    response = client.get(reverse("web:desk"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("promoter", "/desk/"),
        ("district_admin", "/plan/"),
        ("auditor", "/plan/"),
        ("street_officer", "/plan/"),
        ("agency", "/leads/"),
    ],
)
def test_home_depends_on_the_role(district, role, home):
    # when
    response = district.client(role).get("/")

    # then
    assert response.status_code == 302
    assert response["Location"] == home


def test_building_manager_lands_on_their_building(district):
    # when
    response = district.client("building_manager").get("/")

    # then
    assert response["Location"] == reverse("web:building", args=[district.building.pk])


def test_login_page_signs_a_user_in_and_sends_them_home(client, district):
    # when
    response = client.post(reverse("web:login"), {"username": "promoter", "password": "pass-word-123"})

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")


def test_password_change_takes_the_old_password_and_a_new_one(district):
    # given
    client = district.client("promoter")

    # when
    response = client.post(
        reverse("web:password_change"),
        {"old_password": "pass-word-123", "new_password1": "lou-yu-2026-x", "new_password2": "lou-yu-2026-x"},
    )

    # then
    assert response.status_code == 302
    district.users["promoter"].refresh_from_db()
    assert district.users["promoter"].check_password("lou-yu-2026-x")


def test_logout_is_a_post_that_ends_the_session(district):
    # given
    client = district.client("promoter")

    # when
    client.post(reverse("web:logout"))

    # then
    assert client.get(reverse("web:desk")).status_code == 302


def test_a_promoter_does_not_find_another_promoters_lead(district):
    # given
    foreign = LeadFactory(owner=district.other_promoter)

    # when
    response = district.client("promoter").get(reverse("web:lead", args=[foreign.pk]))

    # then: not found, so the page does not even say it exists
    assert response.status_code == 404


def test_a_building_manager_does_not_find_another_building(district):
    # when
    response = district.client("building_manager").get(
        reverse("web:building", args=[district.other_building.pk])
    )

    # then
    assert response.status_code == 404


def test_the_building_list_of_a_street_officer_holds_their_street_only(district):
    # when
    response = district.client("street_officer").get(reverse("web:buildings"))

    # then
    assert [b.code for b in response.context["rows"]] == ["A001"]


@pytest.mark.parametrize("role", ["promoter", "building_manager", "agency"])
def test_the_plan_dashboard_is_for_the_office_the_auditor_and_street_officers(district, role):
    # when
    response = district.client(role).get(reverse("web:dashboard"))

    # then
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["promoter", "auditor", "street_officer"])
def test_only_a_district_admin_opens_the_import_page(district, role):
    # when
    response = district.client(role).get(reverse("web:import"))

    # then
    assert response.status_code == 403


def test_the_auditor_reads_a_lead_with_its_contact_masked(district):
    # when
    response = district.client("auditor").get(reverse("web:lead", args=[district.lead.pk]))

    # then: 138****5678 and 王*, never the number itself
    body = response.content.decode()
    assert "138****5678" in body
    assert "13812345678" not in body
    assert "王*" in body


def test_the_owner_reads_the_contact_in_full(district):
    # when
    response = district.client("promoter").get(reverse("web:lead", args=[district.lead.pk]))

    # then
    assert "13812345678" in response.content.decode()


def test_the_auditor_reads_leads_but_may_not_change_them(district):
    # when
    response = district.client("auditor").post(
        reverse("web:stage_change", args=[district.lead.pk]), {"to_stage": "contacted"}
    )

    # then
    assert response.status_code == 403
    district.lead.refresh_from_db()
    assert district.lead.stage == "new"


def test_the_navigation_offers_a_promoter_only_their_pages(district):
    # when
    body = district.client("promoter").get(reverse("web:desk")).content.decode()

    # then
    assert reverse("web:board") in body
    assert reverse("web:dashboard") not in body
    assert reverse("web:import") not in body

"""Personal information through the API: an agency's lawful basis, and every unmasked read recorded."""

import pytest

from crm.models import ContactAccess, Lead
from tests.api.conftest import api_client
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_an_agency_lead_without_a_lawful_basis_is_a_400_on_that_field(world):
    # when
    response = api_client(world, "agency").post(
        "/api/v1/leads/", {"company_name": "庚有限公司", "contact_name": "王芳"}, format="json"
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["lawful_basis"]
    assert not Lead.objects.filter(company_name="庚有限公司").exists()


def test_an_unknown_lawful_basis_is_a_400(world):
    response = api_client(world, "agency").post(
        "/api/v1/leads/", {"company_name": "庚有限公司", "lawful_basis": "because"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["lawful_basis"]


def test_the_lawful_basis_is_kept_and_shown_with_its_time(world):
    # when
    response = api_client(world, "agency").post(
        "/api/v1/leads/",
        {"company_name": "辛有限公司", "contact_name": "王芳", "lawful_basis": "consent"},
        format="json",
    )
    # then
    assert response.status_code == 201
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert (body["lawful_basis"], lead.lawful_basis) == ("consent", "consent")
    assert body["lawful_basis_recorded_at"] is not None
    # and the submitter's own answer is not a record of anyone reading it
    assert not ContactAccess.objects.exists()


def test_the_basis_time_is_the_servers(world):
    response = api_client(world, "agency").post(
        "/api/v1/leads/",
        {
            "company_name": "辛有限公司",
            "lawful_basis": "consent",
            "lawful_basis_recorded_at": "2020-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["lawful_basis_recorded_at"]


def test_a_promoter_may_register_a_lead_without_a_basis(world):
    response = api_client(world, "promoter").post(
        "/api/v1/leads/", {"company_name": "壬有限公司", "channel": "department"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["lawful_basis"] == ""


def test_reading_a_lead_unmasked_is_recorded(world):
    # when the agency reads its own lead (which has a phone)
    response = api_client(world, "agency").get(f"/api/v1/leads/{world.agency_lead.pk}/")
    # then
    assert response.status_code == 200
    assert response.json()["contact_phone"] == "13900001111"
    rows = list(ContactAccess.objects.values_list("user_id", "how", "lead_id"))
    assert rows == [(world.users["agency"].pk, "api-detail", world.agency_lead.pk)]


def test_reading_a_lead_masked_is_not_recorded(world):
    # when the auditor reads the promoter's lead, masked
    response = api_client(world, "auditor").get(f"/api/v1/leads/{world.lead.pk}/")
    # then
    assert response.status_code == 200
    assert response.json()["contact_phone"] == "138****1234"
    assert not ContactAccess.objects.exists()


def test_a_list_records_the_leads_of_its_page_that_have_a_contact(world):
    # given the promoter's lead with a contact (张三) and two more: one with a phone, one without
    with_phone = LeadFactory(owner=world.promoter, contact_phone="13600002222")
    LeadFactory(owner=world.promoter)
    # when
    response = api_client(world, "promoter").get("/api/v1/leads/?page_size=50")
    # then the page holds the three; the two with a contact are recorded
    assert response.json()["count"] == 3
    rows = set(ContactAccess.objects.values_list("user_id", "how", "lead_id"))
    user = world.users["promoter"].pk
    assert rows == {(user, "api-list", world.lead.pk), (user, "api-list", with_phone.pk)}


def test_a_masked_list_records_nothing(world):
    response = api_client(world, "street_officer").get("/api/v1/leads/")
    assert response.status_code == 200
    assert not ContactAccess.objects.exists()


def test_a_stage_change_answer_with_the_contact_is_recorded(world):
    # when the promoter moves its lead on (the answer carries the contact)
    response = api_client(world, "promoter").post(
        f"/api/v1/leads/{world.lead.pk}/transition/", {"stage": "contacted"}, format="json"
    )
    # then
    assert response.status_code == 200
    assert list(ContactAccess.objects.values_list("how", "lead_id")) == [("api-detail", world.lead.pk)]

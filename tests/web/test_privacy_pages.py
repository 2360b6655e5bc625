"""Personal information on the pages: unmasked views and exports recorded, the lawful basis on quick add."""

import pytest
from django.urls import reverse

from crm.models import ContactAccess, Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_the_owner_opening_a_lead_is_recorded(district):
    # when
    response = district.client("promoter").get(reverse("web:lead", args=[district.lead.pk]))
    # then it showed the contact, and that is recorded
    assert "13812345678" in response.content.decode()
    rows = list(ContactAccess.objects.values_list("user_id", "how", "lead_id"))
    assert rows == [(district.users["promoter"].pk, "web-detail", district.lead.pk)]


def test_a_street_officer_reading_a_lead_masked_is_not_recorded(district):
    # given the lead wants the officer's street
    district.lead.preferred_streets.set([district.street])
    # when
    response = district.client("street_officer").get(reverse("web:lead", args=[district.lead.pk]))
    # then
    assert response.status_code == 200
    assert "138****5678" in response.content.decode()
    assert not ContactAccess.objects.exists()


def test_the_list_page_shows_no_contact_and_records_nothing_but_its_export_does(district):
    # given a second lead of the promoter, without a contact
    LeadFactory(owner=district.promoter)
    client = district.client("promoter")
    # when the list is viewed
    page = client.get(reverse("web:leads"))
    # then nothing personal is shown, nothing recorded
    assert "13812345678" not in page.content.decode()
    assert not ContactAccess.objects.exists()
    # when it is exported
    export = client.get(reverse("web:leads") + "?export=csv")
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    # then the file holds the contact, and the one lead with a contact is recorded as exported
    assert "13812345678" in body
    rows = list(ContactAccess.objects.values_list("how", "lead_id"))
    assert rows == [("web-export", district.lead.pk)]


def test_quick_add_keeps_the_lawful_basis(district):
    # when
    response = district.client("promoter").post(
        reverse("web:lead_add"),
        {
            "company_name": "隐私测试有限公司",
            "channel": "department",
            "contact_name": "周七",
            "lawful_basis": "contract",
        },
    )
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    lead = Lead.objects.get(company_name="隐私测试有限公司")
    assert (lead.contact_name, lead.lawful_basis) == ("周七", "contract")
    assert lead.lawful_basis_recorded_at is not None

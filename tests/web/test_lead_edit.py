"""Editing a lead on its page: the worker's fields, the version check the API has, scope per role."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.constants import LawfulBasis
from crm.models import Lead
from crm.services.leads import lead_update
from tests.factories import LeadFactory, make_credit_code
from tests.web.conftest import division

pytestmark = pytest.mark.django_db


def _posted(lead: Lead, **changes) -> dict:
    """The edit form as the page fills it for `lead`, with `changes` typed over it."""
    data = {
        "version": lead.version,
        "company_name": lead.company_name,
        "credit_code": lead.credit_code,
        "business_scope": lead.business_scope,
        "industry": lead.industry_id or "",
        "channel": lead.channel,
        "referred_by": "",
        "contact_name": lead.contact_name,
        "contact_phone": lead.contact_phone,
        "lawful_basis": lead.lawful_basis,
        "area_min_m2": lead.area_min_m2 or "",
        "area_max_m2": lead.area_max_m2 or "",
        "budget_rent": lead.budget_rent or "",
        "expected_annual_tax": lead.expected_annual_tax or "",
        "employees": lead.employees or "",
        "desired_move_in": "",
        "registers_in_district": "on",
        "settles_in_district": "on",
        "pays_tax_in_district": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _without_industry(district) -> Lead:
    lead = district.lead
    Lead.objects.filter(pk=lead.pk).update(
        industry=None, lawful_basis=LawfulBasis.CONSENT, lawful_basis_recorded_at=lead.created_at
    )
    lead.refresh_from_db()
    return lead


def test_the_edit_page_shows_the_leads_facts_at_its_version(district):
    # when
    response = district.client("promoter").get(reverse("web:lead_edit", args=[district.lead.pk]))

    # then
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["version"] == 1
    assert form.initial["company_name"] == "意向软件有限公司"
    assert form.initial["area_max_m2"] == Decimal("250")


def test_a_promoter_fixes_the_missing_industry_and_the_lead_is_matched(district):
    # given: a lead saved without its industry cannot be ranked
    lead = _without_industry(district)
    client = district.client("promoter")
    before = client.get(reverse("web:lead_matches", args=[lead.pk]), HTTP_HX_REQUEST="true")
    assert "problem" in before.context
    assert reverse("web:lead_edit", args=[lead.pk]) in before.content.decode()

    # when
    response = client.post(reverse("web:lead_edit", args=[lead.pk]), _posted(lead, industry="65"))

    # then: saved one version on, and 甲大厦 ranks for it
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.industry_id == "65"
    assert lead.version == 2
    after = client.get(reverse("web:lead_matches", args=[lead.pk]), HTTP_HX_REQUEST="true")
    assert "甲大厦" in [item["result"]["building_name"] for item in after.context["results"]]


def test_an_edit_is_audited_in_the_leads_history(district):
    # when
    district.client("promoter").post(
        reverse("web:lead_edit", args=[district.lead.pk]),
        _posted(district.lead, lawful_basis=LawfulBasis.CONSENT, expected_annual_tax="800000"),
    )

    # then
    latest = district.lead.history.latest()
    assert latest.expected_annual_tax == Decimal("800000")
    assert latest.history_user == district.users["promoter"]


def test_a_stale_edit_is_refused_and_shows_the_current_values(district):
    # given: the office changed the expected tax after the promoter opened the form at version 1
    lead = district.lead
    lead_update(lead=lead, expected_version=1, expected_annual_tax=Decimal("900000"))

    # when
    response = district.client("promoter").post(
        reverse("web:lead_edit", args=[lead.pk]),
        _posted(lead, version=1, lawful_basis=LawfulBasis.CONSENT, expected_annual_tax="700000"),
    )

    # then: nothing written; the current 900,000 beside the 700,000 typed, the form now at version 2
    assert response.status_code == 409
    lead.refresh_from_db()
    assert lead.expected_annual_tax == Decimal("900000")
    assert lead.version == 2
    body = response.content.decode()
    assert "已被他人修改" in body
    row = next(r for r in response.context["conflict"] if r["label"] == "预计年纳税(元)")
    assert (row["current"], row["yours"]) == ("900000.00", "700000")
    assert response.context["form"]["version"].value() == "2"


def test_a_contact_without_its_lawful_basis_is_refused_beside_the_field(district):
    # when: the fixture's lead has a contact and no basis recorded
    response = district.client("promoter").post(
        reverse("web:lead_edit", args=[district.lead.pk]), _posted(district.lead, contact_name="赵六")
    )

    # then
    assert response.status_code == 400
    assert response.context["form"].errors["lawful_basis"]
    district.lead.refresh_from_db()
    assert district.lead.contact_name == "王五"


def test_a_service_refusal_stands_beside_its_field(district):
    # when: the smallest area above the largest
    response = district.client("promoter").post(
        reverse("web:lead_edit", args=[district.lead.pk]),
        _posted(district.lead, lawful_basis=LawfulBasis.CONSENT, area_min_m2="400"),
    )

    # then
    assert response.status_code == 400
    assert "250" in " ".join(response.context["form"].errors["area_max_m2"])


def test_another_company_already_held_is_refused_on_the_name(district):
    # given: another promoter's open lead holds 竞争软件有限公司
    LeadFactory(
        company_name="竞争软件有限公司", owner=district.other_promoter, credit_code=make_credit_code(5)
    )

    # when
    response = district.client("promoter").post(
        reverse("web:lead_edit", args=[district.lead.pk]),
        _posted(district.lead, lawful_basis=LawfulBasis.CONSENT, company_name="竞争软件有限公司"),
    )

    # then
    assert response.status_code == 400
    assert "李招商" in " ".join(response.context["form"].errors["company_name"])


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("district_admin", 200),
        ("other_promoter", 404),  # not their lead: as if it did not exist
        ("street_officer", 403),  # reads the street's leads, works none
        ("auditor", 403),
        ("building_manager", 403),
        ("agency", 403),
    ],
)
def test_who_may_open_the_edit_page(district, role, status):
    # when
    response = district.client(role).get(reverse("web:lead_edit", args=[district.lead.pk]))

    # then
    assert response.status_code == status


def test_a_refused_role_cannot_post_an_edit(district):
    # when
    response = district.client("street_officer").post(
        reverse("web:lead_edit", args=[district.lead.pk]), _posted(district.lead, industry="")
    )

    # then
    assert response.status_code == 403
    district.lead.refresh_from_db()
    assert district.lead.industry_id == "65"


def test_the_lead_page_links_its_edit_only_for_who_works_it(district):
    # given
    url = reverse("web:lead", args=[district.lead.pk])
    edit = reverse("web:lead_edit", args=[district.lead.pk])

    # when
    mine = district.client("promoter").get(url).content.decode()
    officers = district.client("street_officer").get(url).content.decode()

    # then
    assert edit in mine
    assert edit not in officers


def test_without_an_industry_the_page_suggests_one_from_the_business_scope(district, monkeypatch):
    # given: a lead with a business scope and no industry, and a classifier's answer for it
    lead = _without_industry(district)
    Lead.objects.filter(pk=lead.pk).update(business_scope="软件开发;信息技术咨询服务")
    division("65")
    from crm.web import lead_edit
    from matching.industry_suggest import Suggestion

    seen = []

    def suggest(text):
        seen.append(text)
        return [Suggestion(code="65", name="软件和信息技术服务业", probability=0.9)]

    monkeypatch.setattr(lead_edit, "suggest_industry", suggest)

    # when
    response = district.client("promoter").get(reverse("web:lead_edit", args=[lead.pk]))

    # then: the stored scope is read, and its best division offered as a button that fills the field
    assert seen == ["软件开发;信息技术咨询服务"]
    body = response.content.decode()
    assert 'data-industry="65"' in body
    assert "90%" in body

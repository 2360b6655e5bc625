"""The pages' match fragments show each role exactly what the API answers it on the same objects
(issue 21, item 3): the same buildings, the same leads by name, the same reasons, nothing more."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from crm.constants import LeadChannel, LeadStage
from crm.models import Building, Lead
from tests.factories import LeadFactory
from tests.web.conftest import division

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(district):
    """Beside the promoter's lead (street 甲): one from the agency and one of the other street's."""
    software = division("65")
    agency_lead = LeadFactory(
        ref="LW-0002",
        company_name="中介推荐科技有限公司",
        owner=None,
        agency=district.agency,
        channel=LeadChannel.AGENCY,
        industry=software,
        stage=LeadStage.NEW,
        area_min_m2=Decimal("150"),
        area_max_m2=Decimal("250"),
        expected_annual_tax=Decimal("8000000"),
    )
    other_lead = LeadFactory(
        ref="LW-0003",
        company_name="乙街意向有限公司",
        owner=district.other_promoter,
        industry=software,
        stage=LeadStage.NEW,
        area_min_m2=Decimal("150"),
        area_max_m2=Decimal("250"),
        expected_annual_tax=Decimal("300000"),
    )
    other_lead.preferred_streets.set([district.other_street])
    return {"own": district.lead, "agency": agency_lead, "other": other_lead}


def _reason_texts(body: dict) -> set[str]:
    return {reason["text"] for r in body["results"] for reason in r["reasons"]}


def _tbody(page: str) -> str:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


# Who reads which lead's ranking on the lead page (crm.web.leads.LEAD_READERS), on a lead they may see.
LEAD_MATCH_CASES = [
    ("district_admin", "own"),
    ("district_admin", "agency"),
    ("auditor", "own"),
    ("street_officer", "own"),
    ("promoter", "own"),
    ("agency", "agency"),
]


def test_a_leads_matches_fragment_shows_each_role_what_its_api_answer_does(district, leads):
    # given every answer first, so that each reason any role is given can be looked for in every page
    answers, pages = {}, {}
    for role, which in LEAD_MATCH_CASES:
        client, lead = district.client(role), leads[which]
        api = client.get(f"/api/v1/leads/{lead.pk}/matches/?limit=10")
        page = client.get(reverse("web:lead_matches", args=[lead.pk]), HTTP_HX_REQUEST="true")
        assert api.status_code == page.status_code == 200, (role, which)
        answers[role, which], pages[role, which] = api.json(), page.content.decode()
    names = dict(Building.objects.values_list("pk", "name"))

    for case in LEAD_MATCH_CASES:
        # when
        body, page = answers[case], pages[case]
        # then the same buildings in the same order, and no other building named at all
        shown = [int(pk) for pk in re.findall(r'<h3 id="match-(\d+)"', page)]
        assert shown == [r["building_id"] for r in body["results"]], case
        for pk, name in names.items():
            assert (name in page) == (pk in shown), (case, name)
        # and each reason given to anyone appears in this page exactly when this role's answer has it
        own_texts = _reason_texts(body)
        for text in set().union(*map(_reason_texts, answers.values())):
            assert (escape(text) in page) == (text in own_texts), (case, text)

    # The comparison has teeth: the office reads a reason quoting tax that the agency is not given,
    # and the street officer is given fewer buildings than the office.
    office_texts = _reason_texts(answers["district_admin", "agency"])
    assert any("每平方米税收" in text for text in office_texts)
    assert not any("每平方米税收" in text for text in _reason_texts(answers["agency", "agency"]))
    assert [r["building_name"] for r in answers["street_officer", "own"]["results"]] == ["甲大厦"]
    assert len(answers["district_admin", "own"]["results"]) == 2


# Who reads a building's leads (crm.api.permissions.BUILDING_MATCH_READERS).
BUILDING_LEAD_ROLES = ["district_admin", "auditor", "street_officer", "building_manager"]


def test_a_buildings_leads_fragment_shows_each_role_what_its_api_answer_does(district, leads):
    # given
    answers, pages = {}, {}
    for role in BUILDING_LEAD_ROLES:
        client = district.client(role)
        api = client.get(f"/api/v1/buildings/{district.building.pk}/lead-matches/?limit=10")
        page = client.get(reverse("web:building_leads", args=[district.building.pk]), HTTP_HX_REQUEST="true")
        assert api.status_code == page.status_code == 200, role
        answers[role], pages[role] = api.json(), page.content.decode()
    everyone = list(Lead.objects.values_list("company_name", "ref"))

    for role in BUILDING_LEAD_ROLES:
        # when
        body, page = answers[role], pages[role]
        named = {r["lead"]["company_name"] for r in body["results"] if r["lead"]}
        # then one row per result, each lead named exactly when the API names it, by name and by ref
        assert _tbody(page).count("<tr>") == len(body["results"]), role
        for name, ref in everyone:
            assert (name in page) == (name in named), (role, name)
            assert (ref in page) == (name in named), (role, ref)
        own_texts = _reason_texts(body)
        for text in set().union(*map(_reason_texts, answers.values())):
            assert (escape(text) in page) == (text in own_texts), (role, text)

    # The manager is given the demand, anonymously and without the leads' expected tax per m²; the
    # street's officer names its own street's leads only.
    manager = answers["building_manager"]["results"]
    assert len(manager) == 3 and all(r["lead"] is None for r in manager)
    assert not any("每平方米税收" in text for text in _reason_texts(answers["building_manager"]))
    assert "每平方米税收" not in pages["building_manager"]
    officer_named = {r["lead"]["company_name"] for r in answers["street_officer"]["results"] if r["lead"]}
    assert officer_named == {"意向软件有限公司"}

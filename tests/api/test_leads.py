"""Leads through the API: the agency's referral claim, optimistic concurrency, masking, the workflow."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.constants import LeadChannel, LeadStage, UnitStatus
from crm.models import Lead, Signing, StageChange, Unit
from tests.api.conftest import api_client, industry
from tests.factories import LeadFactory, make_credit_code

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------- the agency's claim


def test_an_agency_lead_gets_channel_and_agency_from_the_server(world):
    # when
    response = api_client(world, "agency").post(
        "/api/v1/leads/",
        {
            "company_name": "戊智能科技有限公司",
            "contact_phone": "13700001234",
            "lawful_basis": "consent",
            "preferred_streets": ["府山街道"],
        },
        format="json",
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["channel"], body["agency"], body["owner"], body["stage"]) == (
        "agency",
        "越城中介",
        None,
        "new",
    )
    assert body["preferred_streets"] == ["府山街道"]
    assert response["Location"] == f"/api/v1/leads/{body['id']}/"
    assert response["ETag"] == '"1"'
    assert Lead.objects.get(pk=body["id"]).agency == world.agency


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("owner", "promoter"),
        ("agency", "绍兴商会"),
        ("stage", "signed"),
        ("channel", "department"),
        ("ref", "X1"),
    ],
)
def test_an_agency_may_not_set_server_fields(world, field, value):
    # when
    response = api_client(world, "agency").post(
        "/api/v1/leads/", {"company_name": "己有限公司", field: value}, format="json"
    )
    # then the field is refused by name, and nothing is written
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Lead.objects.filter(company_name="己有限公司").exists()


def test_an_unknown_field_is_refused_not_ignored(world):
    # when
    response = api_client(world, "promoter").post(
        "/api/v1/leads/",
        {"company_name": "庚有限公司", "channel": "department", "colour": "red"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"colour": ["未知字段"]}


def test_a_company_already_an_open_lead_is_a_409_with_the_date_and_no_holder(world):
    # given the promoter's lead for 甲科技有限公司, registered three days ago
    registered = timezone.localtime(world.lead.created_at).date()
    # when an agency claims the same company, written with a space in it
    response = api_client(world, "agency").post(
        "/api/v1/leads/", {"company_name": " 甲科技 有限公司", "lawful_basis": "consent"}, format="json"
    )
    # then
    assert response.status_code == 409
    body = response.json()
    assert body["registered_on"] == registered.isoformat()
    assert registered.isoformat() in body["detail"]
    assert world.promoter.name not in body["detail"] and world.lead.ref not in body["detail"]


def test_a_company_claimed_by_credit_code_under_another_name_is_a_409(world):
    # given the other agency's lead with a credit code
    code = make_credit_code(4242)
    Lead.objects.filter(pk=world.other_agency_lead.pk).update(credit_code=code)
    # when the agency claims the same code under another name
    response = api_client(world, "agency").post(
        "/api/v1/leads/",
        {"company_name": "完全不同的名称有限公司", "credit_code": code, "lawful_basis": "consent"},
        format="json",
    )
    # then the first claimant keeps it
    assert response.status_code == 409
    assert Lead.objects.filter(credit_code=code).count() == 1
    assert Lead.objects.get(credit_code=code).agency == world.other_agency


def test_a_company_whose_lead_was_lost_can_be_claimed_again(world):
    # given the promoter's lead was lost
    Lead.objects.filter(pk=world.lead.pk).update(stage=LeadStage.LOST, lost_reason="预算不足")
    # when
    response = api_client(world, "agency").post(
        "/api/v1/leads/", {"company_name": "甲科技有限公司", "lawful_basis": "consent"}, format="json"
    )
    # then
    assert response.status_code == 201


def test_the_agency_sees_its_own_lead_and_its_stage(world):
    # given the office moved the agency's lead on
    Lead.objects.filter(pk=world.agency_lead.pk).update(stage=LeadStage.CONTACTED)
    # when
    response = api_client(world, "agency").get(f"/api/v1/leads/{world.agency_lead.pk}/")
    # then
    assert response.status_code == 200
    assert response.json()["stage"] == "contacted"


def test_agency_a_cannot_read_agency_b_lead(world):
    # when
    response = api_client(world, "agency").get(f"/api/v1/leads/{world.other_agency_lead.pk}/")
    # then: not found, exactly as for a lead that does not exist
    missing = api_client(world, "agency").get("/api/v1/leads/999999/")
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()


def test_agency_a_cannot_update_agency_b_lead(world):
    # when
    response = api_client(world, "agency").patch(
        f"/api/v1/leads/{world.other_agency_lead.pk}/", {"budget_rent": "1.00", "version": 1}, format="json"
    )
    # then
    assert response.status_code == 404
    world.other_agency_lead.refresh_from_db()
    assert world.other_agency_lead.budget_rent == Decimal("3.00")


def test_a_promoter_creates_a_lead_owned_by_them(world):
    # when
    response = api_client(world, "promoter").post(
        "/api/v1/leads/",
        # (a company the world does not have yet: no company is twice in the open pipeline)
        {
            "company_name": "新登记科技有限公司",
            "channel": "tenant_referral",
            "industry": "65",
            "area_min_m2": "100",
        },
        format="json",
    )
    # then
    assert response.status_code == 201
    assert (response.json()["owner"], response.json()["channel"]) == ("promoter", "tenant_referral")


def test_a_promoter_names_the_referring_tenant_by_its_credit_code(world):
    # when a promoter registers a company that 府山软件 (a tenant of 金融大厦) referred
    response = api_client(world, "promoter").post(
        "/api/v1/leads/",
        {
            "company_name": "辛有限公司",
            "channel": "tenant_referral",
            "referred_by": world.enterprise.credit_code,
        },
        format="json",
    )
    # then the lead names its referrer, in the answer and in the database
    assert response.status_code == 201
    body = response.json()
    assert (body["referred_by"], body["referred_by_name"]) == (
        world.enterprise.credit_code,
        "府山软件有限公司",
    )
    assert Lead.objects.get(pk=body["id"]).referred_by == world.enterprise


@pytest.mark.parametrize(
    ("channel", "code", "says"),
    [
        ("department", "own", "只有以商招商渠道的线索有推荐企业"),
        ("tenant_referral", "91330600000000999X", "没有统一社会信用代码为"),
    ],
)
def test_a_referrer_on_another_channel_or_unknown_is_a_400_that_writes_nothing(world, channel, code, says):
    # given
    before = Lead.objects.count()
    referrer = world.enterprise.credit_code if code == "own" else code
    # when
    response = api_client(world, "promoter").post(
        "/api/v1/leads/",
        {"company_name": "癸有限公司", "channel": channel, "referred_by": referrer},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["referred_by"]
    assert says in response.json()["referred_by"][0]
    assert Lead.objects.count() == before


def test_the_office_sets_the_referrer_on_an_existing_lead(world):
    # given the promoter's lead, moved to the tenant-referral channel with its referrer in one change
    lead = world.lead
    # when
    response = api_client(world, "district_admin").patch(
        f"/api/v1/leads/{lead.pk}/",
        {"channel": "tenant_referral", "referred_by": world.enterprise.credit_code},
        format="json",
        HTTP_IF_MATCH=f'"{lead.version}"',
    )
    # then
    assert response.status_code == 200, response.json()
    assert response.json()["referred_by"] == world.enterprise.credit_code
    lead.refresh_from_db()
    assert lead.referred_by == world.enterprise


def test_a_promoter_may_not_assign_the_owner(world):
    # when
    response = api_client(world, "promoter").post(
        "/api/v1/leads/",
        {"company_name": "壬有限公司", "channel": "department", "owner": "other-promoter"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["owner"]


def test_the_office_assigns_an_agency_lead_to_a_promoter(world):
    # when
    response = api_client(world, "district_admin").patch(
        f"/api/v1/leads/{world.agency_lead.pk}/", {"owner": "promoter"}, format="json", HTTP_IF_MATCH='"1"'
    )
    # then the lead is the promoter's and still the agency's referral
    assert response.status_code == 200
    assert (response.json()["owner"], response.json()["agency"]) == ("promoter", "越城中介")


def test_a_promoter_protection_conflict_names_the_holder_to_staff(world):
    # when the other promoter registers the promoter's company
    client = api_client(world, "district_admin")
    response = client.post(
        "/api/v1/leads/",
        {"company_name": "甲科技有限公司", "channel": "department", "owner": "other-promoter"},
        format="json",
    )
    # then (400: the 撞单 rule of the CRM core, which names the owner to staff)
    assert response.status_code == 400
    assert "王招商" in response.json()["company_name"][0]


# ---------------------------------------------------------------------------- optimistic concurrency


def test_an_update_with_the_version_read_bumps_it(world):
    # given
    client = api_client(world, "promoter")
    read = client.get(f"/api/v1/leads/{world.lead.pk}/")
    # when
    response = client.patch(
        f"/api/v1/leads/{world.lead.pk}/",
        {"budget_rent": "2.60", "version": read.json()["version"]},
        format="json",
    )
    # then
    assert read["ETag"] == '"1"'
    assert response.status_code == 200
    assert (response.json()["budget_rent"], response.json()["version"], response["ETag"]) == (
        "2.60",
        2,
        '"2"',
    )


def test_a_stale_version_in_the_body_is_a_409(world):
    # given someone else wrote after version 1 was read
    client = api_client(world, "promoter")
    client.patch(f"/api/v1/leads/{world.lead.pk}/", {"budget_rent": "2.60", "version": 1}, format="json")
    # when
    response = client.patch(
        f"/api/v1/leads/{world.lead.pk}/", {"budget_rent": "2.20", "version": 1}, format="json"
    )
    # then the second write is refused, and the first one stands
    assert response.status_code == 409
    assert "2" in response.json()["version"][0]
    world.lead.refresh_from_db()
    assert (world.lead.budget_rent, world.lead.version) == (Decimal("2.60"), 2)


def test_a_stale_if_match_is_a_412(world):
    # given
    client = api_client(world, "promoter")
    client.patch(
        f"/api/v1/leads/{world.lead.pk}/", {"budget_rent": "2.60"}, format="json", HTTP_IF_MATCH='"1"'
    )
    # when
    response = client.patch(
        f"/api/v1/leads/{world.lead.pk}/", {"budget_rent": "2.20"}, format="json", HTTP_IF_MATCH='"1"'
    )
    # then
    assert response.status_code == 412
    world.lead.refresh_from_db()
    assert world.lead.budget_rent == Decimal("2.60")


def test_an_update_without_a_version_is_refused(world):
    # when
    response = api_client(world, "promoter").patch(
        f"/api/v1/leads/{world.lead.pk}/", {"budget_rent": "2.60"}, format="json"
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["version"]


def test_a_stage_cannot_be_patched(world):
    # when
    response = api_client(world, "promoter").patch(
        f"/api/v1/leads/{world.lead.pk}/", {"stage": "contacted", "version": 1}, format="json"
    )
    # then
    assert response.status_code == 400
    assert "transition" in response.json()["stage"][0]


# ---------------------------------------------------------------------------- masking


def test_contacts_are_masked_for_the_auditor(world):
    # when
    body = api_client(world, "auditor").get(f"/api/v1/leads/{world.lead.pk}/").json()
    # then 13812341234 keeps 138 and 1234; 张三 keeps 张
    assert (body["contact_phone"], body["contact_name"]) == ("138****1234", "张*")


def test_contacts_are_masked_in_a_street_officers_list(world):
    # when
    results = api_client(world, "street_officer").get("/api/v1/leads/").json()["results"]
    # then
    assert [(r["company_name"], r["contact_phone"]) for r in results] == [("甲科技有限公司", "138****1234")]


def test_the_owner_reads_the_contacts_in_full(world):
    # when
    body = api_client(world, "promoter").get(f"/api/v1/leads/{world.lead.pk}/").json()
    # then
    assert (body["contact_phone"], body["contact_name"]) == ("13812341234", "张三")


# ---------------------------------------------------------------------------- the workflow


def test_a_transition_moves_the_stage_and_records_the_reason(world):
    # when
    response = api_client(world, "promoter").post(
        f"/api/v1/leads/{world.lead.pk}/transition/",
        {"stage": "contacted", "reason": "首次电话"},
        format="json",
    )
    # then
    assert response.status_code == 200
    assert response.json()["stage"] == "contacted"
    change = StageChange.objects.get(lead=world.lead)
    assert (change.from_stage, change.to_stage, change.reason, change.changed_by) == (
        "new",
        "contacted",
        "首次电话",
        world.users["promoter"],
    )


def test_an_illegal_transition_is_a_400_naming_the_stage(world):
    # when
    response = api_client(world, "promoter").post(
        f"/api/v1/leads/{world.lead.pk}/transition/", {"stage": "settled"}, format="json"
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["stage"]


def test_losing_a_lead_needs_a_reason(world):
    # when
    response = api_client(world, "promoter").post(
        f"/api/v1/leads/{world.lead.pk}/transition/", {"stage": "lost"}, format="json"
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["reason"]


def test_an_agency_cannot_change_a_stage(world):
    # when
    response = api_client(world, "agency").post(
        f"/api/v1/leads/{world.agency_lead.pk}/transition/", {"stage": "contacted"}, format="json"
    )
    # then
    assert response.status_code == 403


def test_a_site_tour_is_logged_and_listed(world):
    # given
    client = api_client(world, "promoter")
    occurred = timezone.now() - dt.timedelta(hours=1)
    # when
    created = client.post(
        f"/api/v1/leads/{world.lead.pk}/activities/",
        {
            "kind": "site_tour",
            "occurred_at": occurred.isoformat(),
            "building": world.building.pk,
            "notes": "看5楼",
        },
        format="json",
    )
    listed = client.get(f"/api/v1/leads/{world.lead.pk}/activities/").json()
    # then
    assert created.status_code == 201
    assert (created.json()["building"], created.json()["promoter"]) == ("B0001", "promoter")
    assert [a["notes"] for a in listed["results"]] == ["看5楼"]


def test_a_site_tour_without_a_building_is_refused(world):
    # when
    response = api_client(world, "promoter").post(
        f"/api/v1/leads/{world.lead.pk}/activities/",
        {"kind": "site_tour", "occurred_at": timezone.now().isoformat()},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["building"]


def test_a_signing_records_the_agency_for_its_referral_reward(world):
    # given the agency's lead, assigned to the promoter and negotiating, with a credit code
    code = make_credit_code(5150)
    Lead.objects.filter(pk=world.agency_lead.pk).update(
        owner=world.promoter, stage=LeadStage.NEGOTIATING, credit_code=code, industry=industry("65")
    )
    client = api_client(world, "promoter")
    # when
    response = client.post(
        f"/api/v1/leads/{world.agency_lead.pk}/signing/",
        {"building": world.building.pk, "units": [world.unit.pk], "signed_on": "2026-11-01", "rent": "2.40"},
        format="json",
    )
    # then the signing carries the agency, the lead is signed, the unit leased
    assert response.status_code == 201
    body = response.json()
    assert (body["agency"], body["enterprise"], body["units"], body["area_m2"]) == (
        "越城中介",
        code,
        ["501"],
        "200.00",
    )
    assert Lead.objects.get(pk=world.agency_lead.pk).stage == LeadStage.SIGNED
    assert Unit.objects.get(pk=world.unit.pk).status == UnitStatus.LEASED
    # and the agency reads it too
    seen = api_client(world, "agency").get(f"/api/v1/leads/{world.agency_lead.pk}/signing/").json()
    assert [s["building"] for s in seen["results"]] == ["B0001"]


def test_a_signing_of_a_lead_not_in_negotiation_is_refused(world):
    # when
    response = api_client(world, "promoter").post(
        f"/api/v1/leads/{world.lead.pk}/signing/",
        {"building": world.building.pk, "units": [world.unit.pk], "signed_on": "2026-11-01"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["stage"]
    assert not Signing.objects.exists()


def test_leads_filter_by_stage_and_order_by_name(world):
    # given two more of the promoter's leads
    LeadFactory(owner=world.promoter, company_name="B公司", stage=LeadStage.CONTACTED)
    LeadFactory(owner=world.promoter, company_name="A公司", stage=LeadStage.CONTACTED)
    # when
    body = api_client(world, "promoter").get("/api/v1/leads/?stage=contacted&ordering=company_name").json()
    # then
    assert body["count"] == 2
    assert [r["company_name"] for r in body["results"]] == ["A公司", "B公司"]


def test_leads_are_paginated_with_count_next_previous(world):
    # given 3 leads of the promoter in all
    LeadFactory.create_batch(2, owner=world.promoter, channel=LeadChannel.DEPARTMENT)
    # when
    body = api_client(world, "promoter").get("/api/v1/leads/?page_size=2&page=2").json()
    # then
    assert (body["count"], len(body["results"]), body["next"]) == (3, 1, None)
    assert body["previous"].endswith("/api/v1/leads/?page_size=2")


# ---------------------------------------------------------------------------- the entry threshold


def test_a_promoter_records_a_lead_that_will_pay_tax_elsewhere_and_the_office_approves_it(world):
    # given a promoter's lead that will not pay its tax in the district
    created = api_client(world, "promoter").post(
        "/api/v1/leads/",
        {"company_name": "庚外省纳税有限公司", "channel": "department", "pays_tax_in_district": False},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["registers_in_district"], body["settles_in_district"], body["pays_tax_in_district"]) == (
        True,
        True,
        False,
    )
    assert body["entry_exception_approved_at"] is None

    # when the promoter tries to approve it, then only the office may
    url = f"/api/v1/leads/{body['id']}/entry-approval/"
    assert api_client(world, "promoter").post(url).status_code == 403

    # when the office approves it
    approved = api_client(world, "district_admin").post(url)

    # then
    assert approved.status_code == 200
    assert approved.json()["entry_exception_approved_at"] is not None
    assert Lead.objects.get(pk=body["id"]).entry_exception_approved_by == world.users["district_admin"]


def test_an_intention_must_be_a_boolean(world):
    # when
    response = api_client(world, "promoter").post(
        "/api/v1/leads/",
        {"company_name": "辛有限公司", "channel": "department", "registers_in_district": "perhaps"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["registers_in_district"]


def test_if_match_any_does_not_skip_the_version_check(world):
    # when a change claims to be based on "any" version, with none in the body
    response = api_client(world, "promoter").patch(
        f"/api/v1/leads/{world.lead.pk}/", {"budget_rent": "2.60"}, format="json", HTTP_IF_MATCH="*"
    )
    # then it is refused like one without a version, and nothing changed
    assert response.status_code == 400
    assert list(response.json()) == ["version"]
    world.lead.refresh_from_db()
    assert world.lead.version == 1


def test_an_if_match_of_other_digits_is_a_400(world):
    # when the tag is a superscript two, which str.isdigit calls a digit but int() refuses
    response = api_client(world, "promoter").patch(
        f"/api/v1/leads/{world.lead.pk}/", {"budget_rent": "2.60"}, format="json", HTTP_IF_MATCH='"²"'
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["If-Match"]

"""Working leads from the pages: quick add, the 撞单 warning, stage moves, activities, site tours, signing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.constants import ActivityKind, LeadStage, UnitStatus
from crm.models import Activity, Enterprise, Lead, Signing
from crm.services.leads import lead_transition
from tests.factories import LeadFactory, make_credit_code

pytestmark = pytest.mark.django_db


def _negotiating(district):
    lead = district.lead
    for stage in (LeadStage.CONTACTED, LeadStage.NEGOTIATING):
        lead_transition(lead=lead, to_stage=stage)
    return lead


def test_quick_add_registers_a_lead_owned_by_the_promoter(district):
    # when
    response = district.client("promoter").post(
        reverse("web:lead_add"),
        {
            "company_name": "新来科技有限公司",
            "credit_code": make_credit_code(800001),
            "channel": "department",
            "area_min_m2": "100",
            "area_max_m2": "200",
        },
    )

    # then
    lead = Lead.objects.get(company_name="新来科技有限公司")
    assert response["Location"] == reverse("web:lead", args=[lead.pk])
    assert lead.owner == district.promoter


def test_quick_add_records_the_referring_tenant(district):
    # given 甲软件 leases 601 in 甲大厦 and referred a company (以商招商)
    tenant = Enterprise.objects.get(name="甲软件有限公司")
    # when
    response = district.client("promoter").post(
        reverse("web:lead_add"),
        {
            "company_name": "推荐来科技有限公司",
            "channel": "tenant_referral",
            "referred_by": tenant.credit_code,
        },
    )
    # then
    lead = Lead.objects.get(company_name="推荐来科技有限公司")
    assert response["Location"] == reverse("web:lead", args=[lead.pk])
    assert lead.referred_by == tenant
    assert "甲软件有限公司" in district.client("promoter").get(response["Location"]).content.decode()


def test_quick_add_refuses_a_referrer_on_another_channel_beside_the_field(district):
    # given
    tenant = Enterprise.objects.get(name="甲软件有限公司")
    # when
    response = district.client("promoter").post(
        reverse("web:lead_add"),
        {"company_name": "推荐来科技有限公司", "channel": "department", "referred_by": tenant.credit_code},
    )
    # then the form comes back with the error on referred_by, and nothing is written
    assert response.status_code == 200
    assert "referred_by" in response.context["form"].errors
    assert not Lead.objects.filter(company_name="推荐来科技有限公司").exists()


def test_quick_add_refuses_a_company_in_another_promoters_protection_period(district):
    # given: 意向软件有限公司 is the promoter's open lead, active today
    client = district.client("other_promoter")

    # when
    response = client.post(
        reverse("web:lead_add"), {"company_name": "意向软件有限公司", "channel": "department"}
    )

    # then: the form comes back naming the owner, and nothing is written
    assert response.status_code == 200
    assert "张招商" in response.content.decode()
    assert Lead.objects.filter(company_name="意向软件有限公司").count() == 1


def test_the_duplicate_check_warns_while_the_name_is_typed(district):
    # when
    response = district.client("other_promoter").post(
        reverse("web:lead_duplicate_check"), {"company_name": "意向软件有限公司", "credit_code": ""}
    )

    # then: the owner and the end of the protection period, 90 days from the last activity
    until = timezone.localtime(district.lead.last_activity_at).date() + dt.timedelta(days=90)
    body = response.content.decode()
    assert "张招商" in body
    assert until.isoformat() in body


def test_the_duplicate_check_warns_the_owner_themself_too(district):
    # when the owner types the company they already work
    response = district.client("promoter").post(
        reverse("web:lead_duplicate_check"), {"company_name": "意向软件有限公司"}
    )

    # then: no company is twice in the open pipeline, whoever registers it
    assert "撞单" in response.content.decode()


def test_a_stage_change_moves_the_lead_along_an_allowed_edge(district):
    # when
    district.client("promoter").post(
        reverse("web:stage_change", args=[district.lead.pk]), {"to_stage": "contacted"}
    )

    # then
    district.lead.refresh_from_db()
    assert district.lead.stage == LeadStage.CONTACTED


def test_losing_a_lead_without_a_reason_is_refused(district):
    # when
    response = district.client("promoter").post(
        reverse("web:stage_change", args=[district.lead.pk]), {"to_stage": "lost", "reason": ""}, follow=True
    )

    # then
    district.lead.refresh_from_db()
    assert district.lead.stage == LeadStage.NEW
    assert "流失须填写原因" in response.content.decode()


def test_the_board_moves_a_card_and_redraws_itself(district):
    # when
    response = district.client("promoter").post(
        reverse("web:board_move", args=[district.lead.pk]), {"to_stage": "contacted"}, HTTP_HX_REQUEST="true"
    )

    # then: the board partial, with the card in its new column
    district.lead.refresh_from_db()
    assert district.lead.stage == LeadStage.CONTACTED
    columns = {c["stage"]: [lead.pk for lead in c["leads"]] for c in response.context["columns"]}
    assert columns["contacted"] == [district.lead.pk]


def test_the_board_refuses_a_jump_the_stages_do_not_allow(district):
    # when: new → negotiating is not an edge
    response = district.client("promoter").post(
        reverse("web:board_move", args=[district.lead.pk]),
        {"to_stage": "negotiating"},
        HTTP_HX_REQUEST="true",
    )

    # then: only the card comes back, swapped in its own place, with the refusal under the control
    district.lead.refresh_from_db()
    assert district.lead.stage == LeadStage.NEW
    assert response["HX-Retarget"] == f"#card-{district.lead.pk}"
    assert response.context["errors"]["stage"]


def test_a_site_tour_is_logged_with_its_building_and_unit(district):
    # when
    district.client("promoter").post(
        reverse("web:activity_add", args=[district.lead.pk]),
        {
            "kind": ActivityKind.SITE_TOUR,
            "occurred_at": "2026-01-05T10:00",
            "building": district.building.pk,
            "unit": district.unit.pk,
            "notes": "客户满意",
        },
    )

    # then
    activity = Activity.objects.get(lead=district.lead)
    assert (activity.kind, activity.building, activity.unit) == (
        ActivityKind.SITE_TOUR,
        district.building,
        district.unit,
    )


def test_a_site_tour_without_a_building_is_refused_with_the_reason(district):
    # when
    response = district.client("promoter").post(
        reverse("web:activity_add", args=[district.lead.pk]),
        {"kind": ActivityKind.SITE_TOUR, "occurred_at": "2026-01-05T10:00"},
    )

    # then
    assert response.status_code == 400
    assert "实地看房须选择楼宇" in response.content.decode()
    assert not Activity.objects.exists()


def test_the_unit_select_lists_only_the_units_that_can_be_offered(district):
    # when
    response = district.client("promoter").get(
        reverse("web:unit_options", args=[district.lead.pk]),
        {"building": district.building.pk},
        HTTP_HX_REQUEST="true",
    )

    # then: the vacant 501 and 502 by floor, number and area; the leased 601 is not offered
    body = response.content.decode()
    assert body.count("<option value=") == 3  # the blank choice and two units
    assert "5F 501 · 200㎡" in body and "5F 502 · 300㎡" in body
    assert "601" not in body


def test_the_unit_select_says_held_for_this_lead_only_of_a_live_hold_of_this_lead(district):
    # given 502 held for the promoter's lead until tomorrow, and 501 still marked reserved by another
    # lead's hold that ran out yesterday (the nightly release has not run yet)
    from crm.models import Reservation
    from crm.services.reservations import unit_reserve

    today = timezone.localdate()
    lead = Lead.objects.get(pk=_negotiating(district).pk)
    unit_reserve(lead=lead, unit=district.second_unit, expires_on=today + dt.timedelta(days=1))
    other = LeadFactory(stage=LeadStage.NEGOTIATING)
    lapsed = unit_reserve(lead=other, unit=district.unit, expires_on=today)
    Reservation.objects.filter(pk=lapsed.pk).update(expires_on=today - dt.timedelta(days=1))

    # when
    response = district.client("promoter").get(
        reverse("web:unit_options", args=[lead.pk]),
        {"building": district.building.pk},
        HTTP_HX_REQUEST="true",
    )

    # then both are offered; only 502 reads as held for this lead, 501 is plainly vacant again
    body = response.content.decode()
    assert "5F 501 · 200㎡</option>" in body
    assert "5F 502 · 300㎡ · 已为本线索预留</option>" in body


def test_booking_a_site_tour_from_a_match_sets_the_next_follow_up(district):
    # given
    at = timezone.localtime() + dt.timedelta(days=2)

    # when
    response = district.client("promoter").post(
        reverse("web:site_tour_schedule", args=[district.lead.pk]),
        {
            "building": district.building.pk,
            "units": f"{district.unit.pk}",
            "at": at.strftime("%Y-%m-%dT%H:%M"),
        },
    )

    # then: a note now, whose next follow-up is the tour
    assert response.status_code == 200
    note = Activity.objects.get(lead=district.lead)
    assert note.kind == ActivityKind.NOTE
    assert "甲大厦 501" in note.notes
    assert timezone.localtime(note.next_follow_up_at).strftime("%Y-%m-%d %H:%M") == at.strftime(
        "%Y-%m-%d %H:%M"
    )


def test_signing_takes_the_unit_off_the_vacancy_list(district):
    # given
    lead = _negotiating(district)
    client = district.client("promoter")
    before = client.get(reverse("web:vacancies"))
    assert district.unit in list(before.context["page"])

    # when
    response = client.post(
        reverse("web:lead_sign", args=[lead.pk]),
        {
            "building": district.building.pk,
            "units": [district.unit.pk],
            "rent": "2.50",
            "signed_on": "2026-01-10",
        },
    )

    # then
    assert response.status_code == 302
    district.unit.refresh_from_db()
    lead.refresh_from_db()
    assert district.unit.status == UnitStatus.LEASED
    assert lead.stage == LeadStage.SIGNED
    assert Signing.objects.get(lead=lead).area_m2 == Decimal("200.00")
    after = client.get(reverse("web:vacancies"))
    assert district.unit not in list(after.context["page"])


def test_the_sign_form_offers_the_vacant_units_of_the_chosen_building(district):
    # given
    lead = _negotiating(district)

    # when
    response = district.client("promoter").get(
        reverse("web:lead_sign", args=[lead.pk]), {"building": district.building.pk}
    )

    # then: 501 and 502 are vacant; 601 is leased
    units = list(response.context["form"].fields["units"].queryset)
    assert units == [district.unit, district.second_unit]


def test_a_lead_that_is_not_negotiating_cannot_open_the_sign_form(district):
    # when
    response = district.client("promoter").get(reverse("web:lead_sign", args=[district.lead.pk]))

    # then
    assert response.status_code == 302


def test_the_lead_list_filters_by_stage(district):
    # given
    LeadFactory(owner=district.promoter, stage=LeadStage.CONTACTED, company_name="另一家有限公司")

    # when
    response = district.client("promoter").get(reverse("web:leads"), {"stage": "contacted"})

    # then
    assert [lead.company_name for lead in response.context["page"]] == ["另一家有限公司"]


def test_the_lead_list_sorts_by_expected_tax(district):
    # given
    LeadFactory(owner=district.promoter, company_name="大户有限公司", expected_annual_tax=Decimal("9000000"))

    # when
    response = district.client("promoter").get(reverse("web:leads"), {"sort": "-expected_annual_tax"})

    # then
    assert [lead.company_name for lead in response.context["page"]][0] == "大户有限公司"


# ---------------------------------------------------------------------------- the entry threshold


def test_quick_add_assumes_the_three_entry_intentions(district):
    # when: quick add no longer asks for them (the lead page does); a stray posted box changes nothing
    district.client("promoter").post(
        reverse("web:lead_add"),
        {"company_name": "外地纳税有限公司", "channel": "department", "registers_in_district": "on"},
    )

    # then: all three assumed, as the plan's entry threshold starts
    lead = Lead.objects.get(company_name="外地纳税有限公司")
    assert (lead.registers_in_district, lead.settles_in_district, lead.pays_tax_in_district) == (
        True,
        True,
        True,
    )


def test_the_quick_add_form_leaves_the_intentions_to_the_lead_page(district):
    # when
    body = district.client("promoter").get(reverse("web:lead_add")).content.decode()

    # then
    for name in ("registers_in_district", "settles_in_district", "pays_tax_in_district"):
        assert f'name="{name}"' not in body


def test_a_lead_short_of_the_threshold_cannot_open_signing_until_the_office_approves(district):
    # given a negotiating lead that will not pay tax here
    lead = _negotiating(district)
    Lead.objects.filter(pk=lead.pk).update(pays_tax_in_district=False)

    # when the promoter opens it: no sign button, a notice instead
    body = district.client("promoter").get(reverse("web:lead", args=[lead.pk])).content.decode()
    assert reverse("web:lead_sign", args=[lead.pk]) not in body
    assert "签约须经区楼宇办批准" in body

    # when the office approves it from the page
    office = district.client("district_admin")
    assert (
        reverse("web:lead_entry_approve", args=[lead.pk])
        in office.get(reverse("web:lead", args=[lead.pk])).content.decode()
    )
    office.post(reverse("web:lead_entry_approve", args=[lead.pk]))

    # then the promoter may sign
    lead.refresh_from_db()
    assert lead.entry_exception_approved_at is not None
    body = district.client("promoter").get(reverse("web:lead", args=[lead.pk])).content.decode()
    assert reverse("web:lead_sign", args=[lead.pk]) in body


def test_a_promoter_cannot_approve_an_entry_exception(district):
    lead = district.lead
    Lead.objects.filter(pk=lead.pk).update(registers_in_district=False)

    response = district.client("promoter").post(reverse("web:lead_entry_approve", args=[lead.pk]))

    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.entry_exception_approved_at is None


# ---------------------------------------------------------------------------- the stage selector


@pytest.mark.parametrize(
    ("path", "proposed"),
    [
        ((), LeadStage.CONTACTED),
        ((LeadStage.CONTACTED,), LeadStage.VISITING),
        ((LeadStage.CONTACTED, LeadStage.VISITING), LeadStage.NEGOTIATING),
    ],
)
def test_the_stage_selector_proposes_the_next_funnel_stage_not_lost(district, path, proposed):
    # given
    lead = district.lead
    for stage in path:
        lead_transition(lead=lead, to_stage=stage)

    # when
    body = district.client("promoter").get(reverse("web:lead", args=[lead.pk])).content.decode()

    # then the first option (what the browser selects) is the next stage; 已流失 comes last
    select = body.split('name="to_stage">', 1)[1].split("</select>", 1)[0]
    options = [chunk.split('"', 1)[0] for chunk in select.split('value="')[1:]]
    assert options[0] == proposed
    assert options[-1] == LeadStage.LOST


def test_the_lead_export_carries_the_intentions_and_the_lost_reason(district):
    # given a lost lead that would have paid its tax elsewhere
    lead = district.lead
    Lead.objects.filter(pk=lead.pk).update(pays_tax_in_district=False)
    lead_transition(lead=lead, to_stage=LeadStage.LOST, reason="选择了外省园区")

    # when
    response = district.client("promoter").get(reverse("web:leads") + "?export=csv")

    # then: booleans as 是/否, as every export writes them
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    header, row = lines[0].split(","), next(line for line in lines[1:] if lead.ref in line).split(",")
    cells = dict(zip(header, row, strict=True))
    assert (cells["拟区内注册 registers here"], cells["拟区内纳税 pays tax here"]) == ("是", "否")
    assert cells["流失原因 lost reason"] == "选择了外省园区"

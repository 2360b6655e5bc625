"""Holds and units in the pages: holding from a match or a building, releasing, who holds what, a
manager's status change, and signing pre-filled from the match chosen; scoped per role."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.constants import LeadStage, UnitStatus
from crm.models import Reservation, Unit
from crm.services.leads import lead_transition
from crm.services.reservations import unit_reserve
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _negotiating(district):
    lead = district.lead
    for stage in (LeadStage.CONTACTED, LeadStage.NEGOTIATING):
        lead_transition(lead=lead, to_stage=stage)
    lead.refresh_from_db()
    return lead


def _held(district, days: int = 7) -> Reservation:
    lead = _negotiating(district)
    return unit_reserve(lead=lead, unit=district.unit, expires_on=TODAY + dt.timedelta(days=days))


# ------------------------------------------------------------------ holding


def test_the_hold_form_ticks_the_units_the_match_offered(district):
    # given
    lead = _negotiating(district)

    # when
    response = district.client("promoter").get(
        reverse("web:hold_add"),
        {"lead": lead.pk, "building": district.building.pk, "units": f"{district.unit.pk}"},
    )

    # then: 501 ticked among the building's vacant units, by floor, number and area; two weeks' expiry
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields["units"].queryset) == [district.unit, district.second_unit]
    assert form.initial["units"] == [district.unit.pk]
    assert form.initial["expires_on"] == TODAY + dt.timedelta(days=14)
    body = response.content.decode()
    assert "5F 501 · 200㎡" in body
    assert "601" not in body  # leased


def test_a_promoter_holds_a_matched_unit_until_the_expiry(district):
    # given
    lead = _negotiating(district)
    expiry = TODAY + dt.timedelta(days=10)

    # when
    response = district.client("promoter").post(
        reverse("web:hold_add"),
        {
            "lead": lead.pk,
            "building": district.building.pk,
            "units": [district.unit.pk],
            "expires_on": expiry.isoformat(),
        },
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("web:lead", args=[lead.pk])
    hold = Reservation.objects.get(lead=lead)
    assert (hold.unit, hold.expires_on, hold.promoter) == (district.unit, expiry, district.promoter)
    assert Unit.objects.get(pk=district.unit.pk).status == UnitStatus.RESERVED


def test_the_lead_page_shows_the_hold_by_building_name_with_its_release(district):
    # given
    hold = _held(district)

    # when
    body = district.client("promoter").get(reverse("web:lead", args=[hold.lead_id])).content.decode()

    # then
    assert "甲大厦 501" in body
    assert reverse("web:hold_release", args=[hold.pk]) in body


def test_an_expiry_beyond_ninety_days_is_refused_beside_its_field(district):
    # given
    lead = _negotiating(district)

    # when
    response = district.client("promoter").post(
        reverse("web:hold_add"),
        {
            "lead": lead.pk,
            "building": district.building.pk,
            "units": [district.unit.pk],
            "expires_on": (TODAY + dt.timedelta(days=91)).isoformat(),
        },
    )

    # then
    assert response.status_code == 400
    assert "90" in " ".join(response.context["form"].errors["expires_on"])
    assert not Reservation.objects.exists()


def test_a_lead_not_in_negotiation_cannot_hold(district):
    # when: the fixture's lead is new
    response = district.client("promoter").post(
        reverse("web:hold_add"),
        {
            "lead": district.lead.pk,
            "building": district.building.pk,
            "units": [district.unit.pk],
            "expires_on": (TODAY + dt.timedelta(days=3)).isoformat(),
        },
    )

    # then: only negotiating leads are offered
    assert response.status_code == 400
    assert response.context["form"].errors["lead"]


def test_a_promoter_cannot_hold_for_another_promoters_lead(district):
    # given
    lead = _negotiating(district)

    # when
    response = district.client("other_promoter").post(
        reverse("web:hold_add"),
        {
            "lead": lead.pk,
            "building": district.building.pk,
            "units": [district.unit.pk],
            "expires_on": (TODAY + dt.timedelta(days=3)).isoformat(),
        },
    )

    # then
    assert response.status_code == 400
    assert response.context["form"].errors["lead"]
    assert not Reservation.objects.exists()


@pytest.mark.parametrize("role", ["street_officer", "auditor", "building_manager", "agency"])
def test_roles_that_work_no_leads_cannot_open_the_hold_form(district, role):
    # when
    response = district.client(role).get(reverse("web:hold_add"), {"building": district.building.pk})

    # then
    assert response.status_code == 403


def test_releasing_a_hold_gives_the_unit_back(district):
    # given
    hold = _held(district)

    # when
    response = district.client("promoter").post(reverse("web:hold_release", args=[hold.pk]))

    # then
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.released_at is not None
    assert Unit.objects.get(pk=district.unit.pk).status == UnitStatus.VACANT


def test_another_promoter_cannot_release_the_hold(district):
    # given
    hold = _held(district)

    # when
    response = district.client("other_promoter").post(reverse("web:hold_release", args=[hold.pk]))

    # then: not theirs to see
    assert response.status_code == 404
    hold.refresh_from_db()
    assert hold.released_at is None


# ------------------------------------------------------------------ who holds what


def test_the_building_page_shows_who_holds_what_to_the_holder_and_the_office(district):
    # given
    hold = _held(district, days=5)
    url = reverse("web:building", args=[district.building.pk])

    # when
    mine = district.client("promoter").get(url)
    office = district.client("district_admin").get(url)
    other = district.client("other_promoter").get(url)

    # then: the holder and the office see the lead, promoter and expiry; another promoter only the status
    expiry = f"{TODAY + dt.timedelta(days=5):%Y-%m-%d}"
    for response in (mine, office):
        assert response.context["holds"] == [hold]
        body = response.content.decode()
        assert "意向软件有限公司" in body and "张招商" in body and expiry in body
    assert other.context["holds"] == []
    assert "意向软件有限公司" not in other.content.decode()


def test_the_building_manager_sees_who_holds_their_unit_but_not_the_company(district):
    # given 张招商's hold on 501 of the manager's 甲大厦, for 意向软件有限公司
    hold = _held(district, days=5)
    expiry = f"{TODAY + dt.timedelta(days=5):%Y-%m-%d}"
    client = district.client("building_manager")

    # when
    building = client.get(reverse("web:building", args=[district.building.pk]))
    unit = client.get(reverse("web:unit", args=[district.unit.pk]))

    # then: the promoter and the expiry, no lead (managers read no leads) and no release
    assert building.context["holds"] == [hold]
    for response in (building, unit):
        body = response.content.decode()
        assert "张招商" in body and expiry in body
        assert "意向软件有限公司" not in body
        assert reverse("web:hold_release", args=[hold.pk]) not in body


def test_the_street_officer_sees_the_holds_in_their_street_only(district):
    # given holds on 甲大厦 501 (street A) and 乙中心 101 (street B)
    hold = _held(district)
    unit_reserve(lead=district.lead, unit=district.other_unit, expires_on=TODAY + dt.timedelta(days=3))
    client = district.client("street_officer")

    # when
    mine = client.get(reverse("web:building", args=[district.building.pk]))
    theirs = client.get(reverse("web:unit", args=[district.other_unit.pk]))

    # then: 乙中心's unit and its hold are outside the officer's street altogether
    assert mine.context["holds"] == [hold]
    assert theirs.status_code == 404


def test_the_unit_page_names_the_unit_by_building_and_number(district):
    # when
    response = district.client("promoter").get(reverse("web:unit", args=[district.unit.pk]))

    # then
    assert response.status_code == 200
    assert response.context["name"] == "甲大厦 501"
    assert "A001" not in response.content.decode().split("<main", 1)[1]


# ------------------------------------------------------------------ a manager's units


def test_a_building_manager_marks_a_unit_unavailable_until_a_date(district):
    # when
    response = district.client("building_manager").post(
        reverse("web:unit", args=[district.second_unit.pk]),
        {"status": UnitStatus.UNAVAILABLE, "available_from": "2027-04-01"},
    )

    # then
    assert response.status_code == 302
    unit = Unit.objects.get(pk=district.second_unit.pk)
    assert (unit.status, unit.available_from) == (UnitStatus.UNAVAILABLE, dt.date(2027, 4, 1))
    assert unit.history.latest().history_user == district.users["building_manager"]


def test_the_manager_sees_the_status_form_and_a_promoter_does_not(district):
    # given
    url = reverse("web:unit", args=[district.unit.pk])

    # when
    manager = district.client("building_manager").get(url)
    promoter = district.client("promoter").get(url)

    # then
    assert manager.context["form"] is not None
    assert promoter.context["form"] is None


def test_a_manager_cannot_set_leased_by_hand(district):
    # when
    response = district.client("building_manager").post(
        reverse("web:unit", args=[district.unit.pk]), {"status": UnitStatus.LEASED}
    )

    # then
    assert response.status_code == 400
    assert response.context["form"].errors["status"]
    assert Unit.objects.get(pk=district.unit.pk).status == UnitStatus.VACANT


def test_a_manager_cannot_touch_another_buildings_unit(district):
    # when
    response = district.client("building_manager").post(
        reverse("web:unit", args=[district.other_unit.pk]), {"status": UnitStatus.UNAVAILABLE}
    )

    # then: outside their scope, as if it did not exist
    assert response.status_code == 404
    assert Unit.objects.get(pk=district.other_unit.pk).status == UnitStatus.VACANT


@pytest.mark.parametrize("role", ["promoter", "auditor", "agency"])
def test_roles_that_manage_no_units_cannot_change_one(district, role):
    # when
    response = district.client(role).post(
        reverse("web:unit", args=[district.unit.pk]), {"status": UnitStatus.UNAVAILABLE}
    )

    # then
    assert response.status_code == 403
    assert Unit.objects.get(pk=district.unit.pk).status == UnitStatus.VACANT


def test_a_second_manager_of_another_building_is_refused_too(district):
    # given: a manager scoped to 乙中心
    from crm.models import UserScope

    other = UserFactory(username="manager2", role="building_manager")
    UserScope.objects.create(user=other, building=district.other_building)
    client = district.client("building_manager")
    client.force_login(other)

    # when
    response = client.post(reverse("web:unit", args=[district.unit.pk]), {"status": UnitStatus.UNAVAILABLE})

    # then
    assert response.status_code == 404


# ------------------------------------------------------------------ signing from a match


def test_the_match_card_links_hold_and_signing_with_its_units_and_rent(district):
    # given
    lead = _negotiating(district)

    # when
    response = district.client("promoter").get(
        reverse("web:lead_matches", args=[lead.pk]), HTTP_HX_REQUEST="true"
    )

    # then: 甲大厦's card offers 501 at its asking rent of 2.50 yuan
    item = next(i for i in response.context["results"] if i["result"]["building_name"] == "甲大厦")
    assert item["units"] == str(district.unit.pk)
    body = response.content.decode()
    sign = reverse("web:lead_sign", args=[lead.pk])
    assert f"{sign}?building={district.building.pk}&units={district.unit.pk}&rent=2.5" in body
    assert (
        f"{reverse('web:hold_add')}?lead={lead.pk}&building={district.building.pk}&units={district.unit.pk}"
        in body
    )


def test_signing_from_a_match_pre_fills_its_units_and_rent(district):
    # given
    lead = _negotiating(district)

    # when
    response = district.client("promoter").get(
        reverse("web:lead_sign", args=[lead.pk]),
        {"building": district.building.pk, "units": f"{district.unit.pk}", "rent": "2.5"},
    )

    # then: 501 ticked, the rent to the fen, units by floor, number and area
    form = response.context["form"]
    assert form.initial["units"] == [district.unit.pk]
    assert form.initial["rent"] == Decimal("2.50")
    body = response.content.decode()
    assert f'value="{district.unit.pk}" id="id_units_0" checked' in body
    assert "5F 501 · 200㎡" in body and "5F 502 · 300㎡" in body


def test_signing_without_units_ticks_the_leads_own_holds(district):
    # given
    hold = _held(district)

    # when
    response = district.client("promoter").get(
        reverse("web:lead_sign", args=[hold.lead_id]), {"building": district.building.pk}
    )

    # then: the held 501 is offerable to its own lead, and ticked
    form = response.context["form"]
    assert district.unit in list(form.fields["units"].queryset)
    assert form.initial["units"] == [district.unit.pk]


def test_a_malformed_rent_is_a_400_naming_it(district):
    # given
    lead = _negotiating(district)

    # when
    response = district.client("promoter").get(
        reverse("web:lead_sign", args=[lead.pk]), {"building": district.building.pk, "rent": "abc"}
    )

    # then
    assert response.status_code == 400
    assert "rent" in response.content.decode()


def test_a_hold_that_ran_out_reads_vacant_before_the_nightly_release(district):
    # given 501's hold ran out yesterday and the nightly release has not run: the row still says reserved
    hold = _held(district, days=0)
    Reservation.objects.filter(pk=hold.pk).update(expires_on=TODAY - dt.timedelta(days=1))
    client = district.client("district_admin")

    # when
    building = client.get(reverse("web:building", args=[district.building.pk]))
    unit = client.get(reverse("web:unit", args=[district.unit.pk]))

    # then the building counts 501 (200 m²) with 502 (300 m²) as vacant: 2 units, 200 + 300 = 500 m²,
    # and nothing reserved; the unit page says vacant and offers a new hold
    counts = {s["status"]: (s["n"], s["area"]) for s in building.context["statuses"]}
    assert counts[UnitStatus.VACANT] == (2, Decimal("500"))
    assert counts[UnitStatus.RESERVED] == (0, Decimal(0))
    assert unit.context["unit"].get_status_display() == "空置"
    assert unit.context["hold"] is None and unit.context["can_hold"] is True
    assert Unit.objects.get(pk=district.unit.pk).status == UnitStatus.RESERVED  # display only


def test_the_vacancy_download_lists_a_unit_whose_hold_ran_out_as_vacant(district):
    import csv
    import io

    # given 501's hold ran out yesterday, not yet released
    hold = _held(district, days=0)
    Reservation.objects.filter(pk=hold.pk).update(expires_on=TODAY - dt.timedelta(days=1))

    # when
    response = district.client("district_admin").get(reverse("web:vacancies"), {"export": "csv"})

    # then 501 is offered again, and reads 空置 like 502 beside it
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = {row[4]: row[7] for row in list(csv.reader(io.StringIO(text)))[1:]}
    assert (rows["501"], rows["502"]) == ("空置", "空置")

"""A promoter's and a building manager's day in headless Chromium, never in the admin: fix a lead's
missing industry and see its matches, hold a matched unit, sign with the form the match pre-fills;
change a unit's status from the building page. Screenshots go to var/screenshots/ (and tmp_path)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from crm.constants import LawfulBasis, LeadStage, UnitStatus
from crm.models import Lead, Reservation, Signing, Unit
from crm.services.leads import lead_transition
from tests.web.conftest import build_district
from tests.web.test_browser import browser, go, log_in, page, train_industry_model  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def shot(page, tmp_path, name: str) -> None:  # noqa: F811 - the page fixture
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for folder in (SCREENSHOTS, tmp_path):
        page.screenshot(path=folder / f"day-{name}.png", full_page=True)


def test_a_promoter_fixes_the_industry_holds_a_match_and_signs_it_pre_filled(page, tmp_path):  # noqa: F811
    # given: a negotiating lead saved without its industry, with a business scope to suggest one from
    district = build_district()
    train_industry_model()
    lead = district.lead
    Lead.objects.filter(pk=lead.pk).update(
        industry=None,
        business_scope="软件开发;信息技术咨询服务",
        lawful_basis=LawfulBasis.CONSENT,
        lawful_basis_recorded_at=lead.created_at,
    )
    for stage in (LeadStage.CONTACTED, LeadStage.NEGOTIATING):
        lead_transition(lead=lead, to_stage=stage)
    log_in(page, "promoter")

    # when: the lead page says it cannot be matched, and links its edit
    go(page, reverse("web:lead", args=[lead.pk]))
    page.locator("#matches .notice").wait_for()
    assert "行业" in page.locator("#matches .notice").inner_text()
    shot(page, tmp_path, "1-lead-without-industry")
    page.click("#lead-edit-link")
    page.wait_for_load_state("networkidle")

    # then: the edit page suggests 65 from the business scope; a click fills the field
    page.locator("#industry-suggestions button", has_text="65").click()
    assert page.input_value("#id_industry") == "65"
    shot(page, tmp_path, "2-edit-with-suggestion")
    page.click("#lead-edit-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    lead.refresh_from_db()
    assert lead.industry_id == "65"

    # then: back on the lead page, its matches, 甲大厦 among them
    page.locator("#matches article").first.wait_for()
    card = page.locator("#matches article", has_text="甲大厦")
    assert card.count() == 1
    shot(page, tmp_path, "3-matches-after-fix")

    # when: hold the units the match offers
    card.locator("a", has_text="预留房源").click()
    page.wait_for_load_state("networkidle")
    assert page.is_checked(f"input[name=units][value='{district.unit.pk}']")
    shot(page, tmp_path, "4-hold-form")
    page.click("#hold-form button[type=submit]")
    page.wait_for_load_state("networkidle")

    # then: the lead page names the hold by building and number
    hold = Reservation.objects.get(lead=lead, released_at__isnull=True)
    assert hold.unit == district.unit
    assert page.locator(".hold", has_text="甲大厦 501").count() == 1

    # when: sign from the same match: building, units and rent come filled in
    page.locator("#matches article", has_text="甲大厦").locator("a", has_text="在此签约").click()
    page.wait_for_load_state("networkidle")
    assert page.input_value("#id_building") == str(district.building.pk)
    assert page.is_checked(f"input[name=units][value='{district.unit.pk}']")
    assert page.input_value("#id_rent") == "2.50"
    assert "5F 501 · 200㎡" in page.locator("#sign-units").inner_text()
    shot(page, tmp_path, "5-sign-pre-filled")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")

    # then: signed at the match's rent, the unit leased
    lead.refresh_from_db()
    assert lead.stage == LeadStage.SIGNED
    signing = Signing.objects.get(lead=lead)
    assert list(signing.units.all()) == [district.unit]
    assert Unit.objects.get(pk=district.unit.pk).status == UnitStatus.LEASED
    shot(page, tmp_path, "6-signed")


def test_a_building_manager_marks_a_unit_unavailable_from_the_building_page(page, tmp_path):  # noqa: F811
    # given
    district = build_district()
    log_in(page, "manager")

    # when: from their building's unit grid to 502, then its status and date
    go(page, reverse("web:building", args=[district.building.pk]))
    page.locator(".floors a", has_text="502").click()
    page.wait_for_load_state("networkidle")
    assert "甲大厦 502" in page.locator("h1").inner_text()
    page.select_option("#id_status", UnitStatus.UNAVAILABLE)
    page.fill("#id_available_from", "2027-04-01")
    shot(page, tmp_path, "7-unit-status-form")
    page.click("#unit-status-form button[type=submit]")
    page.wait_for_load_state("networkidle")

    # then
    unit = Unit.objects.get(pk=district.second_unit.pk)
    assert unit.status == UnitStatus.UNAVAILABLE
    assert f"{unit.available_from:%Y-%m-%d}" == "2027-04-01"
    assert "不可租" in page.locator("h1").inner_text()
    shot(page, tmp_path, "8-unit-unavailable")

"""Numbers as people read them: counts whole, areas in 万㎡, progress below target never 100%, past
availability as "available now", the model version only to the office, one language per reason."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.constants import LeadStage
from crm.models import PromoterTarget, StreetAssessmentSnapshot
from crm.models.appraisal import PeriodKind
from crm.services.leads import lead_transition
from crm.services.signings import signing_complete, signing_settle
from crm.web.templatetags.web import available, count, measure, percent, progress

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ the filters


def test_a_count_reads_whole_with_separators():
    # then: "10.00" is ten buildings; 12,345.6 rounds to 12,346; a rounded zero has no sign
    assert count("10.00") == "10"
    assert count(Decimal("12345.6")) == "12,346"
    assert count(Decimal("-0.3")) == "0"
    assert count(None) == "—"


def test_an_indicator_in_buildings_is_a_count_and_a_rate_keeps_its_decimals():
    # then
    assert measure(Decimal("10.00"), "幢") == "10"
    assert measure(Decimal("97.51"), "%") == "97.51"


def test_progress_below_target_never_reads_100_percent():
    # given: 97.51 against a target of 98 is 99.4999 %; whole percent would round it up to 100
    share = Decimal("97.51") * 100 / Decimal("98")

    # then: one more decimal, 99.5 %
    assert progress(share) == "99.5%"
    assert progress(Decimal("99.97")) == "99.97%"
    assert progress(Decimal("99.9999")) == "99.99%"  # closer than two decimals: cut, not rounded
    assert progress(Decimal("100")) == "100%"
    assert progress(Decimal("83.4")) == "83%"


def test_a_share_reads_as_a_percentage_written_as_every_page_number():
    # then: by num, a rounded zero has no sign (-0.1 % is "0%", not "-0%") and 1234 % has a separator
    assert percent(Decimal("-0.001")) == "0%"
    assert percent(Decimal("12.34")) == "1,234%"
    assert percent(Decimal("0.12345"), 1) == "12.3%"
    assert percent(None) == "—"


def test_a_past_availability_date_reads_available_now():
    # given
    today = dt.date(2026, 6, 30)

    # then
    assert available("1999-08-22", today) == "即可入驻"
    assert available(None, today) == "即可入驻"
    assert available("2026-07-01", today) == "可入驻 2026-07-01"


# ------------------------------------------------------------------ pages


def _assessment(district) -> StreetAssessmentSnapshot:
    return StreetAssessmentSnapshot.objects.create(
        street=district.street,
        year=2025,
        indicators={"billion_buildings": "10.00", "registration_rate": "97.51"},
        targets={"billion_buildings": "10", "registration_rate": "98"},
        targets_set=2,
        targets_met=1,
        computed_at=timezone.now(),
    )


def test_the_street_assessment_shows_buildings_whole_and_a_missed_rate_below_100_percent(district):
    # given: 10 billion-yuan buildings (target 10: met) and registration 97.51 % against 98 %
    snapshot = _assessment(district)

    # when
    response = district.client("district_admin").get(reverse("web:assessment_detail", args=[snapshot.pk]))

    # then: "10", not "10.00"; 97.51 / 98 = 99.4999 % reads 99.5 %, never 100 %
    body = response.content.decode()
    assert response.status_code == 200
    assert ">10</td>" in body and "10.00" not in body
    assert "99.5%" in body
    assert body.count(">100%<") == 1  # the met target of billion-yuan buildings only


def test_the_desk_reads_a_missed_monthly_target_below_100_percent(district):
    # given: this month's target of 201 m² signed, and 501 (200 m²) signed and verified this month
    lead = district.lead
    lead_transition(lead=lead, to_stage=LeadStage.CONTACTED)
    lead_transition(lead=lead, to_stage=LeadStage.NEGOTIATING)
    today = timezone.localdate()
    signing = signing_complete(lead=lead, building=district.building, units=[district.unit], signed_on=today)
    signing_settle(signing=signing, by=district.users["district_admin"], override_reason="测试:首笔税收已核")
    PromoterTarget.objects.create(
        promoter=district.promoter,
        period_kind=PeriodKind.MONTH,
        period_start=today.replace(day=1),
        signed_area_m2=Decimal("201"),
    )

    # when
    response = district.client("promoter").get(reverse("web:desk"))

    # then: 200 / 201 = 99.502 %, which whole percent would round to a met "100%": it reads 99.5 %
    # and its bar is not marked met
    area = next(r for r in response.context["appraisal"]["rows"] if r["label"] == "签约面积(㎡)")
    assert not area["met"]
    body = response.content.decode()
    assert ">99.5%</span>" in body
    assert 'aria-label="99.5%"' in body


def test_a_building_shows_its_areas_in_wan_square_metres(district):
    # when
    response = district.client("district_admin").get(reverse("web:building", args=[district.building.pk]))

    # then: 甲大厦's 2,000 m² gross and 1,000 m² leasable are 0.20 and 0.10 万㎡
    body = response.content.decode()
    assert "0.20 万㎡" in body and "0.10 万㎡" in body


def _matches(district, role: str, language: str = "zh-hans") -> str:
    client = district.client(role)
    client.cookies["django_language"] = language
    response = client.get(reverse("web:lead_matches", args=[district.lead.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_a_promoter_reads_a_past_availability_as_available_now_and_no_model_version(district):
    # given: 501 could be moved into long ago
    district.unit.available_from = dt.date(1999, 8, 22)
    district.unit.save()

    # when
    body = _matches(district, "promoter")

    # then
    assert "1999-08-22" not in body
    assert "即可入驻" in body
    assert "排序模型版本" not in body


def test_the_district_office_reads_the_ranking_model_version(district):
    # when
    body = _matches(district, "district_admin")

    # then
    assert "排序模型版本" in body


@pytest.mark.parametrize(
    ("language", "own", "foreign"),
    [("zh-hans", "不足之处", "held back by"), ("en", "held back by", "不足之处")],
)
def test_match_reasons_follow_the_chosen_language(district, language, own, foreign):
    # given: 乙中心 is in no preferred street and dearer than the lead's budget of 1 yuan, so its
    # reasons include one "held back by" clause
    district.lead.budget_rent = Decimal("1.00")
    district.lead.save()

    # when
    body = _matches(district, "promoter", language)

    # then: no reason carries the other language's half
    reasons = body.split('<ul class="small">')[1:]
    assert reasons
    assert all(" / " not in chunk.split("</ul>")[0] for chunk in reasons)
    assert own in body
    assert foreign not in body

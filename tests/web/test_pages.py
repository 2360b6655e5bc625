"""The plan dashboard, buildings, matches, policies, appraisal, white paper and exports, through the
Django test client on the small district of conftest.py (figures worked by hand in comments)."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from crm.constants import LeadStage
from crm.models import Enterprise, PromoterTarget
from crm.models.appraisal import PeriodKind
from crm.services.appraisal import appraisal_compute
from crm.services.leads import lead_transition
from crm.services.signings import signing_complete, signing_settle
from crm.services.white_paper import white_paper_generate
from policies.models import ApprovalStatus
from policies.services import case_by_case_propose, policy_create
from tests.factories import BuildingFactory

pytestmark = pytest.mark.django_db


def _row(response, key: str) -> dict:
    return next(row for row in response.context["rows"] if row["key"] == key)


def test_the_dashboard_shows_the_fourteen_indicators_of_the_year(district):
    # when
    response = district.client("district_admin").get(reverse("web:dashboard"), {"year": district.tax_year})

    # then: occupancy = 500 occupied / 3,000 leasable = 16.67%
    assert len(response.context["rows"]) == 14
    assert _row(response, "occupancy_rate")["value"].quantize(Decimal("0.01")) == Decimal("16.67")
    assert 'data-key="featured_buildings"' in response.content.decode()


def test_the_dashboard_holds_each_indicator_against_each_milestone_target(district):
    # when: 2021 is the plan's first milestone, with a gross-area target of 230 万㎡
    response = district.client("district_admin").get(reverse("web:dashboard"), {"year": 2021})

    # then: the gross area 0.5 万㎡ against 230: a gap of −229.5 and 0.2% of the target
    row = _row(response, "gross_area")
    assert row["target"] == Decimal("230")
    assert row["gap"] == Decimal("-229.5")
    assert row["progress"].quantize(Decimal("0.01")) == Decimal("0.22")  # 0.5 / 230 × 100


def test_a_street_officer_sees_the_plan_of_their_own_street(district):
    # when: asking for the other street changes nothing
    response = district.client("street_officer").get(
        reverse("web:dashboard"), {"year": district.tax_year, "street": district.other_street.pk}
    )

    # then: 甲街道 alone: 500 occupied / 1,000 leasable = 50%
    assert response.context["street"] == district.street
    assert _row(response, "occupancy_rate")["value"] == Decimal(50)


def test_the_forecast_ranks_the_open_pipeline(district):
    # when
    response = district.client("district_admin").get(reverse("web:forecast"), HTTP_HX_REQUEST="true")

    # then: the one open lead is counted (its stage has no history yet: rate 0)
    assert response.status_code == 200
    assert len(response.context["rows"]) == 14
    assert response.context["forecast"].leads_counted + response.context["forecast"].leads_unplaced == 1


def test_the_what_if_signs_a_lead_into_a_building(district):
    # when
    response = district.client("district_admin").post(
        reverse("web:what_if"),
        {"year": district.tax_year, "lead_0": district.lead.pk, "building_0": district.building.pk},
    )

    # then: (500 + 200) / 3,000 = 23.33%
    occupancy = next(row for row in response.context["rows"] if str(row["label"]).startswith("企业入驻率"))
    assert occupancy["after"].quantize(Decimal("0.01")) == Decimal("23.33")
    assert occupancy["before"].quantize(Decimal("0.01")) == Decimal("16.67")


def _what_if_buildings(client, year: int, typed: str, **extra) -> str:
    response = client.get(
        reverse("web:dashboard_what_if_buildings"),
        {"year": year, "building_code_2": typed, **extra},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_what_if_finds_buildings_by_code_or_name_as_typed(district):
    # given
    client = district.client("district_admin")

    # when
    by_code = _what_if_buildings(client, district.tax_year, "a0")
    by_name = _what_if_buildings(client, district.tax_year, "中心")
    nothing_typed = _what_if_buildings(client, district.tax_year, " ")

    # then: A001 (甲大厦) by its code's start, B001 (乙中心) by its name; nothing for nothing typed
    assert by_code.strip() == '<option value="A001">甲大厦</option>'
    assert by_name.strip() == '<option value="B001">乙中心</option>'
    assert nothing_typed.strip() == ""


def test_the_what_if_offers_at_most_twenty_buildings(district):
    # given: 25 more buildings whose codes start with C
    for i in range(25):
        BuildingFactory(code=f"C{i:03d}", street=district.street)

    # when
    page = _what_if_buildings(district.client("district_admin"), district.tax_year, "C")

    # then: C000 to C019, in code order
    assert page.count("<option") == 20
    assert '"C000"' in page and '"C019"' in page and '"C020"' not in page


def test_a_street_officers_what_if_offers_only_their_streets_buildings(district):
    # when: the officer of 甲街道 types a code of each street, and asks for the other street
    own = _what_if_buildings(district.client("street_officer"), district.tax_year, "A0")
    other = _what_if_buildings(
        district.client("street_officer"), district.tax_year, "B0", street=district.other_street.pk
    )

    # then: their own A001; never B001 of 乙街道
    assert "A001" in own
    assert "B001" not in other


def test_the_what_if_buildings_lookup_redirects_outside_htmx(district):
    # when
    response = district.client("district_admin").get(reverse("web:dashboard_what_if_buildings"))

    # then
    assert response.status_code == 302


def test_the_what_if_signs_a_lead_into_a_typed_building_code(district):
    # when: the code as the lookup offered it
    response = district.client("district_admin").post(
        reverse("web:what_if"),
        {"year": district.tax_year, "lead_0": district.lead.pk, "building_code_0": "A001"},
    )

    # then: (500 + 200) / 3,000 = 23.33%, as with the building's id
    occupancy = next(row for row in response.context["rows"] if str(row["label"]).startswith("企业入驻率"))
    assert occupancy["after"].quantize(Decimal("0.01")) == Decimal("23.33")


def test_the_building_page_draws_the_units_floor_by_floor(district):
    # when
    response = district.client("promoter").get(reverse("web:building", args=[district.building.pk]))

    # then: floor 6 above floor 5
    floors = [(f["floor"], [u.number for u in f["units"]]) for f in response.context["floors"]]
    assert floors == [(6, ["601"]), (5, ["501", "502"])]


def test_the_tenant_mix_is_for_those_who_read_tenancies(district):
    # when
    promoter = district.client("promoter").get(reverse("web:building", args=[district.building.pk]))
    officer = district.client("street_officer").get(reverse("web:building", args=[district.building.pk]))

    # then: the officer sees one section I tenant on 500 m²; the promoter sees no tenants
    assert promoter.context["mix"] == []
    assert [(m["section"], m["count"], m["area"]) for m in officer.context["mix"]] == [
        ("I", 1, Decimal("500"))
    ]


def test_the_tax_trend_is_for_those_who_read_tax(district):
    # when
    promoter = district.client("promoter").get(reverse("web:building", args=[district.building.pk]))
    officer = district.client("street_officer").get(reverse("web:building", args=[district.building.pk]))

    # then
    assert [d["label"] for d in promoter.context["trend_chart"]["data"]["datasets"]] == ["入驻率(%)"]
    assert "楼宇税收(亿元)" in [d["label"] for d in officer.context["trend_chart"]["data"]["datasets"]]


def test_the_building_list_shows_tier_and_gap_to_the_office(district):
    # when
    response = district.client("district_admin").get(reverse("web:buildings"))

    # then: 甲大厦 paid 2,000,000: below 千万 (10,000,000), 8,000,000 short of it
    row = next(b for b in response.context["rows"] if b.code == "A001")
    assert row.tier.shortfall_yuan == Decimal("8000000")
    assert row.vacancy_rate == Decimal(50)  # 500 vacant of 1,000 leasable


def test_the_lead_page_ranks_buildings_with_a_bar_per_component(district):
    # when
    response = district.client("promoter").get(
        reverse("web:lead_matches", args=[district.lead.pk]), HTTP_HX_REQUEST="true"
    )

    # then
    assert response.status_code == 200
    results = response.context["results"]
    assert results, "the lead fits at least one building"
    assert [c["key"] for c in results[0]["components"]] == [
        "industry",
        "space",
        "price",
        "incentive",
        "quality",
        "district",
        "preference",
    ]


def test_the_excluded_buildings_come_with_their_reasons(district):
    # given: a lead asking for 5,000 m², which no building offers
    district.lead.area_min_m2, district.lead.area_max_m2 = Decimal("5000"), Decimal("6000")
    district.lead.save()

    # when
    response = district.client("promoter").get(
        reverse("web:lead_excluded", args=[district.lead.pk]), HTTP_HX_REQUEST="true"
    )

    # then
    reasons = {e["building_name"]: e["reason"] for e in response.context["excluded"]}
    assert reasons == {"甲大厦": "no_space", "乙中心": "no_space"}


def test_reverse_matching_is_for_officers_and_managers(district):
    # when
    officer = district.client("street_officer").get(
        reverse("web:building_leads", args=[district.building.pk]), HTTP_HX_REQUEST="true"
    )
    promoter = district.client("promoter").get(
        reverse("web:building_leads", args=[district.building.pk]), HTTP_HX_REQUEST="true"
    )

    # then
    assert officer.status_code == 200
    assert promoter.status_code == 403


def test_the_policy_calculator_shows_each_benefit_in_yuan(district):
    # given: a settlement subsidy of 100 yuan per m² in 甲大厦
    policy_create(
        name="入驻补贴",
        valid_from=dt.date(2020, 1, 1),
        scope="building",
        building=district.building,
        benefits=[{"kind": "settlement_subsidy", "yuan_per_m2": Decimal("100")}],
    )

    # when: 300 m²
    response = district.client("promoter").get(
        reverse("web:policy_calculator"),
        {"building": district.building.pk, "area_m2": "300", "on": "2026-01-10", "industry_code": "65"},
    )

    # then: 100 × 300 = 30,000 yuan
    evaluation = response.context["evaluation"]
    assert [o.name for o in evaluation.applied] == ["入驻补贴"]
    assert evaluation.total == Decimal("30000.00")
    # the page writes 30,000 the way the arithmetic does, year by year too (30,000 + 0 + 0)
    page = response.content.decode()
    assert "300 m² × 100 yuan/m² = 30,000" in page
    assert "30,000 + 0 + 0" in page and "30000.00" not in page


def test_the_calculator_counts_a_referral_reward_for_a_referred_lead_and_explains_it(district):
    # given a 50,000 yuan referral reward, and the promoter's lead referred by the tenant 甲软件
    policy_create(
        name="以商招商奖励",
        valid_from=dt.date(2020, 1, 1),
        benefits=[{"kind": "referral_reward", "amount_yuan": Decimal("50000")}],
    )
    district.lead.channel = "tenant_referral"
    district.lead.referred_by = Enterprise.objects.get(name="甲软件有限公司")
    district.lead.save()
    client = district.client("promoter")
    url = reverse("web:policy_calculator")
    asked = {"building": district.building.pk, "area_m2": "300", "on": "2026-01-10", "lead": district.lead.pk}

    # when the calculator opens from the lead, then is asked with and without the referral
    opened = client.get(url, {"lead": district.lead.pk})
    referred = client.get(url, {**asked, "referred": "on"})
    unreferred = client.get(url, asked)

    # then the form starts ticked; a referred company's referrer gets 50,000, an unreferred one nothing
    assert opened.context["form"].initial["referred"] is True
    assert referred.context["evaluation"].total == Decimal("50000.00")
    assert (
        "referral reward of 50,000 yuan = 50,000, paid to the referring tenant" in referred.content.decode()
    )
    assert unreferred.context["evaluation"].total == Decimal("0.00")
    assert "no referring tenant" in unreferred.content.decode()


def test_a_district_admin_approves_a_case_by_case_package(district):
    # given
    district.lead.case_by_case = True
    district.lead.save()
    package = case_by_case_propose(
        lead=district.lead,
        building=district.building,
        name="一事一议:意向软件",
        benefits=[{"kind": "one_off_award", "amount_yuan": Decimal("500000")}],
        valid_from=dt.date(2026, 1, 1),
        by=district.users["promoter"],
    )

    # when
    district.client("district_admin").post(
        reverse("web:policy_review", args=[package.pk]), {"decision": "approve", "note": "同意"}
    )

    # then
    package.refresh_from_db()
    assert package.approval_status == ApprovalStatus.APPROVED


def test_the_appraisal_drill_down_shows_the_points_behind_the_score(district):
    # given: a target of 2 signings in January 2026 and one signing, verified in January (a result)
    lead = district.lead
    lead_transition(lead=lead, to_stage=LeadStage.CONTACTED)
    lead_transition(lead=lead, to_stage=LeadStage.NEGOTIATING)
    signing = signing_complete(
        lead=lead, building=district.building, units=[district.unit], signed_on=dt.date(2026, 1, 10)
    )
    signing_settle(
        signing=signing,
        by=district.users["district_admin"],
        override_reason="测试:首笔税收已核",
        at=timezone.make_aware(dt.datetime(2026, 1, 20, 10)),
    )
    PromoterTarget.objects.create(
        promoter=district.promoter, period_kind=PeriodKind.MONTH, period_start=dt.date(2026, 1, 1), signings=2
    )
    snapshot = next(
        s
        for s in appraisal_compute(period_kind=PeriodKind.MONTH, period_start=dt.date(2026, 1, 1))
        if s.promoter_id == district.promoter.pk
    )

    # when
    response = district.client("promoter").get(reverse("web:appraisal", args=[snapshot.pk]))

    # then: achievement 1 / 2 = 0.5; the only metric with a target, so 100 × 20 × 0.5 / 20 = 50 points
    signings = next(r for r in response.context["rows"] if str(r["label"]) == "签约数")
    assert signings["achievement"] == Decimal("0.5")
    assert signings["points"] == Decimal(50)
    assert '<td class="num">50%</td>' in response.content.decode()
    assert response.context["snapshot"].score == Decimal("50.00")


def test_a_promoter_does_not_open_another_promoters_appraisal(district):
    # given
    snapshots = appraisal_compute(period_kind=PeriodKind.MONTH, period_start=dt.date(2026, 1, 1))
    other = next(s for s in snapshots if s.promoter_id == district.other_promoter.pk)

    # when
    response = district.client("promoter").get(reverse("web:appraisal", args=[other.pk]))

    # then
    assert response.status_code == 404


def test_the_white_paper_is_served_as_a_page(district):
    # given
    white_paper_generate(year=district.tax_year)

    # when
    response = district.client("auditor").get(reverse("web:white_paper", args=[district.tax_year]))

    # then
    assert response.status_code == 200
    assert f"{district.tax_year} 年楼宇经济发展白皮书" in response.content.decode()


def test_the_lead_list_downloads_as_csv_with_a_byte_order_mark(district):
    # when
    response = district.client("promoter").get(reverse("web:leads"), {"export": "csv"})

    # then
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][0] == "线索编号 ref"
    assert [r[1] for r in rows[1:]] == ["意向软件有限公司"]


def test_the_building_list_downloads_as_excel(district):
    # when
    response = district.client("district_admin").get(reverse("web:buildings"), {"export": "xlsx"})

    # then: a header row and the two buildings, in code order
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == ["A001", "B001"]


def test_an_export_holds_only_what_the_user_may_see(district):
    # when
    response = district.client("street_officer").get(reverse("web:buildings"), {"export": "csv"})

    # then
    body = b"".join(response.streaming_content).decode("utf-8")
    assert "A001" in body
    assert "B001" not in body


@pytest.mark.parametrize(
    ("fragment", "page"),
    [
        ("web:lead_matches", "web:lead"),
        ("web:lead_excluded", "web:lead"),
    ],
)
def test_a_fragment_opened_directly_sends_the_browser_to_its_full_page(district, fragment, page):
    # when: a link to the fragment opened in a new tab (no HX-Request header)
    response = district.client("promoter").get(reverse(fragment, args=[district.lead.pk]))

    # then: the lead's page, which loads the fragment itself
    assert response.status_code == 302
    assert response["Location"] == reverse(page, args=[district.lead.pk]) + "#matches"
    full = district.client("promoter").get(response["Location"])
    assert "<html" in full.content.decode()


def test_the_forecast_opened_directly_keeps_its_year_and_street(district):
    # when
    response = district.client("district_admin").get(reverse("web:forecast"), {"year": 2025})

    # then
    assert response["Location"] == reverse("web:dashboard") + "?year=2025#forecast"

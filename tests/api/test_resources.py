"""Buildings, units, matching, policies, industries and indicators as the API serves them."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.data_versions import current_versions
from crm.models import DataVersion, Lead, StoredResult
from crm.services.stored_results import stored_results_recompute
from matching import adapter
from policies.services import policy_create
from tests.api.conftest import api_client, industry

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------- buildings and units


def _building(client, world, year=2023) -> dict:
    return client.get(f"/api/v1/buildings/{world.building.pk}/?year={year}").json()


def test_a_building_shows_its_vacant_area_and_units(world):
    # when
    body = _building(api_client(world, "agency"), world)
    # then units 501 (200 m²) and 502 (300 m²) are vacant, 503 is leased: 200 + 300 = 500 m² in 2 units
    assert (body["vacant_area_m2"], body["vacant_units"]) == ("500.00", 2)


def test_an_agency_sees_the_tier_but_not_the_tenants_tax(world):
    # when
    body = _building(api_client(world, "agency"), world)
    # then 9,000,000 yuan is within 20% below 10,000,000 (8,000,000 and up): near 千万元楼
    assert body["tax_tier"] == {"year": 2023, "tier": "near_ten_million", "next_tier": "ten_million"}


def test_the_office_sees_the_tax_and_what_the_building_lacks(world):
    # when
    body = _building(api_client(world, "district_admin"), world)
    # then 10,000,000 − 9,000,000 = 1,000,000 yuan short of 千万元楼
    assert body["tax_tier"] == {
        "year": 2023,
        "tier": "near_ten_million",
        "next_tier": "ten_million",
        "tax_yuan": "9000000.00",
        "shortfall_yuan": "1000000.00",
    }


def test_the_building_list_tiers_by_the_last_year_with_tax_records_by_default(world):
    # when no year is asked for (the only tax records are of 2023, before last year)
    body = api_client(world, "agency").get("/api/v1/buildings/?street=府山街道").json()
    # then the tier is 2023's (9,000,000 yuan: near 千万元楼), not "none" for a year without tax
    assert body["results"][0]["tax_tier"] == {
        "year": 2023,
        "tier": "near_ten_million",
        "next_tier": "ten_million",
    }


def test_a_billion_yuan_building_is_a_billion_tier_in_the_default_year(world):
    # given 金融大厦's only tenant paid 120,000,000 yuan in 2023, the last year with tax records
    world.tax.amount_yuan = Decimal("120000000")
    world.tax.save()

    # when the office lists the street's buildings without naming a year
    body = api_client(world, "district_admin").get("/api/v1/buildings/?street=府山街道").json()

    # then 120,000,000 ≥ 100,000,000 is 亿元楼 (no higher tier, nothing lacking), tax exact to the fen
    assert body["results"][0]["tax_tier"] == {
        "year": 2023,
        "tier": "billion",
        "next_tier": None,
        "tax_yuan": "120000000.00",
        "shortfall_yuan": "0.00",
    }


def test_buildings_filter_by_street_and_vacant_area(world):
    # when
    body = api_client(world, "agency").get("/api/v1/buildings/?street=府山街道&vacant_area_min=400").json()
    # then only B0001 (500 m² vacant) is in 府山街道; B0002 has 150 m²
    assert [b["code"] for b in body["results"]] == ["B0001"]


def test_a_buildings_units_filter_by_status(world):
    # when
    body = (
        api_client(world, "agency").get(f"/api/v1/buildings/{world.building.pk}/units/?status=vacant").json()
    )
    # then
    assert [u["number"] for u in body["results"]] == ["501", "502"]


def test_a_bad_year_is_a_400(world):
    # when
    response = api_client(world, "agency").get("/api/v1/buildings/?year=abc")
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["year"]


# ---------------------------------------------------------------------------- matching


@pytest.fixture
def matchable(world):
    adapter.cache_clear()
    for lead in (world.lead, world.agency_lead):
        lead.industry = industry("65")
        lead.expected_annual_tax = Decimal("5000000")
        lead.save()
    yield world
    adapter.cache_clear()


def test_a_lead_gets_ranked_buildings_with_the_model_version(matchable):
    # when
    body = api_client(matchable, "promoter").get(f"/api/v1/leads/{matchable.lead.pk}/matches/?limit=1").json()
    # then the building of its preferred street comes first, offering 200 m² (unit 501) for 150–300 m²
    assert body["model_version"] == 0
    assert len(body["results"]) == 1
    best = body["results"][0]
    assert (best["building_id"], best["offer"]["units"], best["offer"]["area_m2"]) == (
        matchable.building.pk,
        ["501"],
        200.0,
    )
    assert set(best["components"]) >= {"industry", "space", "price", "incentive", "district", "preference"}


def test_an_agency_does_not_get_the_tax_behind_a_reason(matchable):
    # given the other building has the lead's division as its main industry, which lifts its district
    # component (the plan's clustering) far enough to be a reason, and what the office reads
    matchable.other_building.main_industry = industry("65")
    matchable.other_building.save()
    office = api_client(matchable, "district_admin").get(f"/api/v1/leads/{matchable.agency_lead.pk}/matches/")
    # when
    agency = api_client(matchable, "agency").get(f"/api/v1/leads/{matchable.agency_lead.pk}/matches/")
    # then the same buildings, without any reason quoting the buildings' tax (which the office reads)
    assert any(reason["component"] == "district" for r in office.json()["results"] for reason in r["reasons"])
    assert [r["building_id"] for r in agency.json()["results"]] == [
        r["building_id"] for r in office.json()["results"]
    ]
    assert all(reason["component"] != "district" for r in agency.json()["results"] for reason in r["reasons"])


def test_reasons_come_in_the_language_asked(matchable):
    # when
    body = (
        api_client(matchable, "promoter")
        .get(f"/api/v1/leads/{matchable.lead.pk}/matches/?limit=1", HTTP_ACCEPT_LANGUAGE="en")
        .json()
    )
    # then
    texts = [reason["text"] for reason in body["results"][0]["reasons"]]
    assert texts == ["in a preferred street (府山街道)", "offers 200 m² (floor 5: 501) for 150–300 m² asked"]


def test_a_lead_without_an_industry_cannot_be_matched(world):
    # when
    response = api_client(world, "promoter").get(f"/api/v1/leads/{world.lead.pk}/matches/")
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["industry"]


def test_a_building_manager_sees_the_demand_but_not_who(matchable):
    # when
    manager = api_client(matchable, "building_manager").get(
        f"/api/v1/buildings/{matchable.building.pk}/lead-matches/"
    )
    officer = api_client(matchable, "street_officer").get(
        f"/api/v1/buildings/{matchable.building.pk}/lead-matches/"
    )
    # then the manager gets the ranked demand anonymously; the street's officer sees its own street's lead
    assert manager.status_code == officer.status_code == 200
    assert manager.json()["results"] and all(r["lead"] is None for r in manager.json()["results"])
    seen = [r["lead"]["company_name"] for r in officer.json()["results"] if r["lead"]]
    assert seen == ["甲科技有限公司"]


# ---------------------------------------------------------------------------- policies


def test_the_what_if_calculator_gives_the_amounts(world):
    # given a settlement subsidy of 100 yuan per m² in the district
    policy_create(
        name="入驻补贴",
        valid_from=dt.date(2020, 1, 1),
        benefits=[{"kind": "settlement_subsidy", "yuan_per_m2": "100"}],
    )
    # when
    response = api_client(world, "agency").post(
        "/api/v1/policies/evaluate/",
        {
            "profile": {"industry_code": "65"},
            "building": world.building.pk,
            "offer": {"area_m2": "300", "on": "2026-01-01"},
        },
        format="json",
    )
    # then 100 yuan × 300 m² = 30,000 yuan, paid in year 1
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["years"][0]) == ("30000.00", "30000.00")
    assert [p["name"] for p in body["applied"]] == ["入驻补贴"]


def test_the_what_if_calculator_counts_a_referral_reward_only_when_referred(world):
    # given 10% of the first year's retained tax as a referral reward, at most 100,000
    policy_create(
        name="以商招商奖励",
        valid_from=dt.date(2020, 1, 1),
        benefits=[{"kind": "referral_reward", "percent": "10", "cap_yuan": "100000"}],
    )

    def asked(**profile):
        return api_client(world, "agency").post(
            "/api/v1/policies/evaluate/",
            {
                "profile": {"expected_annual_tax": "2000000", **profile},
                "building": world.building.pk,
                "offer": {"area_m2": "300", "on": "2026-01-01"},
            },
            format="json",
        )

    # when asked for a referred company and for one nobody referred
    referred, unreferred = asked(referred=True).json(), asked().json()

    # then 2,000,000 × 40% × 10% = 80,000 to the referrer in year 1; nothing without one
    benefit = referred["applied"][0]["benefits"][0]
    assert (referred["total"], referred["years"][:2]) == ("80000.00", ["80000.00", "0.00"])
    assert (benefit["kind"], benefit["beneficiary"]) == ("referral_reward", "referrer")
    assert unreferred["total"] == "0.00"


def test_the_what_if_calculator_refuses_an_unknown_industry(world):
    # when
    response = api_client(world, "agency").post(
        "/api/v1/policies/evaluate/",
        {"profile": {"industry_code": "ZZ"}, "building": world.building.pk, "offer": {"area_m2": "100"}},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["industry_code"]


def test_an_agency_does_not_see_another_leads_case_by_case_package(full_world):
    # when
    agency = api_client(full_world, "agency").get("/api/v1/policies/").json()
    office = api_client(full_world, "district_admin").get("/api/v1/policies/").json()
    # then
    assert [p["name"] for p in agency["results"]] == ["入驻补贴"]
    assert sorted(p["name"] for p in office["results"]) == sorted(["入驻补贴", "乙贸易一事一议"])


# ---------------------------------------------------------------------------- industries and indicators


def test_industries_filter_by_level(world):
    # when
    body = api_client(world, "agency").get("/api/v1/industries/?level=section&page_size=100").json()
    # then GB/T 4754-2017 has 20 sections, A to T
    assert body["count"] == 20
    assert (body["results"][0]["code"], body["results"][-1]["code"]) == ("A", "T")


def test_a_business_scope_suggests_its_division(full_world):
    # when
    response = api_client(full_world, "agency").post(
        "/api/v1/industries/suggest/", {"text": "软件开发 信息技术咨询", "top": 2}, format="json"
    )
    # then
    assert response.status_code == 200
    assert response.json()[0]["code"] == "65"
    assert len(response.json()) == 2


def test_a_street_officer_reads_the_indicators_of_their_street(world):
    # when
    body = api_client(world, "street_officer").get("/api/v1/indicators/?year=2023&street=府山街道").json()
    # then 府山街道 has one building of 10,000 m² gross: 1 万㎡
    values = {row["key"]: row["value"] for row in body["results"]}
    assert len(values) == 14
    assert values["gross_area"] == "1.000000"  # exact to 0.01 m²


def test_a_streets_indicators_in_the_api_stand_beside_the_streets_targets(world):
    # given: 府山街道's own 2023 gross-area target of 2 万㎡ (the district's 2023 target is 250)
    from crm.services.assessment import street_target_set

    street = world.building.street
    street_target_set(street=street, year=2023, key="gross_area", value=Decimal(2))
    # when
    body = api_client(world, "district_admin").get("/api/v1/indicators/?year=2023&street=府山街道").json()
    # then 1 − 2 = −1 万㎡; the leasable area has no street target, so no target and no gap
    rows = {row["key"]: row for row in body["results"]}
    assert (rows["gross_area"]["target"], rows["gross_area"]["gap"]) == ("2.00", "-1.000000")
    assert (rows["leasable_area"]["target"], rows["leasable_area"]["gap"]) == (None, None)


def test_the_indicators_default_to_the_last_year_with_tax_records(world):
    # when no year is asked for (today is later than 2024; the only tax records are of 2023)
    body = api_client(world, "district_admin").get("/api/v1/indicators/").json()
    # then 2023, not last year: 金融大厦's 9,000,000 + 科创大厦's 500,000 = 0.095 亿元
    assert body["year"] == 2023
    assert {row["key"]: row["value"] for row in body["results"]}["building_tax"] == "0.0950000000"


def _building_tax(body: dict) -> str:
    return {row["key"]: row["value"] for row in body["results"]}["building_tax"]


def test_the_indicators_are_the_stored_figures_with_when_they_were_computed(world):
    # given the year's figures stored by a worker: 9,000,000 + 500,000 yuan = 0.095 亿元
    stored_results_recompute(group="indicators")
    computed_at = StoredResult.objects.get(kind="year_figures", key="2023").computed_at
    client = api_client(world, "district_admin")
    # when 金融大厦's tax becomes 10,000,000 yuan and its commit advances the data version, before
    # any worker has recomputed the figures
    world.tax.amount_yuan = Decimal("10000000")
    world.tax.save()
    DataVersion.objects.update_or_create(
        name="indicators", defaults={"value": current_versions()["indicators"] + 1}
    )
    before = client.get("/api/v1/indicators/?year=2023").json()
    stored_results_recompute(group="indicators")
    after = client.get("/api/v1/indicators/?year=2023").json()
    # then the API says its figures are older than the data, exact as stored, until they are
    # recomputed: 10,000,000 + 500,000 = 0.105 亿元
    assert dt.datetime.fromisoformat(before["as_of"]["computed_at"]) == computed_at
    assert before["as_of"]["stale"] is True
    assert _building_tax(before) == "0.0950000000"
    assert after["as_of"]["stale"] is False
    assert _building_tax(after) == "0.1050000000"


def test_indicators_of_a_year_never_computed_are_queued_and_answered_503(world, settings):
    # given workers compute stored results (no computing on a request) and nobody asked for 2022
    settings.STORED_RESULTS_COMPUTE_MISSING = False
    # when
    response = api_client(world, "district_admin").get("/api/v1/indicators/?year=2022")
    # then the year is wanted by the next recomputation, and the client told when to come back
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert StoredResult.objects.filter(kind="year_figures", key="2022", payload__isnull=True).exists()


def test_the_indicators_of_an_unknown_street_are_a_400(world):
    # when
    response = api_client(world, "district_admin").get("/api/v1/indicators/?year=2023&street=不存在")
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["street"]


def test_enterprises_of_a_building_managers_building_only(world):
    # when
    body = api_client(world, "building_manager").get("/api/v1/enterprises/").json()
    # then
    assert [e["name"] for e in body["results"]] == ["府山软件有限公司"]
    assert Lead.objects.count() == 4  # nothing written by reading


def test_a_building_above_the_budget_is_listed_with_how_far_above_and_says_so(matchable):
    # given: a budget of 2.00 yuan/m²/day, below every unit's asking rent (2.50)
    matchable.lead.budget_rent = Decimal("2.00")
    matchable.lead.save()
    # when
    body = (
        api_client(matchable, "promoter")
        .get(f"/api/v1/leads/{matchable.lead.pk}/matches/", HTTP_ACCEPT_LANGUAGE="en")
        .json()
    )
    # then: both buildings are still listed; each carries its exact overshoot after rent relief
    assert len(body["results"]) == 2 and "over_budget" not in body["excluded_counts"]
    for result in body["results"]:
        effective = result["offer"]["effective_rent"]
        assert result["over_budget"] == pytest.approx(effective / 2.00 - 1, abs=1e-4)
        price = [r["text"] for r in result["reasons"] if r["component"] == "price"]
        assert len(price) == 1 and f"{result['over_budget']:.0%} over budget" in price[0]

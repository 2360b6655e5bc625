"""Scores on hand-built districts where the right order and the differences are worked out by hand."""

import datetime as dt

import numpy as np
import pytest

from matching.core.explain import explain_buildings, explain_leads
from matching.core.features import components, features
from matching.core.incentives import PolicyIncentives
from matching.core.rank import rank_buildings, rank_leads
from matching.core.types import COMPONENTS, MAIN_DIVISION, MAIN_NONE, LeadTable, NoIncentives, weight_vector
from policies.engine import BenefitKind, BenefitTerms, PolicyBook, PolicyTerms, Scope
from tests.matching.districts import HandDistrict, lead

WEIGHTS = weight_vector()


def by_id(snap, scores) -> dict[int, float]:
    return dict(zip(snap.buildings.id[scores.order].tolist(), scores.scores.tolist(), strict=True))


def test_the_same_industry_cluster_building_outranks_an_otherwise_equal_one():
    # given: two equal buildings; one's tenants are all in 72 (the lead's division), the other's in 51
    d = HandDistrict()
    cluster, other = d.building("商务楼"), d.building("贸易楼")
    for b in (cluster, other):
        d.unit(b, area=200, rent=2.5)
    d.tenant(cluster, "72", area=500)
    d.tenant(other, "51", area=500)
    snap = d.snapshot()
    # when
    scores = rank_buildings(snap, lead("72"), weights=WEIGHTS, incentives=NoIncentives())
    # then: tenant fit 1 against relatedness(72, 51) = 0 (different sections, no shared building):
    #   industry weight 0.30 × (1 − 0) = 0.30 apart, every other component equal
    result = by_id(snap, scores)
    assert snap.buildings.id[scores.order].tolist() == [cluster + 1, other + 1]
    assert result[cluster + 1] - result[other + 1] == pytest.approx(0.30)


def test_a_designated_main_industry_of_the_same_division_beats_the_same_section():
    # given: empty buildings designated 72 and 71 (both section L) for a 72 lead
    d = HandDistrict()
    same, section = d.building(main="72"), d.building(main="71")
    d.unit(same, area=200)
    d.unit(section, area=200)
    snap = d.snapshot()
    # when
    scores = rank_buildings(snap, lead("72"), weights=WEIGHTS, incentives=NoIncentives())
    # then: industry = 0.5 × designation; 0.5 × (1.0 − 0.6) × 0.30 = 0.06,
    #       district goal strengthens the main industry only for 72: (1/4) × 0.15 = 0.0375
    result = by_id(snap, scores)
    assert result[same + 1] - result[section + 1] == pytest.approx(0.06 + 0.0375)


def test_an_incentive_changes_the_order_by_the_expected_amount():
    # given: two equal 200 m² offers, A at 2.60 and B at 2.50 yuan/m²/day, a 72 lead with budget 3.00
    #   both within budget; saving = (3.00 − rent) / 1.50: A 0.4/1.5, B 0.5/1.5
    #   → B ahead by 0.15 × 0.8 × 0.1/1.5 = 0.008
    d = HandDistrict()
    a, b = d.building("甲楼"), d.building("乙楼")
    d.unit(a, area=200, rent=2.60)
    d.unit(b, area=200, rent=2.50)
    snap = d.snapshot()
    before = by_id(snap, rank_buildings(snap, lead(budget=3.0), weights=WEIGHTS, incentives=NoIncentives()))
    # a one-off award of 60,000 yuan in A: incentive = 60,000 / (200 × 2.60 × 365 × 3) = 60,000 / 569,400
    award = PolicyTerms(
        id=7,
        name="入驻奖励",
        scope=Scope.BUILDING,
        scope_id=a + 1,
        valid_from=dt.date(2020, 1, 1),
        benefits=(BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=60_000),),
    )
    incentives = PolicyIncentives(PolicyBook([award], tax_retained_share=0.4), snap.buildings)
    # when
    after_scores = rank_buildings(snap, lead(budget=3.0), weights=WEIGHTS, incentives=incentives)
    after = by_id(snap, after_scores)
    # then
    # saving (3.00 − rent) / 1.50 is half of price's 0.15: 0.15 × 0.5 × 0.10 / 1.50 apart
    assert before[b + 1] - before[a + 1] == pytest.approx(0.15 * 0.5 * 0.1 / 1.5)
    assert after[a + 1] - after[b + 1] == pytest.approx(0.10 * 60_000 / 569_400 - 0.15 * 0.5 * 0.1 / 1.5)
    assert snap.buildings.id[after_scores.order].tolist() == [a + 1, b + 1]
    top = explain_buildings(snap, after_scores, incentives=incentives, limit=1)[0]
    assert top.incentive_3y == pytest.approx(60_000)
    assert top.incentives[0]["name"] == "入驻奖励"
    assert top.reasons[0].component == "incentive"


def test_the_incentive_reason_writes_the_amount_as_the_card_does():
    # given a one-off award of 123,456.78 yuan in 甲楼, none in the otherwise equal 乙楼
    d = HandDistrict()
    a, b = d.building("甲楼"), d.building("乙楼")
    d.unit(a, area=200, rent=2.60)
    d.unit(b, area=200, rent=2.60)
    award = PolicyTerms(
        id=8,
        name="入驻奖励",
        scope=Scope.BUILDING,
        scope_id=a + 1,
        valid_from=dt.date(2020, 1, 1),
        benefits=(BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=123_456.78),),
    )
    snap = d.snapshot()
    incentives = PolicyIncentives(PolicyBook([award], tax_retained_share=0.4), snap.buildings)
    scores = rank_buildings(snap, lead(budget=3.0), weights=WEIGHTS, incentives=incentives)

    # when
    top = explain_buildings(snap, scores, incentives=incentives, limit=1)[0]

    # then to the fen, as the yuan filter writes the card's 123,456.78 (not a rounded "123,457")
    (reason,) = [r for r in top.reasons if r.component == "incentive"]
    assert "123,456.78" in reason.text


def test_each_result_explains_its_contributions_and_offer():
    # given
    d = HandDistrict()
    b = d.building(main="72", star=4, services=2, featured="headquarters")
    unit = d.unit(b, area=225, rent=2.0, number="1201", floor=12)
    snap = d.snapshot()
    # when
    scores = rank_buildings(
        snap, lead("72", area=(150, 300), budget=3.0), weights=WEIGHTS, incentives=NoIncentives()
    )
    result = explain_buildings(snap, scores, incentives=NoIncentives(), limit=5)[0]
    # then: quality = 0.5 × 4/5 + 0.3 × 2/3 + 0.2 = 0.8; space = 1 (the middle); contribution = weight × value
    assert result.components["quality"] == pytest.approx(0.8)
    assert result.components["space"] == pytest.approx(1.0)
    assert result.contributions["quality"] == pytest.approx(0.10 * 0.8)
    assert sum(result.contributions.values()) == pytest.approx(result.score)
    assert result.offer.unit_ids == [unit] and result.offer.units == ["1201"] and result.offer.floor == 12
    assert result.offer.area_m2 == 225 and result.offer.rent == 2.0


def test_components_follow_their_formulas():
    # given: lead 72, 150–300 m², budget 3.00, 2,000,000 yuan expected tax; the building designated 72
    #   with tenants all 72, 3 stars, 1 service, not featured, 500 yuan/m² tax, 5,000,000 short of a tier;
    #   offer 2 units, 250 m² at 2.40, incentives 26,280 yuan; no preferred street
    x = features(
        lead_division=71,
        lead_section=11,
        area_min=150.0,
        area_max=300.0,
        budget=3.0,
        district_tax=2_000_000.0,
        entry_intentions=1.0,
        has_preference=False,
        preferred=False,
        main_kind=np.array([MAIN_DIVISION]),
        main_index=np.array([71]),
        main_section_of_division=np.array([11]),
        related_main=np.array([1.0]),
        tenant_fit=np.array([1.0]),
        star=3.0,
        services=1.0,
        featured=False,
        tax_per_m2=500.0,
        shortfall=5_000_000.0,
        offer_area=np.array([250.0]),
        offer_units=np.array([2]),
        offer_rent=np.array([2.40]),
        offer_effective_rent=np.array([2.40]),
        incentive_3y=np.array([26_280.0]),
    )
    value = dict(zip(COMPONENTS, components(x)[0], strict=True))
    # then
    assert value["industry"] == pytest.approx(1.0)
    # space: middle 225, half-width 75: 1 − 0.5 × 25/75 = 0.8333, × 0.95 for the second unit (0.8),
    #   inside the range (0.2 × 1)
    assert value["space"] == pytest.approx(0.8 * (1 - 0.5 * 25 / 75) * 0.95 + 0.2)
    # price: both within-budget ramps 1; saving (3.00 − 2.40) / 1.50 = 0.4: 0.25 + 0.25 + 0.5 × 0.4 = 0.7
    assert value["price"] == pytest.approx(0.7)
    # incentive: 26,280 / (250 × 2.40 × 365 × 3) = 26,280 / 657,000 = 0.04
    assert value["incentive"] == pytest.approx(0.04)
    # quality: 0.5 × 3/5 + 0.3 × 1/3 + 0 = 0.4
    assert value["quality"] == pytest.approx(0.4)
    # district: lead 8,000/m² vs 500 → 8000/8500; gap 2,000,000/5,000,000 = 0.4; strengthens 1;
    #   all three entry intentions 1
    assert value["district"] == pytest.approx((8000 / 8500 + 0.4 + 1 + 1) / 4)
    assert value["preference"] == pytest.approx(0.5)


def test_a_preferred_street_counts_and_no_preference_is_neutral():
    # given
    d = HandDistrict()
    east, west = d.building(street=1), d.building(street=2)
    d.unit(east, area=200)
    d.unit(west, area=200)
    snap = d.snapshot()
    # when
    prefers = rank_buildings(snap, lead(preferred_streets=(2,)), weights=WEIGHTS, incentives=NoIncentives())
    indifferent = rank_buildings(snap, lead(), weights=WEIGHTS, incentives=NoIncentives())
    # then: preference weight 0.05 × (1 − 0) apart; equal (0.5 each) without a preference
    assert snap.buildings.id[prefers.order].tolist() == [west + 1, east + 1]
    assert prefers.scores[0] - prefers.scores[1] == pytest.approx(0.05)
    assert indifferent.scores[0] == pytest.approx(indifferent.scores[1])


def test_equal_scores_are_ordered_by_building_id():
    # given
    d = HandDistrict()
    rows = [d.building() for _ in range(3)]
    for row in reversed(rows):
        d.unit(row, area=200)
    snap = d.snapshot()
    # when
    scores = rank_buildings(snap, lead(), weights=WEIGHTS, incentives=NoIncentives())
    # then
    assert snap.buildings.id[scores.order].tolist() == [1, 2, 3]


def test_a_building_ranks_a_lead_with_the_same_score_as_the_lead_ranks_the_building():
    # given
    d = HandDistrict()
    b = d.building(main="65", star=2)
    d.unit(b, area=180, rent=2.2)
    d.unit(b, area=90, rent=2.0, number="502")
    d.tenant(b, "65", area=300)
    d.tenant(b, "64", area=100)
    snap = d.snapshot()
    queries = [
        lead("65", lead_id=1),
        lead("64", lead_id=2, budget=None),
        lead("72", lead_id=3, expected_tax=1e6),
    ]
    # when
    backwards = rank_leads(snap, b, LeadTable.of(queries), weights=WEIGHTS, incentives=NoIncentives())
    # then
    for row, score in zip(backwards.order.tolist(), backwards.scores.tolist(), strict=True):
        forwards = rank_buildings(snap, queries[row], weights=WEIGHTS, incentives=NoIncentives())
        assert forwards.scores[0] == pytest.approx(score)


def test_leads_for_one_unit_are_offered_only_space_that_contains_it():
    # given: a 72 lead wanting 150–250 m² and a 65 lead wanting 300–400; unit A 200 m², unit B 150 m²
    d = HandDistrict()
    b = d.building()
    a = d.unit(b, area=200, number="501")
    d.unit(b, area=150, number="502")
    snap = d.snapshot()
    table = LeadTable.of([lead("72", lead_id=1, area=(150, 250)), lead("65", lead_id=2, area=(300, 400))])
    unit_row = int(np.flatnonzero(snap.units.id == a)[0])
    # when
    for_unit = rank_leads(snap, b, table, weights=WEIGHTS, incentives=NoIncentives(), unit=unit_row)
    # then: lead 1 gets 501 alone; lead 2 gets 501 + 502 = 350 m², which contains the unit
    offers = {int(table.id[r]): snap.offers.units_of(int(for_unit.offer[r])) for r in for_unit.order}
    assert sorted(offers) == [1, 2]
    assert snap.units.id[offers[1]].tolist() == [a]
    assert a in snap.units.id[offers[2]].tolist()


def test_the_diversity_penalty_moves_a_lead_that_tops_every_list_below_an_equal_one():
    # given: two leads with equal scores for the building; lead 1 is on every sampled top list
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=200)
    snap = d.snapshot()
    table = LeadTable.of([lead("72", lead_id=1), lead("72", lead_id=2)])
    # when
    plain = rank_leads(snap, b, table, weights=WEIGHTS, incentives=NoIncentives())
    penalised = rank_leads(
        snap, b, table, weights=WEIGHTS, incentives=NoIncentives(), exposure=np.array([1.0, 0.0]), penalty=0.1
    )
    # then: equal scores go by id without a penalty; with it, lead 1 loses 0.1 × 1.0
    assert table.id[plain.order].tolist() == [1, 2]
    assert table.id[penalised.order].tolist() == [2, 1]
    assert penalised.penalty.tolist() == [0.0, 0.1]
    explained = explain_leads(snap, penalised, table, limit=2)
    assert explained[1].final_score == pytest.approx(explained[1].score - 0.1)


def test_a_building_with_no_main_industry_is_judged_by_its_tenants_alone():
    # given
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=200)
    d.tenant(b, "72", area=300)
    d.tenant(b, "65", area=100)
    snap = d.snapshot()
    # when
    scores = rank_buildings(snap, lead("72"), weights=WEIGHTS, incentives=NoIncentives())
    # then: 3/4 of the area is 72 (relatedness 1) and 1/4 is 65. The one building is specialised in
    #   both (each is half of its tenants and half of the district's: RCA 1), so N_72 = N_65 = N_both = 1,
    #   φ = 1, evidence 1, sections differ (prior 0): R(72, 65) = 1 × 1 / (1 + 5) = 1/6
    assert snap.buildings.main_kind[b] == MAIN_NONE
    assert scores.components[0][0] == pytest.approx(0.75 * 1 + 0.25 / 6)

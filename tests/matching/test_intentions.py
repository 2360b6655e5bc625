"""The plan's entry intentions in the ranking: tax counts only from a company that pays it here, a
lead short of the threshold ranks lower (never filtered out), and policies see each lead's own."""

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from matching.core.explain import explain_buildings, explain_leads
from matching.core.incentives import PolicyIncentives
from matching.core.learn import Outcome, fit_weights
from matching.core.rank import rank_buildings, rank_leads
from matching.core.types import FEATURE_NAMES, LeadTable, NoIncentives, score_scale, weight_vector
from policies.engine import BenefitKind, BenefitTerms, PolicyBook, PolicyTerms, Scope
from tests.matching.districts import HandDistrict, lead

WEIGHTS = weight_vector()
TAX_PER_M2 = FEATURE_NAMES.index("district.tax_per_m2")
TIER_GAP = FEATURE_NAMES.index("district.tier_gap")
ENTRY = FEATURE_NAMES.index("district.entry_intentions")
FROM = dt.date(2020, 1, 1)


def one_building(**unit):
    """A building without a main industry: one 200 m² unit at 2.50, 1,000 yuan/m² tax last year,
    2,000,000 yuan short of its next tier."""
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=200, rent=2.5, **unit)
    return b, d.snapshot(tax_per_m2=np.array([1000.0]), shortfall=np.array([2_000_000.0]))


def taxpayer(lead_id: int, **intentions):
    return replace(lead("72", lead_id=lead_id, expected_tax=1_000_000.0), **intentions)


def test_a_lead_that_pays_tax_elsewhere_adds_no_tax_to_the_reverse_rankings_goal_part():
    # given: twins expecting 1,000,000 yuan a year; lead 2 will pay it elsewhere
    b, snap = one_building()
    leads = LeadTable.of([taxpayer(1), taxpayer(2, pays_tax_in_district=False)])
    # when
    scores = rank_leads(snap, b, leads, weights=WEIGHTS, incentives=NoIncentives())
    shown = {r.lead_id: r for r in explain_leads(snap, scores, leads, limit=5)}
    # then: lead 1 at 200 m²: 1,000,000 / 200 = 5,000 yuan/m² against 1,000 → lift 5000/6000 = 5/6;
    #   gap 1,000,000 / 2,000,000 = 0.5; no main industry 0; all three intentions 1:
    #   district = (5/6 + 0.5 + 0 + 1) / 4 = 0.583333, contribution 0.15 × that = 0.0875.
    #   Lead 2: no tax here, so lift 0 and gap 0; two intentions of three: district = (2/3) / 4 = 1/6,
    #   contribution 0.025
    assert leads.id[scores.order].tolist() == [1, 2]
    features = dict(zip(leads.id[scores.order].tolist(), scores.features, strict=True))
    assert features[1][TAX_PER_M2] == pytest.approx(5 / 6) and features[1][TIER_GAP] == pytest.approx(0.5)
    assert features[2][TAX_PER_M2] == 0.0 and features[2][TIER_GAP] == 0.0
    # (the explanation gives components to 6 decimals)
    assert shown[1].components["district"] == pytest.approx((5 / 6 + 0.5 + 1) / 4, abs=1e-6)
    assert shown[1].contributions["district"] == pytest.approx(0.0875, abs=1e-6)
    assert shown[2].components["district"] == pytest.approx(1 / 6, abs=1e-6)
    assert shown[2].contributions["district"] == pytest.approx(0.025, abs=1e-6)
    assert scores.scores[0] - scores.scores[1] == pytest.approx(0.0875 - 0.025)
    district_text = next(r.text for r in shown[2].reasons if r.component == "district")
    assert "不在区内纳税" in district_text and "pay tax" in district_text


def test_a_lead_that_will_not_register_here_ranks_below_its_twin_but_is_still_listed():
    # given: twins without expected tax; lead 1 (the lower id, first on a tie) will register elsewhere
    b, snap = one_building()
    leads = LeadTable.of([replace(lead("72", lead_id=1), registers_in_district=False), lead("72", lead_id=2)])
    # when
    scores = rank_leads(snap, b, leads, weights=WEIGHTS, incentives=NoIncentives())
    # then: one intention of three missing costs 0.15 × 1/4 × 1/3 = 0.0125, and no filter removes it
    assert leads.id[scores.order].tolist() == [2, 1]
    assert scores.scores[0] - scores.scores[1] == pytest.approx(0.0125)
    assert (scores.reason < 0).all()


def test_forward_and_reverse_give_a_lead_short_of_the_threshold_the_same_score():
    # given
    b, snap = one_building()
    query = taxpayer(1, pays_tax_in_district=False, settles_in_district=False)
    # when
    backwards = rank_leads(snap, b, LeadTable.of([query]), weights=WEIGHTS, incentives=NoIncentives())
    forwards = rank_buildings(snap, query, weights=WEIGHTS, incentives=NoIncentives())
    # then: the district part is (1/3) / 4 either way
    assert forwards.scores[0] == pytest.approx(backwards.scores[0])
    assert forwards.components[0][5] == pytest.approx(1 / 12)


def intention_book() -> PolicyBook:
    return PolicyBook(
        [
            PolicyTerms(
                1,
                "区内注册入驻补贴",
                Scope.DISTRICT,
                FROM,
                (BenefitTerms(BenefitKind.SETTLEMENT_SUBSIDY, yuan_per_m2=100),),
                condition="registers_in_district",
            ),
            PolicyTerms(
                2,
                "区内纳税奖励",
                Scope.DISTRICT,
                FROM,
                (BenefitTerms(BenefitKind.TAX_REWARD, percent=50, years=3),),
                condition="pays_tax_in_district and expected_annual_tax >= 1000000",
            ),
        ],
        tax_retained_share=0.4,
    )


def test_policies_conditioned_on_the_intentions_pay_only_leads_that_state_them():
    # given: 1,000,000 yuan a year at 200 m²; registering here pays 200 × 100 = 20,000 once;
    #   paying tax here pays 1,000,000 × 40 % retained × 50 % = 200,000 a year, 600,000 over three years
    b, snap = one_building()
    source = PolicyIncentives(intention_book(), snap.buildings)
    leads = LeadTable.of(
        [
            taxpayer(1),
            taxpayer(2, pays_tax_in_district=False),
            taxpayer(3, registers_in_district=False),
        ]
    )
    # when
    scores = rank_leads(snap, b, leads, weights=WEIGHTS, incentives=source)
    # then
    incentive = dict(zip(leads.id[scores.order].tolist(), scores.incentive_3y.tolist(), strict=True))
    assert incentive == {1: 620_000.0, 2: 20_000.0, 3: 600_000.0}


def test_the_match_card_of_a_lead_that_pays_tax_elsewhere_lists_no_tax_reward():
    # given
    b, snap = one_building()
    source = PolicyIncentives(intention_book(), snap.buildings)
    query = taxpayer(1, pays_tax_in_district=False)
    # when
    scores = rank_buildings(snap, query, weights=WEIGHTS, incentives=source)
    (card,) = explain_buildings(snap, scores, incentives=source, limit=5)
    # then: the registration subsidy alone, 20,000 yuan
    assert card.incentive_3y == 20_000.0
    assert [p["name"] for p in card.incentives] == ["区内注册入驻补贴"]
    assert card.incentives[0]["total_3y"] == "20000.00"


def test_a_learned_model_keeps_the_default_weight_of_the_leads_own_intentions():
    # given: 40 leads whose signed building is the cheaper of two; the intentions column differs
    #   between leads, never within one, so no pair of candidates can tell its weight
    rng = np.random.default_rng(0)
    outcomes = []
    for i in range(40):
        x = rng.uniform(0, 1, size=(2, len(FEATURE_NAMES)))
        x[:, ENTRY] = (i % 3) / 2
        x[0, FEATURE_NAMES.index("price.saving")] = 1.0
        x[1, FEATURE_NAMES.index("price.saving")] = 0.0
        outcomes.append(Outcome(x, np.array([2, 0])))
    # when
    learned = fit_weights(outcomes)
    # then: 0.15 (district) × 1/4, and the best possible score is still 1
    assert learned.weights[ENTRY] == pytest.approx(0.0375)
    assert score_scale(learned.weights) == pytest.approx(1.0)


def test_a_model_stored_before_the_intentions_feature_ranks_with_its_default_weight():
    # given: a stored model's weights naming every feature but the new one
    stored = {name: 0.01 for name in FEATURE_NAMES if name != "district.entry_intentions"}
    # when
    vector = weight_vector(stored)
    # then
    assert vector[ENTRY] == pytest.approx(0.15 / 4)
    assert vector[TAX_PER_M2] == 0.01

"""Learning weights from graded outcomes, blending them with the defaults, and the evaluation metrics."""

import numpy as np
import pytest

from matching.core.boosted import fit_boosted
from matching.core.evaluation import (
    Case,
    Pool,
    bootstrap_interval,
    case_metrics,
    cheapest_first,
    evaluate,
    same_main_then_cheapest,
    weighted,
)
from matching.core.learn import MIN_LEADS, Outcome, blend, blend_share, fit_weights, pairwise
from matching.core.types import FEATURE_NAMES, score_scale, weight_vector

N = len(FEATURE_NAMES)
INDUSTRY, PRICE, STARS = (
    FEATURE_NAMES.index(f) for f in ("industry.tenants_only", "price.saving", "quality.stars")
)


def simulated_outcomes(hidden: np.ndarray, leads: int, seed: int = 1) -> list[Outcome]:
    """Leads choosing among 20 candidates by a hidden linear taste plus noise: best signed, next 2 toured."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(leads):
        x = rng.random((20, N))
        utility = x @ hidden + rng.normal(0, 0.05, 20)
        order = np.argsort(-utility)
        grades = np.zeros(20, dtype=int)
        grades[order[0]], grades[order[1:3]] = 2, 1
        result.append(Outcome(x, grades))
    return result


def test_pairwise_learning_recovers_the_taste_behind_the_outcomes():
    # given: companies that care for price and industry only
    hidden = np.zeros(N)
    hidden[[INDUSTRY, PRICE]] = 0.5
    # when
    learned = fit_weights(simulated_outcomes(hidden, 300))
    # then
    assert learned is not None
    assert score_scale(learned.weights) == pytest.approx(1.0)
    assert (learned.weights >= 0).all()
    assert learned.weights[INDUSTRY] > 0.3 and learned.weights[PRICE] > 0.3
    assert np.delete(learned.weights, [INDUSTRY, PRICE]).max() < 0.05
    assert learned.leads == 300


def test_a_feature_that_counts_against_a_choice_gets_weight_0_not_a_negative_one():
    # given: companies that avoid quality (it is only costly to them)
    hidden = np.zeros(N)
    hidden[PRICE], hidden[STARS] = 1.0, -0.5
    # when
    learned = fit_weights(simulated_outcomes(hidden, 200))
    # then
    assert learned.weights[STARS] == 0.0
    assert learned.weights[PRICE] > 0.8


def test_too_few_leads_with_an_outcome_learn_nothing():
    hidden = np.ones(N)
    assert fit_weights(simulated_outcomes(hidden, MIN_LEADS - 1)) is None


def test_pairs_only_compare_candidates_of_different_grades_within_a_lead():
    # given: one lead, grades 2, 1, 0
    x = np.eye(3, N)
    d, labels, weights, leads = pairwise([Outcome(x, np.array([2, 1, 0]))])
    # then: (2>1), (2>0), (1>0), each in both orientations; the lead weighs 1 in total
    assert leads == 1
    assert d.shape == (6, N)
    assert sorted(labels.tolist()) == [-1, -1, -1, 1, 1, 1]
    assert weights.sum() == pytest.approx(1.0)


def test_the_learned_weights_take_over_in_proportion_to_the_evidence():
    # α = n / (n + 30): 30 leads → one half; 90 → three quarters
    assert blend_share(30) == pytest.approx(0.5)
    assert blend_share(90) == pytest.approx(0.75)
    assert blend_share(0) == 0.0
    learned = np.zeros(N)
    learned[PRICE] = 1.0
    mixed = blend(learned, weight_vector(), 30)
    # price saving (0.5 of price's 0.15): 0.5 × 1 + 0.5 × 0.075 = 0.5375; tenants alone: 0.5 × 0.30 = 0.15
    assert mixed[PRICE] == pytest.approx(0.5375)
    assert mixed[INDUSTRY] == pytest.approx(0.15)
    assert score_scale(mixed) == pytest.approx(1.0)


def case(grades, label_grades, rent=None, main=None, features=None) -> Case:
    n = len(grades)
    return Case(
        lead_id=1,
        building_ids=np.arange(1, n + 1),
        features=np.zeros((n, N)) if features is None else features,
        rent=np.array(rent if rent is not None else [2.0] * n, dtype=float),
        main_match=np.array(main if main is not None else [False] * n),
        grades=np.array(grades),
        label_grades=np.array(label_grades),
    )


def test_metrics_of_one_ranked_list_by_hand():
    # given: ranked grades [0, 2, 1]; the lead toured one building and signed another
    c = case([0, 2, 1], [2, 1])
    # when
    metrics = case_metrics(c, np.array([0, 2, 1]))
    # then: DCG = 3/log2(3) + 1/log2(4) = 1.892789 + 0.5; IDCG = 3/1 + 1/log2(3) = 3.630930
    assert metrics["ndcg10"] == pytest.approx((3 / np.log2(3) + 0.5) / (3 + 1 / np.log2(3)))
    assert metrics["hit5"] == 1.0 and metrics["hit10"] == 1.0
    assert metrics["mrr"] == pytest.approx(0.5)


def test_a_signed_building_the_filters_left_out_scores_nothing():
    # given: the signed building is not a candidate; the toured one is ranked first
    c = case([1, 0], [2, 1])
    metrics = case_metrics(c, np.array([1, 0]))
    # then: DCG = 1; IDCG = 3 + 1/log2(3)
    assert metrics["ndcg10"] == pytest.approx(1 / (3 + 1 / np.log2(3)))
    assert metrics["mrr"] == 0.0 and metrics["hit10"] == 0.0 and metrics["coverage"] == 0.0


def test_the_baselines_order_by_rent_and_main_industry():
    # grades tell the buildings apart: 0 costs 3.00, 1 costs 1.00, 2 costs 2.00 and is in the main industry
    c = case([0, 1, 2], [2], rent=[3.0, 1.0, 2.0], main=[False, False, True])
    assert cheapest_first(c).tolist() == [1, 2, 0]
    assert same_main_then_cheapest(c).tolist() == [2, 1, 0]


def test_the_baselines_rank_their_own_pool_and_the_product_only_its_candidates():
    # given: the product listed buildings 1 and 2 (toured 1 first); the signed building 3 is only in
    #   the pool of every building with a vacancy in the range, and it is the cheapest there
    pool = Pool(
        building_ids=np.array([1, 2, 3]),
        rent=np.array([3.0, 2.0, 1.0]),
        main_match=np.array([False, False, False]),
        grades=np.array([1, 0, 2]),
    )
    c = Case(
        lead_id=1,
        building_ids=np.array([1, 2]),
        features=np.zeros((2, N)),
        rent=np.array([3.0, 2.0]),
        main_match=np.array([False, False]),
        grades=np.array([1, 0]),
        label_grades=np.array([2, 1]),
        pool=pool,
    )
    # when
    report = evaluate([c], {"learned": weighted(np.zeros(N)), "cheapest_first": cheapest_first})
    # then: the product missed the signed building (coverage 0); cheapest first found it first
    assert report["rankers"]["learned"]["coverage"] == 0.0 and report["rankers"]["learned"]["mrr"] == 0.0
    assert report["rankers"]["cheapest_first"]["mrr"] == 1.0
    assert report["intervals"]["cheapest_first"]["coverage"] == [1.0, 1.0]


def test_a_bootstrap_interval_of_a_constant_is_that_constant():
    assert bootstrap_interval(np.full(50, 0.2)) == pytest.approx((0.2, 0.2))


def test_the_report_gives_each_ranker_and_the_gain_with_its_interval():
    # given: features that point at the signed building for one ranker only
    features = np.zeros((3, N))
    features[2, PRICE] = 1.0
    cases = [case([0, 0, 2], [2], features=features)] * 10
    good = np.zeros(N)
    good[PRICE] = 1.0
    # when
    report = evaluate(cases, {"learned": weighted(good), "default": weighted(np.zeros(N))})
    # then: learned puts the signed building first (MRR 1); default keeps id order (third: MRR 1/3)
    assert report["rankers"]["learned"]["mrr"] == pytest.approx(1.0)
    assert report["rankers"]["default"]["mrr"] == pytest.approx(1 / 3)
    gain = report["gains"]["learned_vs_default"]
    # NDCG: learned 3/3 = 1; default (3/log2(4)) / 3 = 0.5
    assert gain["ndcg10_gain"] == pytest.approx(1 - 3 / np.log2(4) / 3)
    assert gain["ci95"][0] == pytest.approx(gain["ndcg10_gain"])


def test_the_boosted_ranker_learns_an_interaction_the_linear_score_cannot():
    # given: companies sign where two features are both high (an AND), never one alone
    rng = np.random.default_rng(3)
    outcomes = []
    for _ in range(60):
        x = rng.random((12, N)).round()  # 0/1 features
        x[0, PRICE], x[0, STARS] = 1.0, 1.0  # the signed one has both
        for row in range(1, 12):  # the others have at most one
            if x[row, PRICE] and x[row, STARS]:
                x[row, STARS] = 0.0
        outcomes.append(Outcome(x, np.array([2] + [0] * 11)))
    # when
    model = fit_boosted(outcomes)
    # then: the candidate with both scores highest on fresh candidates
    fresh = np.zeros((3, N))
    fresh[0, PRICE], fresh[1, STARS] = 1.0, 1.0
    fresh[2, PRICE], fresh[2, STARS] = 1.0, 1.0
    assert int(np.argmax(model.predict(fresh))) == 2
    assert fit_boosted(outcomes[: MIN_LEADS - 1]) is None

"""以商招商奖励: a referral reward pays the referring tenant, only when a tenant referred the company;
a fixed amount or a share of the first year's retained tax with a cap. Pure evaluator, no database."""

import datetime as dt
from decimal import Decimal

import numpy as np

from policies.engine import BenefitKind, BenefitTerms, PolicyBook, Profile, benefit_problems
from policies.engine.terms import REFERRER
from tests.policies.test_engine import FINANCE, OFFER, TOWER, Y, evaluate, policy

REFERRED = Profile(**{**FINANCE.__dict__, "referred": True})


def test_a_fixed_referral_reward_pays_the_referrer_in_year_one():
    # given a 50,000 yuan referral reward, for a company a tenant referred
    result = evaluate(
        policy(1, BenefitTerms(BenefitKind.REFERRAL_REWARD, amount_yuan=50_000)), profile=REFERRED
    )

    # then 50,000 in year 1 only, to the referring tenant
    benefit = result.applied[0].benefits[0]
    assert result.years == Y(50000, 0, 0)
    assert benefit.beneficiary == REFERRER
    assert benefit.arithmetic == "referral reward of 50,000 yuan = 50,000, paid to the referring tenant"


def test_a_share_of_the_first_years_retained_tax_is_capped():
    # given 10% of the first year's retained tax, at most 150,000
    reward = BenefitTerms(BenefitKind.REFERRAL_REWARD, percent=10, cap_yuan=150_000)

    result = evaluate(policy(1, reward), profile=REFERRED)

    # then 5,000,000 × 40% × 10% = 200,000, capped at 150,000, all in year 1
    benefit = result.applied[0].benefits[0]
    assert result.years == Y(150000, 0, 0) and result.total == Decimal("150000.00")
    assert benefit.uncapped_total == Decimal("200000.00")
    assert benefit.arithmetic == (
        "5,000,000 yuan tax × 40% retained × 10% in year 1 = 200,000; capped at 150,000 in total → 150,000"
        ", paid to the referring tenant"
    )


def test_below_the_cap_the_share_is_paid_whole():
    # 5,000,000 × 40% × 5% = 100,000, under the 150,000 cap
    reward = BenefitTerms(BenefitKind.REFERRAL_REWARD, percent=5, cap_yuan=150_000)

    assert evaluate(policy(1, reward), profile=REFERRED).years == Y(100000, 0, 0)


def test_without_a_referrer_the_reward_pays_nothing_and_says_why():
    # given the same policy with a 30,000 yuan one-off award besides, for a company nobody referred
    result = evaluate(
        policy(
            1,
            BenefitTerms(BenefitKind.REFERRAL_REWARD, amount_yuan=50_000),
            BenefitTerms(BenefitKind.ONE_OFF_AWARD, amount_yuan=30_000),
        )
    )

    # then only the award counts: 30,000
    referral, award = result.applied[0].benefits
    assert result.years == Y(30000, 0, 0)
    assert referral.total == Decimal("0.00")
    assert referral.arithmetic.startswith("no referring tenant")
    assert award.total == Decimal("30000.00")


def test_a_batch_counts_the_reward_only_for_a_referred_company():
    book = PolicyBook(
        [policy(1, BenefitTerms(BenefitKind.REFERRAL_REWARD, amount_yuan=50_000))], tax_retained_share=0.4
    )

    referred = book.evaluate_many(REFERRED, [TOWER], OFFER)
    unreferred = book.evaluate_many(FINANCE, [TOWER], OFFER)

    # 50,000 yuan = 5,000,000 fen in year 1 for the referred company, nothing otherwise
    assert np.array_equal(referred.years_fen[0], [5_000_000, 0, 0, 0, 0])
    assert unreferred.total(TOWER.id) == Decimal("0.00")


def test_a_referral_reward_is_a_fixed_amount_or_a_share_never_both_nor_neither():
    # each problem names the parameter it is about
    assert benefit_problems("referral_reward", {"amount_yuan": 50_000}) == []
    assert benefit_problems("referral_reward", {"percent": 10, "cap_yuan": 100_000}) == []
    both = benefit_problems("referral_reward", {"amount_yuan": 50_000, "percent": 10})
    neither = benefit_problems("referral_reward", {"cap_yuan": 100_000})
    assert [(p[0], p[2]) for p in both] == [
        ("percent", "a referral reward gives amount (yuan) or percent: not both")
    ]
    assert [(p[0], p[2]) for p in neither] == [
        ("amount_yuan", "a referral reward gives amount (yuan) or percent: one is needed")
    ]
    assert [p[0] for p in benefit_problems("referral_reward", {"amount_yuan": 1, "years": 2})] == ["years"]


def test_the_reward_is_followed_on_the_evaluation_date():
    # a policy valid from 2027 does not pay a referral on the 2026 offer
    late = policy(
        1, BenefitTerms(BenefitKind.REFERRAL_REWARD, amount_yuan=50_000), valid_from=dt.date(2027, 1, 1)
    )

    assert evaluate(late, profile=REFERRED).applied == ()

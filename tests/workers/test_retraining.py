"""Nightly retraining: only when outcomes changed, and a worse model never replaces the one in use."""

import datetime as dt

import pytest

from crm.demo.seed import seed_demo
from matching.models import IndustryModel, RankingModel
from matching.retraining import (
    KEPT,
    TRAINED,
    UNCHANGED,
    industry_retrain_if_changed,
)
from tests.factories import EnterpriseFactory, industry
from workers.tasks import models_retrain_nightly

pytestmark = pytest.mark.django_db


def _enterprises(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        code = "64" if i % 2 else "66"
        scope = "软件开发;信息系统集成服务" if code == "64" else "货币金融服务;金融信息服务"
        EnterpriseFactory(industry=industry(code), business_scope=scope)


def test_the_industry_model_retrains_only_when_enterprises_changed():
    _enterprises(12)

    assert industry_retrain_if_changed() == TRAINED
    assert industry_retrain_if_changed() == UNCHANGED
    _enterprises(2, start=12)
    assert industry_retrain_if_changed() == TRAINED
    assert IndustryModel.objects.count() == 2


def test_a_worse_industry_model_is_dropped_and_the_previous_one_stays():
    # given 60 enterprises (enough for a held-out score) and a version in use claiming top-1 of 1.01
    _enterprises(60)
    industry_retrain_if_changed()
    best = IndustryModel.objects.get()
    best.accuracy = {**best.accuracy, "top1": 1.01, "stamp": [0, 0]}
    best.save()

    # when outcomes changed and the nightly run trains a candidate that scores at most 1.0
    outcome = industry_retrain_if_changed()

    # then the candidate is gone and the better version still serves
    assert outcome == KEPT
    assert list(IndustryModel.objects.values_list("pk", flat=True)) == [best.pk]


def test_the_ranking_retrains_on_new_outcomes_and_not_again_without_them():
    # given the demo district with its signings and site tours
    seed_demo(scale="district", seed=5, as_of=dt.date(2026, 6, 30))

    # when the nightly task runs twice
    first = models_retrain_nightly.apply().get()
    second = models_retrain_nightly.apply().get()

    # then the first trains a version stamped with its outcomes, the second finds nothing new
    assert first["ranking"] == TRAINED
    assert second == {"ranking": UNCHANGED, "industry": UNCHANGED}
    assert RankingModel.objects.count() == 1
    assert RankingModel.objects.get().report["outcome_stamp"][0] > 0

"""Suggesting a lead's industry division from its business scope, learned from the enterprises' scopes."""

import io
import random

import numpy as np
import pytest

from matching.core.types import MatchingInputError
from matching.demo_text import business_scope_for
from matching.industry_suggest import industry_model_train, load_classifier, suggest_industry
from matching.models import IndustryModel
from tests.factories import EnterpriseFactory, industry

pytestmark = pytest.mark.django_db
DIVISIONS = ("65", "67", "72", "51", "70", "88")


def enterprises_with_scopes(per_division: int = 30, seed: int = 4) -> None:
    rng = random.Random(seed)
    for code in DIVISIONS:
        for _ in range(per_division):
            EnterpriseFactory(industry=industry(code), business_scope=business_scope_for(code, rng))


def test_the_suggestion_is_the_division_whose_companies_write_such_scopes():
    # given
    enterprises_with_scopes()
    industry_model_train()
    # when
    suggestions = suggest_industry("一般项目：软件开发；信息系统集成服务；数据处理和存储支持服务")
    # then
    assert [s.code for s in suggestions][0] == "65"
    assert suggestions[0].name == "软件和信息技术服务业"
    assert suggestions[0].probability > 0.5


def test_three_suggestions_come_likeliest_first_with_probabilities():
    # given
    enterprises_with_scopes()
    industry_model_train()
    # when
    suggestions = suggest_industry("股权投资；投资管理；资产管理")
    # then
    probabilities = [s.probability for s in suggestions]
    assert len(suggestions) == 3
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 < sum(probabilities) <= 1.0 + 1e-6
    assert suggestions[0].code == "67"


def test_held_out_accuracy_is_stored_with_each_version():
    # given
    enterprises_with_scopes()
    # when
    first, second = industry_model_train(), industry_model_train()
    # then
    assert (first.version, second.version) == (1, 2)
    assert first.samples == 180 and first.classes == 6
    assert first.accuracy["top3"] >= first.accuracy["top1"] >= 0.8
    assert load_classifier().version == 2


def test_the_stored_model_loads_without_pickle():
    # given
    enterprises_with_scopes(per_division=10)
    row = industry_model_train()
    # then: every array of the payload is plain data
    arrays = np.load(io.BytesIO(bytes(IndustryModel.objects.get(pk=row.pk).payload)), allow_pickle=False)
    assert set(arrays.files) == {"vocabulary", "idf", "coef", "intercept", "classes"}


def test_an_empty_business_scope_is_refused():
    with pytest.raises(MatchingInputError) as error:
        suggest_industry("   ")
    assert error.value.field == "business_scope"


def test_without_a_trained_model_the_message_says_how_to_train_one():
    with pytest.raises(MatchingInputError) as error:
        suggest_industry("软件开发")
    assert "train_matching" in error.value.message


def test_an_industry_model_trained_on_few_samples_is_stored_without_a_held_out_score():
    # given 12 enterprises: too few to hold any out for an accuracy score
    for n in range(12):
        code = "64" if n % 2 else "66"
        EnterpriseFactory(
            industry=industry(code), business_scope="软件开发" if code == "64" else "货币金融服务"
        )

    model = industry_model_train()

    assert model is not None and model.accuracy == {}

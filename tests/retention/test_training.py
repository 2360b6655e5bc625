"""Evaluating, training, storing, retraining and scoring through the database (retention.adapter)."""

import dataclasses
import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from crm.data_versions import INDICATORS, current_versions
from crm.models import StoredResult
from crm.services.stored_results import RETENTION, TODAY, retention_recompute
from retention import training
from retention.core import evaluation
from retention.core.evaluation import LEASE, TAX_FELL
from retention.core.history import active_on
from retention.core.synthetic import synthetic_world
from retention.models import RetentionModel, RetentionScore
from retention.training import (
    KEPT,
    TRAINED,
    UNCHANGED,
    retention_evaluate,
    retention_retrain_if_better,
    retention_train,
)
from tests.retention.db_world import write_world

pytestmark = pytest.mark.django_db
# The world's data run to the end of 2024; "today" is a day after it, when 2023's outcomes are known.
TODAY_ON = dt.date(2025, 1, 2)


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setattr(evaluation, "BOOTSTRAP_ROUNDS", 50)
    built = synthetic_world(enterprises=400, first=dt.date(2016, 1, 1), years=9, seed=5)
    write_world(built)
    return built


def test_evaluation_from_the_database_puts_the_model_ahead_of_both_heuristics(world):
    # when
    evaluated = retention_evaluate(today=TODAY_ON, rounds=100)
    # then
    report = evaluated.report
    assert report["test_days"][-1] <= "2023-10-01"  # a test day's outcome is known by today
    for heuristic in (LEASE, TAX_FELL):
        assert report["auc_gain"][heuristic]["interval"][0] > 0


def test_training_stores_a_version_with_its_report_and_scoring_stores_every_active_tenancy(world):
    # when
    model, report = retention_train(today=TODAY_ON)
    retention_recompute(on=TODAY_ON)
    # then
    assert model.version == 1 and model.report == report and model.departures > 0
    active = len(active_on(world.history.tenancies, TODAY_ON.toordinal()))
    assert RetentionScore.objects.count() == active
    stored = StoredResult.objects.get(kind=RETENTION, key=TODAY)
    assert stored.payload["model_version"] == 1 and stored.payload["tenancies"] == active
    assert stored.data_version == current_versions()[INDICATORS]
    score = RetentionScore.objects.order_by("-expected_tax_at_risk_yuan").first()
    assert score.expected_tax_at_risk_yuan == pytest.approx(
        score.tax_last_year_yuan * Decimal(repr(score.probability)), abs=Decimal("0.01")
    )


@pytest.mark.parametrize(("candidate", "expected"), [("noise", KEPT), ("labels", TRAINED)])
def test_nightly_retraining_keeps_the_model_in_use_when_the_candidate_evaluates_worse(
    world, monkeypatch, candidate, expected
):
    # given a model trained a year ago, and a candidate whose test scores are noise (worse than any
    # model) or the outcomes themselves (better than any)
    retention_train(today=dt.date(2024, 1, 2))
    real = training.retention_evaluate

    def rigged(**kwargs):
        evaluated = real(**kwargs)
        rng = np.random.default_rng(0)
        scores = rng.random(len(evaluated.test_left)) if candidate == "noise" else evaluated.test_left * 1.0
        return dataclasses.replace(evaluated, test_model=scores)

    monkeypatch.setattr(training, "retention_evaluate", rigged)
    # when
    outcome = retention_retrain_if_better(today=TODAY_ON)
    # then
    assert outcome == expected
    assert RetentionModel.objects.count() == (1 if expected == KEPT else 2)
    if expected == KEPT:
        assert RetentionModel.objects.get().report["kept_over"]["on"] == TODAY_ON.isoformat()


def test_nightly_retraining_does_nothing_on_the_day_it_trained(world):
    # given
    retention_train(today=TODAY_ON)
    # when / then
    assert retention_retrain_if_better(today=TODAY_ON) == UNCHANGED

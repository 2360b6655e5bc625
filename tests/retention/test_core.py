"""The pure retention core: the label rule by hand, and a world with a known departure process."""

import datetime as dt

import numpy as np
import pytest

from retention.core.evaluation import LEASE, MODEL, TAX_FELL, evaluate, known_by, quarter_days
from retention.core.features import FEATURES, TierThresholds, feature_rows
from retention.core.history import (
    LEAVE,
    NO_END,
    RELOCATE,
    STAY,
    Buildings,
    Enterprises,
    History,
    TaxMonths,
    Tenancies,
    outcomes,
)
from retention.core.model import RiskModel, fit
from retention.core.synthetic import synthetic_world

DAY = dt.date(2024, 1, 1).toordinal()
TIERS = TierThresholds(10_000_000.0, 100_000_000.0, 0.2)


def tenancies(*rows):
    enterprise, building, area, start, end = (np.array(column) for column in zip(*rows, strict=True))
    return Tenancies(enterprise, building, area.astype(float), start, end)


def test_a_tenancy_ending_with_no_follower_within_60_days_leaves():
    # given an enterprise whose only tenancy ends 100 days after the as-of day, and one back 61 days later
    t = tenancies((0, 0, 100, DAY - 500, DAY + 100), (0, 0, 100, DAY + 161, NO_END))
    # when
    labels = outcomes(t, np.array([0]), DAY)
    # then
    assert labels.tolist() == [LEAVE]


def test_a_new_tenancy_within_60_days_in_the_same_building_is_a_stay_and_in_another_a_relocation():
    # given enterprise 0 renewing in building 0 after 60 days, enterprise 1 moving to building 1 after 10
    t = tenancies(
        (0, 0, 100, DAY - 500, DAY + 100),
        (0, 0, 100, DAY + 160, NO_END),
        (1, 0, 100, DAY - 500, DAY + 100),
        (1, 1, 100, DAY + 110, NO_END),
    )
    # when
    labels = outcomes(t, np.array([0, 2]), DAY)
    # then
    assert labels.tolist() == [STAY, RELOCATE]


def test_a_lease_ending_after_twelve_months_is_not_a_departure_within_them():
    # given a tenancy ending 366 days after the as-of day
    t = tenancies((0, 0, 100, DAY - 500, DAY + 366))
    # when / then
    assert outcomes(t, np.array([0]), DAY).tolist() == [STAY]


def test_features_read_the_tax_trend_and_lease_end_on_the_day():
    # given one tenancy ending in 6 months (182.6 days), tax 200 a month in 2022 and 100 a month in 2023
    t = tenancies((0, 0, 50, DAY - 730, DAY + 182))
    amount = np.array([[200.0] * 12 + [100.0] * 12 + [0.0] * 12])
    history = History(
        t,
        Enterprises(np.array([0]), np.array([False]), np.array([True])),
        Buildings(np.array([100.0])),
        TaxMonths(2022, amount, np.ones_like(amount, dtype=bool)),
    )
    # when
    rows = feature_rows(history, DAY, TIERS)
    # then the trend is log(1201 / 2401), the lease ends within 12 months, and tax fell by 50 %
    x = dict(zip(FEATURES, rows.x[0], strict=True))
    assert x["tax_trend"] == pytest.approx(np.log(1201 / 2401))
    assert x["months_to_end"] == pytest.approx(182 / 30.4375)
    assert x["ends_within_12"] == 1.0
    assert rows.tax_last_year.tolist() == [1200.0]
    assert rows.tax_fell_heuristic.tolist() == [True]
    # and an occupancy of 50 m² of 100 a year ago and now: no trend
    assert x["occupancy_trend"] == 0.0


def test_the_stored_model_reads_back_to_the_same_probabilities():
    # given a model fitted on a feature that decides the label
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(FEATURES)))
    y = (x[:, 0] + rng.normal(scale=0.5, size=400) > 1).astype(int)
    model = fit(x, y)
    # when
    again = RiskModel.from_json(model.to_json())
    # then
    assert np.allclose(again.probability(x), model.probability(x))
    assert model.reasons(x[np.argmax(x[:, 0])][None, :])[0][0] == 0


def test_in_a_world_with_a_known_departure_process_the_model_beats_both_heuristics():
    # given a district where declines, low yield, headquarters and industry decide who leaves at lease end
    world = synthetic_world(enterprises=1200, seed=3)
    end = world.last.toordinal()
    days = [d for d in quarter_days(dt.date(2019, 1, 1), world.last) if d <= known_by(end)]
    # when
    report = evaluate(world.history, days, TIERS, rounds=200)
    # then the model's AUC is ahead of each heuristic with the gain's whole interval above zero
    for heuristic in (LEASE, TAX_FELL):
        assert report["auc_gain"][heuristic]["interval"][0] > 0
    assert report["rankers"][MODEL]["auc"]["value"] > 0.85
    assert report["departures"] > 100

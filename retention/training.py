"""Evaluating, training and storing the move-out model from the district's tenancy history.

Snapshots are taken on the first day of every quarter from two years after the first tax year (so
a tax trend can exist) to the last day whose 12-month outcome is known today. The stored model is
fitted on all of them; its report is the time-split evaluation of retention.core.evaluation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from sklearn.metrics import roc_auc_score

from retention.adapter import LoadedHistory, load_history, tier_thresholds
from retention.core import evaluation
from retention.core.evaluation import (
    MODEL,
    Snapshots,
    build_snapshots,
    known_by,
    quarter_days,
    report,
    test_rows,
)
from retention.core.history import LEAVE
from retention.core.model import NotEnoughOutcomes, RiskModel, fit
from retention.models import RetentionModel

KEPT, TRAINED, UNCHANGED = "kept_previous", "trained", "unchanged"
TREND_YEARS = 2


@dataclass(frozen=True)
class Evaluated:
    loaded: LoadedHistory
    snapshots: Snapshots
    report: dict[str, Any]
    test_x: np.ndarray
    test_left: np.ndarray
    test_day: np.ndarray
    test_model: np.ndarray  # the rolling-origin models' probabilities


def snapshot_days(loaded: LoadedHistory, today: dt.date) -> list[int]:
    tax = loaded.history.tax
    first = max(loaded.first_day, dt.date(tax.first_year + TREND_YEARS, 1, 1))
    last = dt.date.fromordinal(known_by(today.toordinal()))
    return quarter_days(first, last)


def retention_evaluate(*, today: dt.date | None = None, rounds: int | None = None) -> Evaluated:
    """The time-split evaluation of the model against both heuristics, on the data of today."""
    today = today or timezone.localdate()
    loaded = load_history()
    snaps = build_snapshots(loaded.history, snapshot_days(loaded, today), tier_thresholds())
    rows, _ = test_rows(snaps)
    figures = report(rows, rounds=rounds or evaluation.BOOTSTRAP_ROUNDS)
    return Evaluated(loaded, snaps, figures, rows.x, rows.left, rows.day, rows.scores[MODEL])


def _fit_all(snaps: Snapshots) -> tuple[RiskModel, int, int]:
    if not snaps.day:
        raise NotEnoughOutcomes("no tenancy was active on any snapshot day")
    x = np.vstack([f.x for f in snaps.features])
    y = np.concatenate([(label == LEAVE).astype(int) for label in snaps.label])
    return fit(x, y), len(y), int(y.sum())


@transaction.atomic
def retention_model_store(*, evaluated: Evaluated, today: dt.date) -> RetentionModel:
    """Fit on every snapshot and store the next version with its report."""
    model, rows, departures = _fit_all(evaluated.snapshots)
    version = (RetentionModel.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0) + 1
    stored = RetentionModel(
        version=version,
        created_at=timezone.now(),
        trained_until=today,
        rows=rows,
        departures=departures,
        parameters=model.to_json(),
        report=evaluated.report,
    )
    stored.full_clean()
    stored.save()
    return stored


def current_model() -> tuple[RetentionModel | None, RiskModel | None]:
    """The newest stored version and its model (None for a model of other features: retrain)."""
    row = RetentionModel.objects.order_by("-version").first()
    if row is None:
        return None, None
    try:
        return row, RiskModel.from_json(row.parameters)
    except (KeyError, ValueError):
        return row, None


def retention_train(*, today: dt.date | None = None) -> tuple[RetentionModel, dict[str, Any]]:
    """`manage.py train_retention`: evaluate, then store a new version fitted on all outcomes."""
    today = today or timezone.localdate()
    evaluated = retention_evaluate(today=today)
    return retention_model_store(evaluated=evaluated, today=today), evaluated.report


def retention_retrain_if_better(*, today: dt.date | None = None) -> str:
    """Nightly: the candidate's rolling-origin AUC against the model in use, on the test rows whose
    outcome that model had not seen; worse, and the model in use stays. Trained today: nothing."""
    today = today or timezone.localdate()
    row, in_use = current_model()
    if row is not None and row.trained_until >= today:
        return UNCHANGED
    try:
        evaluated = retention_evaluate(today=today)
    except NotEnoughOutcomes:
        return UNCHANGED
    if row is not None and in_use is not None:
        # Judged only on test days the model in use never saw the outcome of, both on the same rows.
        unseen = evaluated.test_day > known_by(row.trained_until.toordinal())
        left = evaluated.test_left[unseen]
        if 0 < left.sum() < len(left):
            candidate_auc = float(roc_auc_score(left, evaluated.test_model[unseen]))
            current_auc = float(roc_auc_score(left, in_use.probability(evaluated.test_x[unseen])))
            if candidate_auc < current_auc:
                row.report = {
                    **(row.report or {}),
                    "kept_over": {"on": today.isoformat(), "auc": candidate_auc, "own_auc": current_auc},
                }
                row.save(update_fields=["report"])
                return KEPT
    retention_model_store(evaluated=evaluated, today=today)
    return TRAINED

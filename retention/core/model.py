"""The move-out model, in two parts. A tenancy whose lease runs on beyond the next 12 months seldom
leaves (it would break its lease), and one without an end date tells nothing of when it might:
each group gets the rate observed among them. A tenancy whose lease ends within 12 months is
scored by a logistic regression over the standardised features, calibrated by Platt scaling on
out-of-fold scores. Kept as plain numbers (JSON), so it is stored and loaded without pickle.

Why two parts: departures happen at lease ends, so "the lease ends within 12 months" nearly
separates the classes; one linear model over every tenancy then lets a signal that matters only at
a lease end (a short stay, a falling tax) lift tenants whose leases run for years above tenants
whose leases end now, and ranks worse than the lease end alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from retention.core.features import FEATURES

ENDS_WITHIN_12 = FEATURES.index("ends_within_12")
OPEN_ENDED = FEATURES.index("open_ended")

CALIBRATION_FOLDS = 3
REGULARISATION_C = 1.0
TOP_REASONS = 3
REASON_MIN = 0.1  # a feature raising the log-odds by less than this is not worth a reason


class NotEnoughOutcomes(ValueError):
    """Too few departures (or stays) to fit a model."""


@dataclass(frozen=True)
class RiskModel:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    platt_a: float  # calibrated log-odds = a · raw + b
    platt_b: float
    outside_rate: float  # the departure rate of tenancies whose lease runs beyond 12 months
    open_rate: float  # the departure rate of tenancies without an end date

    def raw(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def probability(self, x: np.ndarray) -> np.ndarray:
        scored = 1.0 / (1.0 + np.exp(-(self.platt_a * self.raw(x) + self.platt_b)))
        other = np.where(x[:, OPEN_ENDED] > 0, self.open_rate, self.outside_rate)
        return np.where(at_lease_end(x), scored, other)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Each feature's push on the log-odds against the average tenancy at a lease end (rows,
        features); none for a tenancy whose lease runs on."""
        push = self.platt_a * ((x - self.mean) / self.scale) * self.coef
        return np.where(at_lease_end(x)[:, None], push, 0.0)

    def reasons(self, x: np.ndarray, top: int = TOP_REASONS) -> list[list[int]]:
        """Per row, the indices of the features that raise its risk most, strongest first."""
        push = self.contributions(x)
        order = np.argsort(-push, axis=1)[:, :top]
        strong = np.take_along_axis(push, order, axis=1) >= REASON_MIN
        return [
            [int(i) for i, keep in zip(row, mask, strict=True) if keep]
            for row, mask in zip(order, strong, strict=True)
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "platt": [self.platt_a, self.platt_b],
            "outside_rate": self.outside_rate,
            "open_rate": self.open_rate,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RiskModel:
        if list(data["features"]) != list(FEATURES):
            raise ValueError("stored model was trained on other features; retrain it")
        return cls(
            np.asarray(data["mean"], float),
            np.asarray(data["scale"], float),
            np.asarray(data["coef"], float),
            float(data["intercept"]),
            float(data["platt"][0]),
            float(data["platt"][1]),
            float(data["outside_rate"]),
            float(data["open_rate"]),
        )


def at_lease_end(x: np.ndarray) -> np.ndarray:
    """The rows the regression scores: the lease ends within 12 months."""
    return x[:, ENDS_WITHIN_12] > 0


def _fit_linear(z: np.ndarray, y: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=REGULARISATION_C, max_iter=1000).fit(z, y)


def fit(x: np.ndarray, y: np.ndarray, *, seed: int = 0) -> RiskModel:
    """Fit on rows `x` with labels `y` (1: left). The calibration is learnt from scores of folds
    the linear model did not see, so it corrects the model's over-confidence on its own rows."""
    gate = at_lease_end(x)
    open_ended = x[:, OPEN_ENDED] > 0
    # Laplace's rule: a rate of 0 would claim a tenant with a long lease can never leave.
    outside, unknown = y[~gate & ~open_ended], y[open_ended]
    outside_rate = (float(outside.sum()) + 1.0) / (len(outside) + 2.0)
    open_rate = (float(unknown.sum()) + 1.0) / (len(unknown) + 2.0)
    x, y = x[gate], y[gate]
    positives = int(y.sum())
    if positives < CALIBRATION_FOLDS or len(y) - positives < CALIBRATION_FOLDS:
        raise NotEnoughOutcomes(f"{positives} departures among {len(y)} tenancies")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    z = (x - mean) / scale
    out_of_fold = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=seed)
    for train, held in folds.split(z, y):
        part = _fit_linear(z[train], y[train])
        out_of_fold[held] = part.decision_function(z[held])
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(out_of_fold.reshape(-1, 1), y)
    full = _fit_linear(z, y)
    return RiskModel(
        mean,
        scale,
        full.coef_[0].astype(float),
        float(full.intercept_[0]),
        float(platt.coef_[0, 0]),
        float(platt.intercept_[0]),
        outside_rate,
        open_rate,
    )

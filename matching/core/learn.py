"""Learning the component weights from outcomes, and blending them with the defaults by evidence.

Each lead with an outcome gives one list: the buildings it could have been offered (the candidates
of a ranking as of its day) with a graded relevance: signed = 2, toured but not signed = 1, shown
only = 0. Every pair of candidates with different grades is one training example (the difference of
their component vectors, labelled by which is better); a logistic regression without intercept on
those differences is a linear pairwise ranker (RankNet/RankSVM style). Weights must stay ≥ 0 so
that each contribution reads as a reason: a feature that comes out negative is fixed at 0 and
the rest refitted. The model learns one weight per feature (types.FEATURES: a component's parts,
so a building's designation can count apart from its tenants); the weights are scaled so that the
best possible score is 1, as with the defaults, and blended with the defaults:

    w = α · w_learned + (1 − α) · w_default,   α = n / (n + BLEND_PRIOR_LEADS),

n being the number of leads with an outcome the model learned from.

Features of the lead alone (types.LEAD_FEATURES: its entry intentions) are the same for all of a
lead's candidates, so every pair difference is 0 there and outcomes say nothing of their weight.
They are left out of the fit and keep their default weight; the learned weights share the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from matching.core.types import DEFAULT_WEIGHTS, FEATURE_NAMES, LEAD_FEATURES, score_scale, weight_vector

GRADE_SIGNED, GRADE_TOURED, GRADE_SHOWN = 2, 1, 0
MIN_LEADS = 30  # fewer leads with an outcome than this: keep the defaults
# The defaults count as this many leads of evidence. 100 held the learned weights back: on the demo
# the blended model ranked worse than the unblended one, NDCG@10 −0.028, 95 % CI [−0.054, −0.005]
# (docs/matching.md); as many leads as the least a model learns from keeps the guard for thin data.
BLEND_PRIOR_LEADS = 30
MAX_NEGATIVES = 40  # shown-only candidates sampled per positive, per lead
REGULARISATION = 1.0


@dataclass(frozen=True)
class Outcome:
    """One lead's candidates (feature rows) and their grades."""

    features: np.ndarray  # (candidates, len(COMPONENTS))
    grades: np.ndarray  # int per candidate


@dataclass(frozen=True)
class LearnedWeights:
    weights: np.ndarray  # learned feature weights, ≥ 0, scaled so the best possible score is 1
    leads: int
    pairs: int


def pairwise(
    outcomes: Sequence[Outcome], *, max_negatives: int = MAX_NEGATIVES, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(differences, labels ±1, sample weights, leads used): every lead weighs the same in total."""
    rng = np.random.default_rng(seed)
    diffs: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    leads = 0
    for outcome in outcomes:
        x, g = np.asarray(outcome.features, dtype=float), np.asarray(outcome.grades)
        positives = np.flatnonzero(g > 0)
        if positives.size == 0 or positives.size == g.size:
            continue
        negatives = np.flatnonzero(g == 0)
        if negatives.size > max_negatives:
            negatives = np.sort(rng.choice(negatives, size=max_negatives, replace=False))
        better, worse = [], []
        for i in positives.tolist():  # a lead has one or a few positives
            lower = np.concatenate((negatives, positives[g[positives] < g[i]]))
            better.append(np.full(lower.size, i))
            worse.append(lower)
        b, w = np.concatenate(better), np.concatenate(worse)
        if b.size == 0:
            continue
        leads += 1
        d = x[b] - x[w]
        # Both orientations, so the classes balance and no intercept is needed.
        diffs.extend((d, -d))
        labels.extend((np.ones(b.size), -np.ones(b.size)))
        weights.extend((np.full(b.size, 0.5 / b.size), np.full(b.size, 0.5 / b.size)))
    if not diffs:
        empty = np.zeros((0, len(FEATURE_NAMES)))
        return empty, np.zeros(0), np.zeros(0), 0
    return np.vstack(diffs), np.concatenate(labels), np.concatenate(weights), leads


def fit_weights(outcomes: Sequence[Outcome], *, seed: int = 0) -> LearnedWeights | None:
    """Non-negative pairwise weights, or None when there is too little to learn from."""
    x, y, sample_weight, leads = pairwise(outcomes, seed=seed)
    if leads < MIN_LEADS or np.unique(y).size < 2:
        return None
    held = np.isin(np.array(FEATURE_NAMES), LEAD_FEATURES)
    active = ~held
    coef = np.zeros(x.shape[1])
    while active.any():
        model = LogisticRegression(fit_intercept=False, C=REGULARISATION, max_iter=1000)
        model.fit(x[:, active], y, sample_weight=sample_weight * len(y))
        fitted = model.coef_[0]
        if (fitted >= 0).all():
            coef[:] = 0
            coef[active] = fitted
            break
        # Fix the most negative component at 0 and refit the rest (an active-set NNLS-like step).
        drop = np.flatnonzero(active)[int(np.argmin(fitted))]
        active[drop] = False
    if coef.sum() <= 0:
        return None
    kept = np.where(held, weight_vector(DEFAULT_WEIGHTS), 0.0)
    weights = coef / score_scale(coef) * (1.0 - score_scale(kept)) + kept
    return LearnedWeights(weights, leads=leads, pairs=int(y.size // 2))


def blend_share(leads: int, prior: float = BLEND_PRIOR_LEADS) -> float:
    """α: how far the learned weights replace the defaults, from the evidence behind them."""
    return leads / (leads + prior) if leads > 0 else 0.0


def blend(
    learned: np.ndarray, default: np.ndarray, leads: int, prior: float = BLEND_PRIOR_LEADS
) -> np.ndarray:
    alpha = blend_share(leads, prior)
    return alpha * np.asarray(learned, dtype=float) + (1 - alpha) * np.asarray(default, dtype=float)

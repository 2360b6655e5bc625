"""A gradient-boosted ranker, for comparison with the linear pairwise one (issue #13, item 5).

Pointwise: scikit-learn's histogram gradient boosting regresses each candidate's grade (signed 2,
toured 1, other 0) on its features, every lead weighing the same in total, so trees may find the
interactions a linear score cannot (industry fit × price, say). It is only evaluated: production
keeps the linear ranker, whose contributions add up to the score, unless the boosted one's NDCG@10
gain has a 95 % interval above zero under the same time split (`evaluate_matching --compare-boosted`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from matching.core.learn import MIN_LEADS, Outcome

MAX_ITER = 200
LEARNING_RATE = 0.05
MAX_LEAF_NODES = 15
MIN_SAMPLES_LEAF = 40


def fit_boosted(outcomes: Sequence[Outcome], *, seed: int = 0) -> HistGradientBoostingRegressor | None:
    """A boosted model of the grades, or None when fewer than MIN_LEADS leads have an outcome."""
    used = [o for o in outcomes if (np.asarray(o.grades) > 0).any() and len(o.grades) > 1]
    if len(used) < MIN_LEADS:
        return None
    x = np.vstack([o.features for o in used])
    y = np.concatenate([np.asarray(o.grades, dtype=float) for o in used])
    weight = np.concatenate([np.full(len(o.grades), 1.0 / len(o.grades)) for o in used])
    model = HistGradientBoostingRegressor(
        max_iter=MAX_ITER,
        learning_rate=LEARNING_RATE,
        max_leaf_nodes=MAX_LEAF_NODES,
        min_samples_leaf=MIN_SAMPLES_LEAF,
        random_state=seed,
    )
    model.fit(x, y, sample_weight=weight * len(used))
    return model

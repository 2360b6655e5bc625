"""Offline evaluation of rankers on held-out leads: NDCG@10, Hit@5, Hit@10, MRR, coverage, bootstrap CIs.

A case is one held-out signed lead: the product's candidate buildings as of its day (their feature
rows, rents, whether each is in the lead's main industry), the pool a promoter without the product
would consider (every in-service building with a vacancy in the lead's stated range), and the
grades of the buildings it toured and signed. The ideal ranking counts every graded building,
including one the product's filters left out, so the product is charged for its filters: a signed
building it did not list is a miss. Baselines rank the pool, not the product's candidates, so a
filter's cost is not charged to every ranker alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching.core.learn import GRADE_SIGNED

K_NDCG = 10
BOOTSTRAP_ROUNDS = 2000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Pool:
    """What a promoter without the product would consider for a lead: buildings, rents, grades."""

    building_ids: np.ndarray
    rent: np.ndarray  # the cheapest asking rent of a fitting offer, NaN when unknown
    main_match: np.ndarray  # bool: building's main industry is the lead's
    grades: np.ndarray


@dataclass(frozen=True)
class Case:
    lead_id: int
    building_ids: np.ndarray  # the product's candidates
    features: np.ndarray  # (candidates, features)
    rent: np.ndarray  # offer rent, NaN when unknown
    main_match: np.ndarray  # bool: building's main industry is the lead's
    grades: np.ndarray  # grade of each candidate
    label_grades: np.ndarray  # grades of every building the lead toured or signed, candidate or not
    seed: int = 0
    pool: Pool | None = None  # the baselines' universe; None: the candidates themselves

    @property
    def baseline_pool(self) -> Pool:
        if self.pool is not None:
            return self.pool
        return Pool(self.building_ids, self.rent, self.main_match, self.grades)


Ranker = Callable[[Case], np.ndarray]  # returns the grades of the list it shows, best first


def weighted(weights: np.ndarray) -> Ranker:
    """The product: its candidates by score (then building id)."""

    def rank(case: Case) -> np.ndarray:
        return case.grades[np.lexsort((case.building_ids, -(case.features @ weights)))]

    return rank


def random_order(case: Case) -> np.ndarray:
    pool = case.baseline_pool
    return pool.grades[np.random.default_rng(case.seed).permutation(pool.building_ids.size)]


def cheapest_first(case: Case) -> np.ndarray:
    pool = case.baseline_pool
    rent = np.where(np.isnan(pool.rent), np.inf, pool.rent)
    return pool.grades[np.lexsort((pool.building_ids, rent))]


def same_main_then_cheapest(case: Case) -> np.ndarray:
    pool = case.baseline_pool
    rent = np.where(np.isnan(pool.rent), np.inf, pool.rent)
    return pool.grades[np.lexsort((pool.building_ids, rent, ~pool.main_match))]


BASELINES: dict[str, Ranker] = {
    "random": random_order,
    "cheapest_first": cheapest_first,
    "same_main_then_cheapest": same_main_then_cheapest,
}


def dcg(grades: np.ndarray, k: int) -> float:
    top = np.asarray(grades, dtype=float)[:k]
    return float(((2.0**top - 1.0) / np.log2(np.arange(2, top.size + 2))).sum())


METRICS = ("ndcg10", "hit5", "hit10", "mrr", "coverage")


def case_metrics(case: Case, ranked: np.ndarray, k: int = K_NDCG) -> dict[str, float]:
    """Metrics of one ranked list, given as the grades of its buildings, best first."""
    ranked = np.asarray(ranked)
    ideal = dcg(np.sort(case.label_grades)[::-1], k)
    signed = np.flatnonzero(ranked == GRADE_SIGNED)
    rank = int(signed[0]) + 1 if signed.size else 0
    return {
        "ndcg10": dcg(ranked, k) / ideal if ideal > 0 else 0.0,
        "hit5": float(0 < rank <= 5),
        "hit10": float(0 < rank <= 10),
        "mrr": 1.0 / rank if rank else 0.0,
        "coverage": float(rank > 0),  # the signed building was listed at all
    }


def bootstrap_interval(
    values: np.ndarray, *, rounds: int = BOOTSTRAP_ROUNDS, level: float = CONFIDENCE, seed: int = 0
) -> tuple[float, float]:
    """Percentile interval of the mean of `values` over leads resampled with replacement."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(rounds, values.size))].mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def evaluate(
    cases: Sequence[Case], rankers: Mapping[str, Ranker], *, compare: str = "learned"
) -> dict[str, Any]:
    """Mean metrics per ranker with their bootstrap intervals, and the interval of `compare`'s NDCG@10
    gain over each other ranker."""
    per_case: dict[str, dict[str, np.ndarray]] = {}
    for name, ranker in rankers.items():
        rows = [case_metrics(case, ranker(case)) for case in cases]
        per_case[name] = {m: np.array([r[m] for r in rows]) for m in METRICS}
    report: dict[str, Any] = {
        "leads": len(cases),
        "candidates_mean": float(np.mean([c.building_ids.size for c in cases])) if cases else 0.0,
        "pool_mean": float(np.mean([c.baseline_pool.building_ids.size for c in cases])) if cases else 0.0,
        "signed_among_candidates": float(np.mean([(c.grades == GRADE_SIGNED).any() for c in cases]))
        if cases
        else 0.0,
        "signed_in_pool": float(np.mean([(c.baseline_pool.grades == GRADE_SIGNED).any() for c in cases]))
        if cases
        else 0.0,
        "rankers": {
            name: {metric: float(values.mean()) if values.size else 0.0 for metric, values in metrics.items()}
            for name, metrics in per_case.items()
        },
        "intervals": {
            name: {metric: list(bootstrap_interval(values)) for metric, values in metrics.items()}
            for name, metrics in per_case.items()
        },
        "gains": {},
    }
    if compare in per_case:
        for name in per_case:
            if name == compare:
                continue
            diff = per_case[compare]["ndcg10"] - per_case[name]["ndcg10"]
            low, high = bootstrap_interval(diff)
            report["gains"][f"{compare}_vs_{name}"] = {
                "ndcg10_gain": float(diff.mean()) if diff.size else 0.0,
                "ci95": [low, high],
            }
    return report

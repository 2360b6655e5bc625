"""Offline evaluation of rankers on held-out leads: NDCG@10, Hit@5, Hit@10, MRR and a bootstrap CI.

A case is one held-out signed lead: the candidate buildings as of its day (their component rows,
rents, whether each is in the lead's main industry), and the grades of the buildings it toured and
signed. The ideal ranking counts every graded building, including one the filters left out, so a
ranker is not flattered when the real choice was not even a candidate.
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
class Case:
    lead_id: int
    building_ids: np.ndarray  # candidates
    features: np.ndarray  # (candidates, 7)
    rent: np.ndarray  # offer rent, NaN when unknown
    main_match: np.ndarray  # bool: building's main industry is the lead's
    grades: np.ndarray  # grade of each candidate
    label_grades: np.ndarray  # grades of every building the lead toured or signed, candidate or not
    seed: int = 0


Ranker = Callable[[Case], np.ndarray]  # returns candidate positions, best first


def weighted(weights: np.ndarray) -> Ranker:
    def rank(case: Case) -> np.ndarray:
        return np.lexsort((case.building_ids, -(case.features @ weights)))

    return rank


def random_order(case: Case) -> np.ndarray:
    return np.random.default_rng(case.seed).permutation(case.building_ids.size)


def cheapest_first(case: Case) -> np.ndarray:
    rent = np.where(np.isnan(case.rent), np.inf, case.rent)
    return np.lexsort((case.building_ids, rent))


def same_main_then_cheapest(case: Case) -> np.ndarray:
    rent = np.where(np.isnan(case.rent), np.inf, case.rent)
    return np.lexsort((case.building_ids, rent, ~case.main_match))


BASELINES: dict[str, Ranker] = {
    "random": random_order,
    "cheapest_first": cheapest_first,
    "same_main_then_cheapest": same_main_then_cheapest,
}


def dcg(grades: np.ndarray, k: int) -> float:
    top = np.asarray(grades, dtype=float)[:k]
    return float(((2.0**top - 1.0) / np.log2(np.arange(2, top.size + 2))).sum())


def case_metrics(case: Case, order: np.ndarray, k: int = K_NDCG) -> dict[str, float]:
    ranked = case.grades[order]
    ideal = dcg(np.sort(case.label_grades)[::-1], k)
    signed = np.flatnonzero(ranked == GRADE_SIGNED)
    rank = int(signed[0]) + 1 if signed.size else 0
    return {
        "ndcg10": dcg(ranked, k) / ideal if ideal > 0 else 0.0,
        "hit5": float(0 < rank <= 5),
        "hit10": float(0 < rank <= 10),
        "mrr": 1.0 / rank if rank else 0.0,
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
    """Mean metrics per ranker, and the bootstrap interval of `compare`'s NDCG@10 gain over each other."""
    per_case: dict[str, dict[str, np.ndarray]] = {}
    for name, ranker in rankers.items():
        rows = [case_metrics(case, ranker(case)) for case in cases]
        per_case[name] = {m: np.array([r[m] for r in rows]) for m in ("ndcg10", "hit5", "hit10", "mrr")}
    report: dict[str, Any] = {
        "leads": len(cases),
        "candidates_mean": float(np.mean([c.building_ids.size for c in cases])) if cases else 0.0,
        "signed_among_candidates": float(np.mean([(c.grades == GRADE_SIGNED).any() for c in cases]))
        if cases
        else 0.0,
        "rankers": {
            name: {metric: float(values.mean()) if values.size else 0.0 for metric, values in metrics.items()}
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

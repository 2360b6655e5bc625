"""Honest evaluation: snapshots at quarterly as-of days, trained on earlier ones and tested on later
ones with no company on both sides, the model against two heuristics, with bootstrap intervals.

A test day T is scored by models fitted on the snapshots whose outcome was known by T (their day
plus 12 months and the 60-day gap ≤ T): companies fall into three fixed groups, and each group's
rows on T are scored by a model fitted on the other two groups' rows, so no company is on both
sides. Metrics pool the test days: ROC AUC over all test rows; precision@K (departures among the K
riskiest) and the tax at stake captured (the departing tenancies' last-year tax in the K rows of
highest risk × tax, over all the departing tax) per test day, averaged. Intervals resample
enterprises with replacement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from retention.core.features import FeatureRows, TierThresholds, feature_rows
from retention.core.history import GAP_DAYS, HORIZON_DAYS, LEAVE, RELOCATE, History, outcomes
from retention.core.model import NotEnoughOutcomes, RiskModel, fit

TOP_K = 50
BOOTSTRAP_ROUNDS = 500
CONFIDENCE = 0.95
TEST_DAYS = 4  # the last four quarters with a known outcome are tested
COMPANY_GROUPS = 3  # companies split three ways: trained on two groups, tested on the third


def company_group(enterprise: np.ndarray) -> np.ndarray:
    """A company's group, fixed by its index (Knuth's multiplicative hash), the same on every day."""
    return (enterprise.astype(np.int64) * 2654435761 % 2**32) % COMPANY_GROUPS


MODEL, LEASE, TAX_FELL = "model", "lease_ends_within_12_months", "tax_fell_over_30_percent"
RANKERS = (MODEL, LEASE, TAX_FELL)


@dataclass
class Snapshots:
    """Every (as-of day, active tenancy) with its features and what happened in the next 12 months."""

    day: list[np.ndarray] = field(default_factory=list)
    features: list[FeatureRows] = field(default_factory=list)
    label: list[np.ndarray] = field(default_factory=list)  # LEAVE / RELOCATE / STAY
    enterprise: list[np.ndarray] = field(default_factory=list)

    def days(self) -> list[int]:
        return [int(d[0]) for d in self.day if len(d)]


def quarter_days(first: dt.date, last: dt.date) -> list[int]:
    """The first day of every quarter from `first` to `last`, as ordinals."""
    days: list[int] = []
    year, quarter = first.year, (first.month - 1) // 3
    while True:
        day = dt.date(year, quarter * 3 + 1, 1)
        if day > last:
            return days
        if day >= first:
            days.append(day.toordinal())
        quarter += 1
        if quarter == 4:
            year, quarter = year + 1, 0


def build_snapshots(history: History, days: list[int], tiers: TierThresholds) -> Snapshots:
    snaps = Snapshots()
    for day in days:
        rows = feature_rows(history, day, tiers)
        if len(rows.rows) == 0:
            continue
        snaps.day.append(np.full(len(rows.rows), day))
        snaps.features.append(rows)
        snaps.label.append(outcomes(history.tenancies, rows.rows, day))
        snaps.enterprise.append(history.tenancies.enterprise[rows.rows])
    return snaps


def known_by(day: int) -> int:
    """The last as-of day whose 12-month outcome (with its 60-day gap) is known on `day`."""
    return day - HORIZON_DAYS - GAP_DAYS


@dataclass(frozen=True)
class TestRows:
    """The pooled test rows: each ranker's score, the labels, tax, test day and enterprise."""

    scores: dict[str, np.ndarray]
    x: np.ndarray  # the features, for judging another model on the same rows
    expected: dict[str, np.ndarray]  # score × tax: the list's order
    left: np.ndarray
    relocated: np.ndarray
    tax: np.ndarray
    day: np.ndarray
    enterprise: np.ndarray


def test_rows(
    snaps: Snapshots, *, test_days: int = TEST_DAYS, seed: int = 0
) -> tuple[TestRows, RiskModel | None]:
    """Score each of the last `test_days` snapshot days with a model trained on what was known then."""
    index = {int(d[0]): i for i, d in enumerate(snaps.day)}
    tested = sorted(index)[-test_days:]
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("model", "lease", "fell", "left", "reloc", "tax", "day", "ent", "x")
    }
    last_model = None
    for day in tested:
        i = index[day]
        # Companies are split into groups; each group's rows of the test day are scored by a model
        # fitted on the other groups' earlier snapshots. Leaving out every company of the test day
        # instead would leave in training only companies gone by then: no long stayer at all.
        group_of_day = company_group(snaps.enterprise[i])
        for group in range(COMPANY_GROUPS):
            tested_rows = np.flatnonzero(group_of_day == group)
            train_x, train_y = [], []
            for d, j in index.items():
                if d > known_by(day):
                    continue
                keep = company_group(snaps.enterprise[j]) != group
                train_x.append(snaps.features[j].x[keep])
                train_y.append((snaps.label[j][keep] == LEAVE).astype(int))
            if not train_x or len(tested_rows) == 0:
                continue
            try:
                model = fit(np.vstack(train_x), np.concatenate(train_y), seed=seed)
            except NotEnoughOutcomes:
                continue
            last_model = model
            rows = snaps.features[i]
            x = rows.x[tested_rows]
            parts["model"].append(model.probability(x))
            parts["lease"].append(rows.lease_heuristic[tested_rows].astype(float))
            parts["fell"].append(rows.tax_fell_heuristic[tested_rows].astype(float))
            parts["left"].append(snaps.label[i][tested_rows] == LEAVE)
            parts["reloc"].append(snaps.label[i][tested_rows] == RELOCATE)
            parts["tax"].append(rows.tax_last_year[tested_rows])
            parts["day"].append(snaps.day[i][tested_rows])
            parts["ent"].append(snaps.enterprise[i][tested_rows])
            parts["x"].append(x)
    if not parts["day"]:
        raise NotEnoughOutcomes("no test day has a model trained on earlier outcomes")
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    scores = {MODEL: cat["model"], LEASE: cat["lease"], TAX_FELL: cat["fell"]}
    tax = cat["tax"]
    return (
        TestRows(
            scores,
            np.vstack(parts["x"]),
            {k: s * tax for k, s in scores.items()},
            cat["left"],
            cat["reloc"],
            tax,
            cat["day"],
            cat["ent"],
        ),
        last_model,
    )


def _top(order_key: np.ndarray, tiebreak: np.ndarray, k: int) -> np.ndarray:
    # Highest first; ties in order of the tiebreak (last year's tax), then row: a heuristic's flags tie.
    return np.lexsort((np.arange(len(order_key)), -tiebreak, -order_key))[:k]


def metrics(
    rows: TestRows, picks: np.ndarray | None = None, *, k: int = TOP_K
) -> dict[str, dict[str, float]]:
    """AUC, precision@k and tax captured@k of every ranker over `picks` (row indices, repeats allowed)."""
    picks = np.arange(len(rows.left)) if picks is None else picks
    left, tax, day = rows.left[picks], rows.tax[picks], rows.day[picks]
    result: dict[str, dict[str, float]] = {}
    both = 0 < left.sum() < len(left)
    for name in RANKERS:
        score, expected = rows.scores[name][picks], rows.expected[name][picks]
        precisions, captured = [], []
        for d in np.unique(day):
            on = np.flatnonzero(day == d)
            top = on[_top(score[on], tax[on], k)]
            precisions.append(float(left[top].mean()))
            at_stake = float(tax[on][left[on]].sum())
            best = on[_top(expected[on], tax[on], k)]
            captured.append(float(tax[best][left[best]].sum()) / at_stake if at_stake > 0 else 0.0)
        result[name] = {
            "auc": float(roc_auc_score(left, score)) if both else float("nan"),
            "precision_at_k": float(np.mean(precisions)),
            "tax_captured_at_k": float(np.mean(captured)),
        }
    return result


def _interval(values: np.ndarray) -> list[float]:
    tail = (1 - CONFIDENCE) / 2 * 100
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return [float("nan"), float("nan")]
    return [float(np.percentile(finite, tail)), float(np.percentile(finite, 100 - tail))]


def report(
    rows: TestRows, *, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0, k: int = TOP_K
) -> dict[str, Any]:
    """Point figures, their bootstrap intervals (enterprises resampled) and the model's AUC gain over
    each heuristic with its interval."""
    point = metrics(rows, k=k)
    rng = np.random.default_rng(seed)
    enterprises, inverse = np.unique(rows.enterprise, return_inverse=True)
    members = [np.flatnonzero(inverse == i) for i in range(len(enterprises))]
    draws: dict[str, dict[str, list[float]]] = {n: {m: [] for m in point[n]} for n in RANKERS}
    gains: dict[str, list[float]] = {n: [] for n in RANKERS if n != MODEL}
    for _ in range(rounds):
        chosen = rng.integers(0, len(enterprises), len(enterprises))
        picks = np.concatenate([members[c] for c in chosen])
        drawn = metrics(rows, picks, k=k)
        for name in RANKERS:
            for metric, value in drawn[name].items():
                draws[name][metric].append(value)
        for name in gains:
            gains[name].append(drawn[MODEL]["auc"] - drawn[name]["auc"])
    return {
        "test_rows": int(len(rows.left)),
        "test_days": [dt.date.fromordinal(int(d)).isoformat() for d in np.unique(rows.day)],
        "departures": int(rows.left.sum()),
        "relocations": int(rows.relocated.sum()),
        "k": k,
        "rankers": {
            name: {
                metric: {"value": value, "interval": _interval(np.asarray(draws[name][metric]))}
                for metric, value in point[name].items()
            }
            for name in RANKERS
        },
        "auc_gain": {
            name: {
                "value": point[MODEL]["auc"] - point[name]["auc"],
                "interval": _interval(np.asarray(values)),
            }
            for name, values in gains.items()
        },
    }


def evaluate(
    history: History,
    days: list[int],
    tiers: TierThresholds,
    *,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The whole evaluation over snapshot `days` (quarterly, outcomes known by the last one)."""
    snaps = build_snapshots(history, days, tiers)
    if progress:
        progress(f"{sum(len(d) for d in snaps.day)} snapshot rows over {len(snaps.day)} days")
    rows, _ = test_rows(snaps, seed=seed)
    return report(rows, rounds=rounds, seed=seed)


def training_rows(history: History, days: list[int], tiers: TierThresholds) -> tuple[np.ndarray, np.ndarray]:
    """Every snapshot row and its label (1: left), to fit the model that will score today."""
    snaps = build_snapshots(history, days, tiers)
    if not snaps.day:
        raise NotEnoughOutcomes("no tenancy was active on any snapshot day")
    x = np.vstack([f.x for f in snaps.features])
    y = np.concatenate([(lab == LEAVE).astype(int) for lab in snaps.label])
    return x, y

"""Benchmark: score every active tenancy's move-out risk at city scale (goal: ≤ 30 s on a worker).

    DJANGO_ENV=test .venv/bin/python bench/retention_score.py

Part 1, the floor: the pure core on a synthetic city held in memory (150,000 enterprises at the
start, 2,000 buildings, three years of monthly tax): the features of every tenancy active on the
last day, the calibrated probabilities and the top reasons, with a model fitted on a small world.
Part 2, when the database at BENCH_DATABASE_URL (default: the one bench/seed_city.py fills) answers
and holds 100,000 enterprises or more: retention.scoring.retention_scores_compute through Django,
reading tenancies, enterprises, buildings and tax, scoring, and rewriting the stored scores — what
the worker's task does. A model is trained on the city first when it has none.
Exits non-zero when a goal is missed.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import report  # noqa: E402
from retention.core.evaluation import known_by, quarter_days, training_rows  # noqa: E402
from retention.core.features import TierThresholds, feature_rows  # noqa: E402
from retention.core.model import fit  # noqa: E402
from retention.core.synthetic import synthetic_world  # noqa: E402

GOAL_SECONDS = 30.0
CITY_ENTERPRISES = 150_000
TIERS = TierThresholds(10_000_000.0, 100_000_000.0, 0.2)
COMMAND = "DJANGO_ENV=test .venv/bin/python bench/retention_score.py"


def floor() -> bool:
    small = synthetic_world(enterprises=2000, seed=1)
    days = [d for d in quarter_days(dt.date(2019, 1, 1), small.last) if d <= known_by(small.last.toordinal())]
    x, y = training_rows(small.history, days, TIERS)
    model = fit(x, y)
    started = time.perf_counter()
    city = synthetic_world(
        enterprises=CITY_ENTERPRISES, buildings=2000, first=dt.date(2023, 1, 1), years=3, seed=2
    )
    built = time.perf_counter() - started
    day = city.last.toordinal()
    started = time.perf_counter()
    rows = feature_rows(city.history, day, TIERS)
    features = time.perf_counter() - started
    probability = model.probability(rows.x)
    reasons = model.reasons(rows.x)
    seconds = time.perf_counter() - started
    print(
        f"synthetic city: {len(city.history.tenancies.start):,} tenancies, {len(rows.rows):,} active "
        f"(built in {built:.1f} s); features {features:.2f} s, scored with reasons in {seconds:.2f} s "
        f"(mean probability {probability.mean():.3f}, {sum(1 for r in reasons if r)} with a reason)"
    )
    met = seconds <= GOAL_SECONDS
    report(
        "retention",
        "score every active tenancy, pure core (synthetic city)",
        f"{seconds:.2f} s",
        "≤ 30 s",
        met,
        COMMAND,
    )
    return met


def city() -> bool | None:
    os.environ.setdefault(
        "DATABASE_URL", os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        import django

        django.setup()
        from django.db import OperationalError, ProgrammingError

        from crm.models import Enterprise

        enterprises = Enterprise.objects.count()
    except (OperationalError, ProgrammingError, ImportError) as error:
        print(f"city database not available ({error.__class__.__name__}): part 2 skipped")
        return None
    if enterprises < 100_000:
        print(f"city database holds {enterprises:,} enterprises: part 2 skipped")
        return None
    from django.utils import timezone

    from retention.models import RetentionModel
    from retention.scoring import retention_scores_compute
    from retention.training import retention_train

    if not RetentionModel.objects.exists():
        started = time.perf_counter()
        retention_train()
        print(f"trained a model on the city in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    summary = retention_scores_compute(on=timezone.localdate())
    seconds = time.perf_counter() - started
    print(
        f"city database: {summary['tenancies']:,} active tenancies scored and stored in {seconds:.1f} s "
        f"(features and model {summary.get('scoring_seconds', 0):.1f} s)"
    )
    met = seconds <= GOAL_SECONDS
    report(
        "retention",
        "score and store every active tenancy (city database)",
        f"{seconds:.1f} s",
        "≤ 30 s",
        met,
        COMMAND,
    )
    return met


if __name__ == "__main__":
    results = [floor(), city()]
    sys.exit(0 if all(r is not False for r in results) else 1)

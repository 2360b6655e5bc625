"""Benchmark: rank 20,000 open leads for one building (goal: p95 ≤ 100 ms) and every open lead against
every building in one batch (goal: ≤ 30 s).

    DJANGO_ENV=test .venv/bin/python bench/matching_reverse.py

Part 1 runs the pure core on the synthetic city of bench/matching_rank.py (2,000 buildings, 60,000
units, 20,000 leads): `rank_leads` for 300 buildings with the diversity penalty, the time to measure
the leads' exposure once, and `rank_all` (every lead's best 10 buildings). Part 2, when the database
at BENCH_DATABASE_URL holds a city, runs `matching.adapter.match_leads` warm for 300 buildings and
`match_all_open_leads` through Django. Exits non-zero when a goal is missed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.matching_rank import DEFAULT_URL, database_ready, percentiles, synthetic_city  # noqa: E402
from matching.core.explain import explain_leads  # noqa: E402
from matching.core.rank import lead_exposure, rank_all, rank_leads  # noqa: E402
from matching.core.types import weight_vector  # noqa: E402

P95_GOAL_MS = 100.0
BATCH_GOAL_S = 30.0
BUILDINGS = 300


def part_one() -> bool:
    snap, incentives, leads = synthetic_city()
    weights = weight_vector()
    started = time.perf_counter()
    exposure = lead_exposure(snap, leads, weights=weights, incentives=incentives)
    exposure_s = time.perf_counter() - started
    rows = np.random.default_rng(3).choice(len(snap.buildings), size=BUILDINGS, replace=False)
    times, candidates = [], []
    for row in rows.tolist():
        started = time.perf_counter()
        scores = rank_leads(snap, row, leads, weights=weights, incentives=incentives, exposure=exposure)
        explain_leads(snap, scores, leads, limit=20)
        times.append((time.perf_counter() - started) * 1000)
        candidates.append(scores.order.size)
    started = time.perf_counter()
    best, _ = rank_all(snap, leads, weights=weights, incentives=incentives, top=10)
    batch = time.perf_counter() - started
    p50, p95 = percentiles(times)
    print("part 1: pure core on a synthetic city")
    print(f"  {len(leads):,} leads; exposure over the sampled buildings measured once in {exposure_s:.2f} s")
    print(
        f"  rank_leads + explain top 20, {BUILDINGS} buildings: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
        f"(goal p95 {P95_GOAL_MS:.0f}); {np.mean(candidates):,.0f} fitting leads per building on average"
    )
    print(
        f"  batch, all {len(leads):,} leads × {len(snap.buildings):,} buildings: {batch:.1f} s "
        f"(goal {BATCH_GOAL_S:.0f} s); leads with a match: {(best[:, 0] >= 0).sum():,}"
    )
    return p95 <= P95_GOAL_MS and batch <= BATCH_GOAL_S


def part_two(url: str) -> bool:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from crm.models import Building
    from matching import adapter

    adapter.cache_clear()
    buildings = list(Building.objects.order_by("pk")[:BUILDINGS])
    started = time.perf_counter()
    adapter.match_leads(buildings[0])
    cold = time.perf_counter() - started
    times = []
    for building in buildings:
        started = time.perf_counter()
        adapter.match_leads(building)
        times.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    batch = adapter.match_all_open_leads(top=10)
    batch_s = time.perf_counter() - started
    info = adapter.cache_info()
    p50, p95 = percentiles(times)
    print("part 2: through the Django adapter on the city database")
    print(f"  {info['open_leads']:,} open leads; cold load with exposure {cold:.1f} s")
    print(f"  warm match_leads, {len(times)} buildings: p50 {p50:.1f} ms, p95 {p95:.1f} ms (goal p95 100)")
    print(f"  match_all_open_leads: {batch_s:.1f} s for {len(batch):,} leads (goal 30 s)")
    print(f"  cache memory: {info['total_bytes'] / 1e6:.1f} MB of arrays")
    sys.path.insert(0, str(ROOT))
    from bench.report import report

    command = "DJANGO_ENV=test DATABASE_URL=<city db> .venv/bin/python bench/matching_reverse.py"
    figure = f"one building × {info['open_leads']:,} open leads, adapter, warm: p95"
    report(
        "matching",
        figure,
        f"{p95:.1f} ms (p50 {p50:.1f})",
        f"{P95_GOAL_MS:.0f} ms",
        p95 <= P95_GOAL_MS,
        command,
    )
    figure = f"all {len(batch):,} open leads × all buildings (batch)"
    report("matching", figure, f"{batch_s:.1f} s", f"{BATCH_GOAL_S:.0f} s", batch_s <= BATCH_GOAL_S, command)
    return p95 <= P95_GOAL_MS and batch_s <= BATCH_GOAL_S


def main() -> int:
    ok = part_one()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if database_ready(url):
        ok = part_two(url) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: seed the city-scale demo (2,000 buildings … 200,000 activities) into a fresh PostgreSQL.

    DJANGO_ENV=test .venv/bin/python bench/seed_city.py

The database is BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench); it is dropped
and created afresh, migrated, then seeded with a fixed seed and as-of date. Prints the seconds the
seeding took and the rows of each table. The brief's budget is 300 s on a 2-core machine.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_database  # noqa: E402 - after the path is set

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench"
BUDGET_SECONDS = 300
SEED, AS_OF = 2021, "2026-06-30"


def main() -> int:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from crm.demo.seed import seed_demo

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - started
    started = time.perf_counter()
    import datetime as dt

    counts = seed_demo(scale="city", seed=SEED, as_of=dt.date.fromisoformat(AS_OF))
    seconds = time.perf_counter() - started
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']} (fresh), migrate {migrated:.1f} s"
    )
    print(
        f"seed_demo --scale city --seed {SEED} --as-of {AS_OF}: {seconds:.1f} s (budget {BUDGET_SECONDS} s)"
    )
    for table, count in counts.items():
        print(f"  {table:28} {count:>10,}")
    print(f"  {'total rows':28} {sum(counts.values()):>10,}")
    from bench.report import report

    command = "DJANGO_ENV=test .venv/bin/python bench/seed_city.py"
    report(
        "seed_city",
        "seed_demo --scale city",
        f"{seconds:.1f} s",
        f"< {BUDGET_SECONDS} s",
        seconds < BUDGET_SECONDS,
        command,
    )
    report("seed_city", "rows written", f"{sum(counts.values()):,}", "", None, command)
    return 0 if seconds < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())

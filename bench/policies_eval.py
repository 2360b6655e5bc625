"""Benchmark: one applicant's incentive package in 2,000 buildings at once (goal: under 20 ms).

    DJANGO_ENV=test .venv/bin/python bench/policies_eval.py

Part 1 runs the pure evaluator on 2,000 synthetic buildings held in memory, for a city-like policy set
(district, street, circle and featured-building policies) and for a worst case where every building
has policies of its own. Part 2, when the database at BENCH_DATABASE_URL (default: the one
bench/seed_city.py fills) answers and holds 2,000 buildings or more, times the Django adapter end to
end: its four queries plus the evaluation. Exits non-zero when part 1 misses the 20 ms goal.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COMMAND = "DJANGO_ENV=test .venv/bin/python bench/policies_eval.py"

from bench.report import report  # noqa: E402 - after the path is set
from policies.engine import (  # noqa: E402 - after the path is set
    BenefitKind,
    BenefitTerms,
    BuildingFacts,
    Offer,
    PolicyBook,
    PolicyTerms,
    Profile,
    Scope,
)

BUILDINGS = 2_000
GOAL_MS = 20.0
RUNS = 50
ON = dt.date(2026, 3, 1)
FEATURED = ["finance", "headquarters", "maker", "ecommerce", "cultural"]
PROFILE = Profile(
    industry_section="J",
    industry_division="66",
    expected_annual_tax=6_000_000,
    employees=120,
    is_headquarters=True,
    registers_in_district=True,
    settles_in_district=True,
    pays_tax_in_district=True,
)
OFFER = Offer(area_m2=400, on=ON)


def synthetic_buildings(rng: random.Random) -> list[BuildingFacts]:
    return [
        BuildingFacts(
            id=i + 1,
            street_id=i % 20 + 1,
            street=f"街道{i % 20 + 1}",
            business_circle_id=(i % 40 + 1) if i % 3 else None,
            business_circle=f"商圈{i % 40 + 1}" if i % 3 else "",
            star_rating=rng.randint(0, 5),
            featured_type=FEATURED[i % 5] if i % 10 == 0 else "",
            rent_per_m2_day=round(rng.uniform(1.5, 4.5), 2),
        )
        for i in range(BUILDINGS)
    ]


def city_policies(buildings: list[BuildingFacts], *, every_building: bool) -> list[PolicyTerms]:
    policies: list[PolicyTerms] = []

    def add(scope, scope_id, condition, group, *benefits):
        policies.append(
            PolicyTerms(
                id=len(policies) + 1,
                name=f"p{len(policies) + 1}",
                scope=scope,
                scope_id=scope_id,
                valid_from=dt.date(2025, 1, 1),
                condition=condition,
                stacking_group=group,
                benefits=benefits,
            )
        )

    k = BenefitKind
    add(
        Scope.DISTRICT,
        None,
        "registers_in_district and settles_in_district and pays_tax_in_district and area_m2 >= 100",
        "rent",
        BenefitTerms(k.RENT_SUBSIDY, percent=30, months=12, cap_yuan=300_000),
        BenefitTerms(k.SETTLEMENT_SUBSIDY, yuan_per_m2=50, cap_yuan=100_000),
    )
    add(
        Scope.DISTRICT,
        None,
        "expected_annual_tax >= 1000000",
        "tax",
        BenefitTerms(k.TAX_REWARD, percent=30, years=3, yearly_cap_yuan=1_000_000),
    )
    add(
        Scope.DISTRICT,
        None,
        "is_headquarters and expected_annual_tax >= 5000000",
        "",
        BenefitTerms(k.ONE_OFF_AWARD, amount_yuan=1_000_000),
    )
    add(
        Scope.DISTRICT,
        None,
        "star_rating >= 3 and area_m2 >= 500",
        "",
        BenefitTerms(k.RENOVATION_SUBSIDY, yuan_per_m2=40, cap_yuan=300_000),
    )
    for street in range(1, 21):
        add(Scope.STREET, street, "area_m2 >= 200", "", BenefitTerms(k.RENT_FREE, months=2))
        add(
            Scope.STREET,
            street,
            "expected_tax_per_m2 >= 3000",
            "",
            BenefitTerms(k.ONE_OFF_AWARD, amount_yuan=50_000),
        )
    for circle in range(1, 41):
        add(
            Scope.BUSINESS_CIRCLE,
            circle,
            "employees >= 50",
            "",
            BenefitTerms(k.SETTLEMENT_SUBSIDY, yuan_per_m2=30, cap_yuan=60_000),
        )
    for b in buildings:
        if b.featured_type == "finance" or every_building:
            add(
                Scope.BUILDING,
                b.id,
                'industry_section == "J" and area_m2 >= 300',
                "",
                BenefitTerms(k.RENT_FREE, months=3),
            )
        if b.featured_type == "headquarters" or (every_building and b.id % 3 == 0):
            add(
                Scope.BUILDING,
                b.id,
                "is_headquarters and expected_annual_tax >= 5000000 and star_rating >= 2",
                "tax",
                BenefitTerms(k.TAX_REWARD, percent=50, years=3, yearly_cap_yuan=2_000_000),
            )
        if b.featured_type == "maker" or (every_building and b.id % 3 == 1):
            add(
                Scope.BUILDING,
                b.id,
                'employees <= 50 and industry_section in ["I", "M"]',
                "rent",
                BenefitTerms(k.RENT_SUBSIDY, percent=50, months=12, cap_yuan=100_000),
            )
    return policies


def time_ms(function, runs: int = RUNS) -> tuple[float, float]:
    """(median, best) wall milliseconds over `runs` calls, after one warm-up call."""
    function()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples)


def pure_core() -> bool:
    rng = random.Random(2026)
    buildings = synthetic_buildings(rng)
    ok = True
    for label, every in (("city-like policy set", False), ("every building with its own policies", True)):
        book = PolicyBook(city_policies(buildings, every_building=every), tax_retained_share=0.4)
        median, best = time_ms(lambda book=book: book.evaluate_many(PROFILE, buildings, OFFER))
        met = median < GOAL_MS
        ok &= met
        print(
            f"pure core, {label}: {len(book)} policies, {BUILDINGS} buildings: "
            f"{median:.2f} ms median ({best:.2f} best) = {BUILDINGS / median * 1000:,.0f} evaluations/s "
            f"[goal < {GOAL_MS:.0f} ms: {'met' if met else 'MISSED'}]"
        )
        report(
            "policies",
            f"one profile × {BUILDINGS:,} buildings, pure core, {label}",
            f"{median:.2f} ms median",
            f"< {GOAL_MS:.0f} ms",
            met,
            COMMAND,
        )
    single, _ = time_ms(lambda: book.evaluate(PROFILE, buildings[0], OFFER))
    print(f"one building in full (amounts, arithmetic, reasons): {single:.2f} ms median")
    return ok


def database() -> None:
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=2) as connection:
            count = connection.execute("SELECT count(*) FROM crm_building").fetchone()[0]
    except Exception as error:  # no server, no database, or not migrated: nothing to measure
        print(f"database: skipped ({type(error).__name__}: {str(error).strip().splitlines()[0][:100]})")
        return
    if count < BUILDINGS:
        print(f"database: skipped ({count} buildings < {BUILDINGS}; run bench/seed_city.py first)")
        return
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from policies.adapter import evaluate_buildings
    from policies.models import Policy

    connection.ensure_connection()
    median, best = time_ms(lambda: evaluate_buildings(profile=PROFILE, offer=OFFER), runs=10)
    print(
        f"database ({connection.vendor}, {count} buildings, {Policy.objects.count()} policies): "
        f"adapter end to end {median:.1f} ms median ({best:.1f} best), 4 queries"
    )
    report(
        "policies", f"through the database, {count:,} buildings", f"{median:.1f} ms median", "", None, COMMAND
    )


def main() -> int:
    ok = pure_core()
    database()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

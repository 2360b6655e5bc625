"""Benchmark: promoter appraisal of 300 promoters over 1,000,000 activities and 100,000 leads in a quarter.

    DJANGO_ENV=test .venv/bin/python bench/appraisal.py

The database is BENCH_APPRAISAL_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_appraisal);
it is dropped, created afresh and migrated. All 100,000 leads and 1,000,000 activities fall in
2025-Q1 (the hardest case: nothing is filtered away), with 5,000 signings, 60,000 monthly tax records
of the signed enterprises and 50,000 reminders. The rows are written with INSERT … SELECT over
generate_series, so setting up takes seconds.

Prints the time of `appraisal_compute` for the quarter (budget 10 s; exits non-zero beyond it) beside
one hand-written SQL GROUP BY over the same lead and activity rows (goal: the appraisal within 2×).
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_database  # noqa: E402 - after the path is set

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_appraisal"
BUDGET_SECONDS = 10.0
GOAL_RATIO = 2.0
RUNS = 3
PROMOTERS, LEADS, ACTIVITIES_PER_LEAD = 300, 100_000, 10
SIGNINGS, REMINDERS = 5_000, 50_000
QUARTER = ("2025-01-01", "2025-04-01")


# Every statement below spreads its rows evenly over the quarter, promoters and the one building.
# `%(start)s` is 2025-01-01 00:00 in the district's time zone; 90 days = 129,600 minutes.
SEED_SQL = [
    """INSERT INTO crm_street (name, kind) VALUES ('基准街道', 'subdistrict')""",
    """INSERT INTO crm_building (code, name, street_id, address, gross_area_m2, leasable_area_m2,
           star_rating, featured_type)
       SELECT 'BENCH', '基准大厦', id, '', 1000000, 900000, 0, '' FROM crm_street""",
    """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
           is_active, date_joined)
       SELECT '!', false, 'bench' || n, '', '', 'bench' || n || '@example.com', false, true, now()
       FROM generate_series(1, %(promoters)s) n""",
    """INSERT INTO crm_promoter (user_id, name, team, is_team_lead, active)
       SELECT id, '招商员' || id, '团队' || (id %% 10), false, true FROM auth_user""",
    """INSERT INTO crm_lead (ref, company_name, normalised_name, credit_code, business_scope, contact_name,
           contact_phone, is_headquarters, channel, owner_id, stage, lost_reason, case_by_case,
           created_at, updated_at, last_activity_at, version, expected_annual_tax, lawful_basis)
       SELECT 'B' || n, '基准企业' || n, '基准企业' || n, '', '', '', '', false, 'department',
              (SELECT min(id) FROM crm_promoter) + n %% %(promoters)s,
              (ARRAY['new','contacted','visiting','negotiating','lost','settled'])[1 + n %% 6],
              CASE WHEN n %% 6 = 4 THEN '基准' ELSE '' END, false,
              %(start)s + (n %% 129600) * interval '1 minute', now(),
              %(start)s + (n %% 129600) * interval '1 minute', 1, 100000, ''
       FROM generate_series(1, %(leads)s) n""",
    """INSERT INTO crm_activity (lead_id, kind, occurred_at, building_id, promoter_id, notes, created_at)
       SELECT l.id, CASE WHEN k %% 5 = 0 THEN 'site_tour' ELSE 'call' END,
              %(start)s + ((l.id * 7 + k * 13) %% 129600) * interval '1 minute' + k * interval '1 second',
              CASE WHEN k %% 5 = 0 THEN (SELECT id FROM crm_building) END, l.owner_id, '', now()
       FROM crm_lead l CROSS JOIN generate_series(1, %(per_lead)s) k""",
    """INSERT INTO crm_enterprise (credit_code, name, normalised_name, registered_in_district,
           settles_in_district, is_headquarters, business_scope)
       SELECT 'BENCH' || lpad(n::text, 13, '0'), '基准签约' || n, '基准签约' || n, true, true, false, ''
       FROM generate_series(1, %(signings)s) n""",
    """INSERT INTO crm_tenancy (enterprise_id, building_id, area_m2, start)
       SELECT e.id, (SELECT id FROM crm_building), 100, DATE '2025-01-01' + (e.id %% 85)::int
       FROM crm_enterprise e""",
    """INSERT INTO crm_signing (lead_id, building_id, enterprise_id, tenancy_id, area_m2, signed_on,
           signed_by_id)
       SELECT l.id, t.building_id, t.enterprise_id, t.id, 100, t.start, l.owner_id
       FROM (SELECT id, owner_id, row_number() OVER (ORDER BY id) AS r FROM crm_lead
             WHERE stage = 'settled') l
       JOIN (SELECT *, row_number() OVER (ORDER BY id) AS r FROM crm_tenancy) t ON t.r = l.r""",
    """INSERT INTO crm_taxrecord (enterprise_id, year, month, amount_yuan)
       SELECT e.id, 2025, m, 10000 FROM crm_enterprise e CROSS JOIN generate_series(1, 12) m""",
    """INSERT INTO crm_reminder (lead_id, promoter_id, reason, stage, due_on, due_at, act_by, state,
           created_at)
       SELECT l.id, l.owner_id, 'stale', l.stage, (l.created_at + interval '3 days')::date,
              l.created_at + interval '3 days', l.created_at + interval '5 days', 'sent', now()
       FROM crm_lead l WHERE l.id %% (%(leads)s / %(reminders)s) = 0""",
    "ANALYZE",
]

# The baseline: one hand-written GROUP BY over the same rows the appraisal reads (the quarter's leads,
# activities, signings, the signed enterprises' tax records and the reminders), each table's rows
# reduced to per-promoter sums and folded by one outer GROUP BY. It counts and sums only: no
# first-year window, no median, no "acted on within two days", which the appraisal adds.
BASELINE_SQL = """
SELECT promoter_id, SUM(leads), SUM(valid), SUM(activities), SUM(tours), SUM(signings), SUM(area),
       SUM(tax), SUM(reminders)
FROM (
    SELECT owner_id AS promoter_id, 1 AS leads,
           CASE WHEN stage IN ('contacted','visiting','negotiating','signed','settled') THEN 1 ELSE 0 END
               AS valid, 0 AS activities, 0 AS tours, 0 AS signings, 0 AS area, 0 AS tax, 0 AS reminders
    FROM crm_lead WHERE created_at >= %(start)s AND created_at < %(end)s
    UNION ALL
    SELECT promoter_id, 0, 0, 1, CASE WHEN kind = 'site_tour' THEN 1 ELSE 0 END, 0, 0, 0, 0
    FROM crm_activity WHERE occurred_at >= %(start)s AND occurred_at < %(end)s
    UNION ALL
    SELECT signed_by_id, 0, 0, 0, 0, 1, area_m2, 0, 0
    FROM crm_signing WHERE signed_on >= %(start)s AND signed_on < %(end)s
    UNION ALL
    SELECT s.signed_by_id, 0, 0, 0, 0, 0, 0, t.amount_yuan, 0
    FROM crm_signing s JOIN crm_taxrecord t ON t.enterprise_id = s.enterprise_id
    WHERE s.signed_on >= %(start)s AND s.signed_on < %(end)s
    UNION ALL
    SELECT promoter_id, 0, 0, 0, 0, 0, 0, 0, 1
    FROM crm_reminder WHERE due_at >= %(start)s AND due_at < %(end)s
) quarter_rows
GROUP BY promoter_id"""

# A narrower reference: the two big tables alone, each grouped on its own (what no appraisal can beat).
BIG_TABLES_SQL = """
SELECT owner_id, COUNT(*) FROM crm_lead WHERE created_at >= %(start)s AND created_at < %(end)s
GROUP BY owner_id
UNION ALL
SELECT promoter_id, COUNT(*) FROM crm_activity WHERE occurred_at >= %(start)s AND occurred_at < %(end)s
GROUP BY promoter_id"""


def main() -> int:
    url = os.environ.get("BENCH_APPRAISAL_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.models import Activity, Lead, Reminder, Signing, TaxRecord
    from crm.models.appraisal import PeriodKind
    from crm.services.appraisal import appraisal_compute

    call_command("migrate", verbosity=0)
    start = timezone.make_aware(dt.datetime.fromisoformat(QUARTER[0]))
    end = timezone.make_aware(dt.datetime.fromisoformat(QUARTER[1]))
    params = {
        "start": start,
        "end": end,
        "promoters": PROMOTERS,
        "leads": LEADS,
        "per_lead": ACTIVITIES_PER_LEAD,
        "signings": SIGNINGS,
        "reminders": REMINDERS,
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in SEED_SQL[:-1]:
            cursor.execute(statement, params)
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL[-1])
    seeded = time.perf_counter() - started
    counts = {
        "leads": Lead.objects.count(),
        "activities": Activity.objects.count(),
        "signings": Signing.objects.count(),
        "tax records": TaxRecord.objects.count(),
        "reminders": Reminder.objects.count(),
    }
    print(f"seeded in {seeded:.1f} s: " + ", ".join(f"{n:,} {name}" for name, n in counts.items()))

    appraisal, baseline, big_tables = [], [], []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(BIG_TABLES_SQL, {"start": start, "end": end})
            cursor.fetchall()
        big_tables.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        snapshots = appraisal_compute(period_kind=PeriodKind.QUARTER, period_start=start.date())
        appraisal.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, {"start": start, "end": end})
            rows = cursor.fetchall()
        baseline.append(time.perf_counter() - t0)
    best, base = min(appraisal), min(baseline)
    print(f"promoters appraised: {len(snapshots)}; baseline rows: {len(rows)}")
    print(
        f"appraisal_compute (quarter): best {best:.2f} s, median {statistics.median(appraisal):.2f} s "
        f"over {RUNS} runs (budget {BUDGET_SECONDS:.0f} s)"
    )
    print(f"hand-written SQL GROUP BY:   best {base:.2f} s, median {statistics.median(baseline):.2f} s")
    print(f"ratio: {best / base:.2f}× (goal ≤ {GOAL_RATIO:.0f}×)")
    print(
        f"reference, leads and activities grouped alone: best {min(big_tables):.2f} s "
        f"(appraisal {best / min(big_tables):.2f}× of it)"
    )
    from bench.report import report

    command = "DJANGO_ENV=test .venv/bin/python bench/appraisal.py"
    figure = "appraisal_compute, one quarter, 300 promoters (best of 3)"
    report("appraisal", figure, f"{best:.2f} s", f"≤ {BUDGET_SECONDS:.0f} s", best <= BUDGET_SECONDS, command)
    ratio = best / base
    figure = "ratio to one hand-written GROUP BY"
    report("appraisal", figure, f"{ratio:.2f}×", f"≤ {GOAL_RATIO:.0f}×", ratio <= GOAL_RATIO, command)
    return 0 if best <= BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())

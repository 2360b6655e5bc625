"""Benchmark: the API under gunicorn (2 processes of 2 threads) on the city PostgreSQL, beside bare views.

    DJANGO_ENV=test .venv/bin/python bench/api_bench.py

The database is BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench), seeded by
bench/seed_city.py. For the lead list (50 a page), one lead and its matches, it prints requests per
second and p95 through the API, as the district office (session) and as an agency (API key), each
beside a bare Django view returning the same rows and fields with .values() (bench/api_bench_urls.py),
and how many times slower the API is (goal: within 2×); every figure also as a BENCH-RESULT line
(bench/report.py). Loopback only; REQUESTS requests per endpoint from THREADS threads, in ROUNDS
turns of API and bare view, each figure the median of its rounds.
"""

import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gunicorn_server import free_port, session_for, stop, wait_until_idle  # noqa: E402
from bench.report import report  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench"
REQUESTS = 200
THREADS = 4
ROUNDS = 5  # API and bare view take turns; each figure is the median of its rounds
WARMUP = 20  # per endpoint: both workers load the matching cache and warm their connections
WORKERS = 2
GOAL_RATIO = 2.0  # issue 6: the API within 2× of a bare view returning the same rows
BENCH = "api"
COMMAND = "DJANGO_ENV=test .venv/bin/python bench/api_bench.py"


def seeded(url: str) -> bool:
    """Whether the database exists and holds the city's leads (thousands, not a test's handful)."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            row = connection.execute("SELECT to_regclass('crm_lead') IS NOT NULL").fetchone()
            if not row[0]:
                return False
            return connection.execute("SELECT count(*) FROM crm_lead").fetchone()[0] >= 1000
    except psycopg.OperationalError:
        return False


def prepare() -> dict:
    """An agency key (for the agency with most leads), a district office session, and the leads to read."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.db.models import Count

    from crm.api.keys import agency_api_key_create
    from crm.constants import Role
    from crm.models import Agency, Lead

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise SystemExit(
            "The benchmark database lacks migrations of this tree; apply them first:\n"
            f"  DATABASE_URL={os.environ.get('DATABASE_URL')} DJANGO_ENV=test "
            ".venv/bin/python manage.py migrate"
        )
    agency = Agency.objects.annotate(n=Count("leads")).filter(active=True).order_by("-n", "pk").first()
    _, key, _ = agency_api_key_create(agency_name=agency.name, key_name="api_bench")
    user, _ = get_user_model().objects.get_or_create(username="api-bench-office")
    user.groups.add(Group.objects.get(name=Role.DISTRICT_ADMIN))
    session_key = session_for(user)
    # A lead with an industry, still open: the one whose detail and matches are read.
    open_leads = Lead.objects.filter(stage__in=["new", "contacted", "visiting", "negotiating"])
    lead = open_leads.filter(industry__isnull=False).order_by("pk").first()
    agency_lead = open_leads.filter(agency=agency, industry__isnull=False).order_by("pk").first()
    agency_lead = agency_lead or Lead.objects.filter(agency=agency).order_by("pk").first()
    return {
        "key": key,
        "cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}",
        "agency": agency,
        "agency_leads": agency.n,
        "lead": lead.pk,
        "agency_lead": agency_lead.pk,
    }


def get(url: str, headers: dict) -> float:
    """Seconds for one GET; a non-200 stops the benchmark."""
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
        response.read()
        if response.status != 200:
            raise SystemExit(f"{url}: HTTP {response.status}")
    return time.perf_counter() - started


def measure(url: str, headers: dict) -> tuple[float, float, float]:
    """(requests per second, p50 ms, p95 ms) of REQUESTS GETs from THREADS threads."""
    for _ in range(WARMUP):
        get(url, headers)
    times: list[float] = []
    lock = threading.Lock()
    per_thread = REQUESTS // THREADS

    def run() -> None:
        mine = [get(url, headers) for _ in range(per_thread)]
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(times, n=100)
    return len(times) / wall, cuts[49] * 1000, cuts[94] * 1000


def side_by_side(api_url: str, headers: dict, bare_url: str) -> tuple[float, float, float, float]:
    """(API req/s, API p95, bare req/s, bare p95): each the median of ROUNDS rounds taking turns, so
    that a slow moment of the machine (2 cores shared with the client and PostgreSQL) falls on both."""
    rounds = []
    for _ in range(ROUNDS):
        api_rps, _, api_p95 = measure(api_url, headers)
        bare_rps, _, bare_p95 = measure(bare_url, {})
        rounds.append((api_rps, api_p95, bare_rps, bare_p95))
    return tuple(statistics.median(figures) for figures in zip(*rounds, strict=True))


def _report(endpoint: str, caller: str, api_rps: float, api_p95: float, bare_rps: float, bare_p95: float):
    """One BENCH-RESULT line per figure (bench/report.py): both sides' req/s and p95, and the ratios."""
    for figure, value in (
        (f"{endpoint}, API as {caller}: req/s", f"{api_rps:.0f}"),
        (f"{endpoint}, API as {caller}: p95", f"{api_p95:.1f} ms"),
        (f"{endpoint}, bare .values() beside {caller}: req/s", f"{bare_rps:.0f}"),
        (f"{endpoint}, bare .values() beside {caller}: p95", f"{bare_p95:.1f} ms"),
    ):
        report(BENCH, figure, value, "informative", None, COMMAND)
    for figure, ratio in (
        (f"{endpoint}, API as {caller} vs bare: req/s ratio", bare_rps / api_rps),
        (f"{endpoint}, API as {caller} vs bare: p95 ratio", api_p95 / bare_p95),
    ):
        report(BENCH, figure, f"{ratio:.2f}×", f"≤ {GOAL_RATIO:g}×", ratio <= GOAL_RATIO, COMMAND)


def main() -> int:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if not seeded(url):
        print(
            f"{url} is not a city-scale database (no crm_lead table, or under 1,000 leads).\n"
            "Seed it first:  DJANGO_ENV=test .venv/bin/python bench/seed_city.py",
            file=sys.stderr,
        )
        return 2
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_ENV": os.environ.get("DJANGO_ENV", "test"),
        "DJANGO_SETTINGS_MODULE": "bench.api_bench_settings",
    }
    os.environ.update(env)
    ids = prepare()
    port = free_port()
    gunicorn = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, which stop() kills whole
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                get(f"{base}/bare/leads/{ids['lead']}/", {})
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not answer within 20 s")
        waited = wait_until_idle(gunicorn.pid, workers=WORKERS)
        office = {"Cookie": ids["cookie"]}
        agency = {"Authorization": f"Api-Key {ids['key']}"}
        lead, agency_lead, agency_id = ids["lead"], ids["agency_lead"], ids["agency"].pk
        # Each API row beside the bare view of the same rows: the same page, lead or ranking.
        pairs = [
            (
                "lead list, 50 a page",
                "district office",
                "/api/v1/leads/?page_size=50",
                office,
                "/bare/leads/",
            ),
            (
                "lead list, 50 a page",
                "agency key",
                "/api/v1/leads/?page_size=50",
                agency,
                f"/bare/leads/?agency={agency_id}",
            ),
            ("lead detail", "district office", f"/api/v1/leads/{lead}/", office, f"/bare/leads/{lead}/"),
            (
                "lead detail",
                "agency key",
                f"/api/v1/leads/{agency_lead}/",
                agency,
                f"/bare/leads/{agency_lead}/",
            ),
            (
                "matches (10)",
                "district office",
                f"/api/v1/leads/{lead}/matches/?limit=10",
                office,
                f"/bare/leads/{lead}/matches/?limit=10",
            ),
            (
                "matches (10)",
                "agency key",
                f"/api/v1/leads/{agency_lead}/matches/?limit=10",
                agency,
                f"/bare/leads/{agency_lead}/matches/?limit=10",
            ),
        ]
        print(
            f"gunicorn -w {WORKERS} (threads as gunicorn.conf.py sets) on 127.0.0.1, {url}; "
            f"{REQUESTS} requests per row and round "
            f"from {THREADS} "
            f"threads after {WARMUP} warm-up (workers warm after {waited:.0f} s); "
            f"agency {ids['agency'].name} ({ids['agency_leads']} leads)"
        )
        print(
            "| endpoint | caller | API req/s | API p95 ms | bare req/s | bare p95 ms | API slower by |\n"
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
        )
        for endpoint, caller, api_path, headers, bare_path in pairs:
            api_rps, api_p95, bare_rps, bare_p95 = side_by_side(base + api_path, headers, base + bare_path)
            slower = bare_rps / api_rps
            print(
                f"| {endpoint} | {caller} | {api_rps:.0f} | {api_p95:.1f} | {bare_rps:.0f} | {bare_p95:.1f} "
                f"| {slower:.2f}× (p95 {api_p95 / bare_p95:.2f}×) |",
                flush=True,
            )
            _report(endpoint, caller, api_rps, api_p95, bare_rps, bare_p95)
    finally:
        stop(gunicorn, grace=15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

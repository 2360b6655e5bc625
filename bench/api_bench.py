"""Benchmark: the API under gunicorn (2 workers) on the city-scale PostgreSQL, beside bare Django views.

    DJANGO_ENV=test .venv/bin/python bench/api_bench.py

The database is BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench), seeded by
bench/seed_city.py. For the lead list (50 a page), one lead and its matches, it prints requests per
second and p50/p95 through the API, as the district office (session) and as an agency (API key),
beside a bare Django view returning the same rows with .values() (bench/api_bench_urls.py).
Loopback only; REQUESTS requests per endpoint from THREADS threads.
"""

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench"
REQUESTS = 200
THREADS = 4
WARMUP = 20  # per endpoint: both workers load the matching cache and warm their connections
WORKERS = 2


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare() -> dict:
    """An agency key (for the agency with most leads), a district office session, and the leads to read."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Count

    from crm.api.keys import agency_api_key_create
    from crm.constants import Role
    from crm.models import Agency, Lead

    agency = Agency.objects.annotate(n=Count("leads")).filter(active=True).order_by("-n", "pk").first()
    _, key, _ = agency_api_key_create(agency_name=agency.name, key_name="api_bench")
    user, _ = get_user_model().objects.get_or_create(username="api-bench-office")
    user.groups.add(Group.objects.get(name=Role.DISTRICT_ADMIN))
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    # A lead with an industry, still open: the one whose detail and matches are read.
    open_leads = Lead.objects.filter(stage__in=["new", "contacted", "visiting", "negotiating"])
    lead = open_leads.filter(industry__isnull=False).order_by("pk").first()
    agency_lead = open_leads.filter(agency=agency, industry__isnull=False).order_by("pk").first()
    agency_lead = agency_lead or Lead.objects.filter(agency=agency).order_by("pk").first()
    return {
        "key": key,
        "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
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
    sys.path.insert(0, str(ROOT))
    ids = prepare()
    port = free_port()
    gunicorn = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
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
        office = {"Cookie": ids["cookie"]}
        agency = {"Authorization": f"Api-Key {ids['key']}"}
        lead, agency_lead, agency_id = ids["lead"], ids["agency_lead"], ids["agency"].pk
        rows = [
            ("lead list, 50 a page", "API, district office", "/api/v1/leads/?page_size=50", office),
            ("lead list, 50 a page", "API, agency key", "/api/v1/leads/?page_size=50", agency),
            ("lead list, 50 a page", "bare .values()", "/bare/leads/", {}),
            (
                "lead list, 50 a page",
                "bare .values(), agency's",
                f"/bare/leads/?agency={agency_id}",
                {},
            ),
            ("lead detail", "API, district office", f"/api/v1/leads/{lead}/", office),
            ("lead detail", "API, agency key", f"/api/v1/leads/{agency_lead}/", agency),
            ("lead detail", "bare .values()", f"/bare/leads/{lead}/", {}),
            ("matches (10)", "API, district office", f"/api/v1/leads/{lead}/matches/?limit=10", office),
            ("matches (10)", "API, agency key", f"/api/v1/leads/{agency_lead}/matches/?limit=10", agency),
            ("matches (10)", "bare: same ranking, JsonResponse", f"/bare/leads/{lead}/matches/?limit=10", {}),
        ]
        print(
            f"gunicorn -w {WORKERS} on 127.0.0.1, {url}; {REQUESTS} requests per row from {THREADS} "
            f"threads after {WARMUP} warm-up; agency {ids['agency'].name} ({ids['agency_leads']} leads)"
        )
        print("| endpoint | through | req/s | p50 ms | p95 ms |\n| --- | --- | ---: | ---: | ---: |")
        for endpoint, through, path, headers in rows:
            rps, p50, p95 = measure(base + path, headers)
            print(f"| {endpoint} | {through} | {rps:.0f} | {p50:.1f} | {p95:.1f} |", flush=True)
    finally:
        gunicorn.terminate()
        try:
            gunicorn.wait(timeout=15)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

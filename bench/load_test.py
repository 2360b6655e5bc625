"""Load test: 50 concurrent users for 2 minutes against gunicorn on the city database, zero errors.

    DJANGO_ENV=test .venv/bin/python bench/load_test.py          (make bench runs it too)

Prepares the accounts in the city database `bench` (idempotently: 40 seeded promoters, 3 office
users made once, one fresh API key for each of 10 agencies, replacing the previous run's), starts
`gunicorn config.wsgi` (3 processes, production settings over plain HTTP, API throttles raised so
that the test measures the server, not the limits), and runs the locust scenario of
bench/locustfile.py headless (FastHttpUser). Prints throughput and p50/p95 per endpoint and the
load generator's own CPU, and reports them (bench/report.py). Exits non-zero on any failed request.
Stored results that lag the data are recomputed first, as the nightly job would have.

Environment: BENCH_DATABASE_URL (default the city database), BENCH_LOAD_REDIS_URL (default Redis
db 7), LOAD_USERS (50), LOAD_SECONDS (120).
"""

import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
REDIS_URL = os.environ.get("BENCH_LOAD_REDIS_URL", "redis://127.0.0.1:6379/7")
USERS = int(os.environ.get("LOAD_USERS", "50"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "120"))
WORKERS = 3  # as docker-compose.yml runs the web
SECRET_KEY = "load-test-only-secret-key-not-used-anywhere-else-0123456789"
PROMOTERS, OFFICERS, AGENCIES = 40, 3, 10
KEY_NAME = "load-test"
COMMAND = "DJANGO_ENV=test .venv/bin/python bench/load_test.py"

os.environ.update({"DJANGO_ENV": "test", "DATABASE_URL": DATABASE_URL, "SECRET_KEY": SECRET_KEY})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bench.gunicorn_server import free_port, production_env, session_for, stop, wait_until_idle  # noqa: E402
from bench.report import report  # noqa: E402
from crm.api.keys import agency_api_key_create  # noqa: E402
from crm.constants import OPEN_STAGES, Role  # noqa: E402
from crm.models import Agency, AgencyAPIKey, Lead, Promoter  # noqa: E402


def prepare_accounts() -> dict:
    """Sessions of promoters and office users, and API keys of agencies, for the locust users."""
    promoters = []
    for promoter in Promoter.objects.filter(active=True).select_related("user").order_by("pk")[:PROMOTERS]:
        leads = list(
            Lead.objects.filter(owner=promoter, stage__in=OPEN_STAGES)
            .order_by("pk")
            .values_list("pk", flat=True)[:50]
        )
        if leads:
            promoters.append({"session": session_for(promoter.user), "leads": leads})
    office = Group.objects.get(name=Role.DISTRICT_ADMIN)
    officers = []
    for n in range(1, OFFICERS + 1):
        user, created = get_user_model().objects.get_or_create(username=f"load_officer{n}")
        if created:
            user.set_unusable_password()
            user.save()
        user.groups.add(office)
        officers.append({"session": session_for(user)})
    # Keys are stored hashed: each run replaces the previous run's keys with fresh ones.
    AgencyAPIKey.objects.filter(name=KEY_NAME).delete()
    agencies = []
    for agency in Agency.objects.filter(active=True).order_by("pk")[:AGENCIES]:
        _, key, _ = agency_api_key_create(agency_name=agency.name, key_name=KEY_NAME)
        agencies.append({"key": key})
    return {"promoters": promoters, "officers": officers, "agencies": agencies}


def start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    env = production_env(
        database_url=DATABASE_URL,
        redis_url=REDIS_URL,
        secret_key=SECRET_KEY,
        API_USER_RATE="100000/min",
        API_KEY_RATE="100000/min",
    )
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(WORKERS), "--timeout", "120"]
    with log.open("wb") as out:
        # Its own process group, which stop() kills whole.
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10)
            wait_until_idle(server.pid, workers=WORKERS)
            return server
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer within 60 s")


def run_locust(host: str, accounts_file: Path, csv_prefix: Path) -> tuple[int, float]:
    """Run the scenario; its exit code and the generator's own CPU in cores (user + system time of
    the locust process over the wall time), which shares the machine with the server."""
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless"]
    command += ["--users", str(USERS), "--spawn-rate", "10", "--run-time", f"{SECONDS}s", "--host", host]
    command += ["--csv", str(csv_prefix), "--only-summary", "--loglevel", "WARNING"]
    env = {**os.environ, "LOAD_ACCOUNTS": str(accounts_file)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return code, cpu / wall


def summarise(csv_prefix: Path) -> int:
    """Print and report the figures from locust's stats file; the number of failed requests."""
    with open(f"{csv_prefix}_stats.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    endpoints = sorted((r for r in rows if r["Name"] != "Aggregated"), key=lambda r: r["Name"])
    print(f"\n{'endpoint':34} {'requests':>9} {'fails':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for r in [*endpoints, total]:
        print(
            f"{r['Name']:34} {r['Request Count']:>9} {r['Failure Count']:>6} "
            f"{float(r['Requests/s']):7.1f} {r['50%']:>7} {r['95%']:>7}"
        )
    failures = int(total["Failure Count"])
    shape = f"{USERS} users, {SECONDS} s"
    report("load", f"failed requests ({shape})", str(failures), "0", failures == 0, COMMAND)
    report("load", f"throughput ({shape})", f"{float(total['Requests/s']):.1f} req/s", "", None, COMMAND)
    report("load", "all endpoints p50 / p95", f"{total['50%']} / {total['95%']} ms", "", None, COMMAND)
    for r in endpoints:
        value = f"{float(r['Requests/s']):.1f} req/s, p50 {r['50%']} ms, p95 {r['95%']} ms"
        report("load", r["Name"], value, "", None, COMMAND)
    if failures:
        with open(f"{csv_prefix}_failures.csv", encoding="utf-8") as f:
            print(f.read())
    return failures


def main() -> int:
    print(
        f"database: {settings.DATABASES['default']['NAME']}; redis: {REDIS_URL}; {USERS} users, {SECONDS} s"
    )
    call_command("migrate", "--noinput", verbosity=0)
    # The pages read stored results; a worker would have computed them overnight.
    from crm.services.stored_results import stale_groups, stored_results_recompute

    for group in stale_groups():
        stored_results_recompute(group=group)
    accounts = prepare_accounts()
    print(
        f"accounts: {len(accounts['promoters'])} promoters, {len(accounts['officers'])} office users, "
        f"{len(accounts['agencies'])} agency keys"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        accounts_file = work / "accounts.json"
        accounts_file.write_text(json.dumps(accounts), encoding="utf-8")
        port = free_port()
        server = start_gunicorn(port, work / "gunicorn.log")
        try:
            _code, generator_cores = run_locust(f"http://127.0.0.1:{port}", accounts_file, work / "load")
        finally:
            stop(server)
        print(f"load generator (locust) CPU: {generator_cores:.2f} cores")
        report(
            "load",
            "load generator's own CPU",
            f"{generator_cores:.2f} cores",
            "< 1 core",
            generator_cores < 1,
            COMMAND,
        )
        errors = [line for line in (work / "gunicorn.log").read_text().splitlines() if "ERROR" in line]
        if errors:
            print("gunicorn errors:\n" + "\n".join(errors[:20]))
        failures = summarise(work / "load")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: 10,000 due reminders dispatched through Redis by one worker (budget 60 s).

    DJANGO_ENV=test .venv/bin/python bench/reminders_dispatch.py

The database is BENCH_REMINDERS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_reminders),
dropped, created and migrated; Redis is BENCH_REDIS_URL (default redis://127.0.0.1:6379/6), emptied.
One real worker (`celery worker --concurrency 2`, the machine's two cores) mails into files.

Two shapes of the same 10,000 reminders, each timed from the dispatch message (as beat sends it) to
the last reminder marked sent: 500 promoters × 20 due leads (500 digest mails: the budgeted case,
exits non-zero beyond 60 s or when anything is left unsent), and 10,000 promoters × 1 (10,000 mails
in 200 sending messages: a harsher shape, reported but not budgeted).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_database  # noqa: E402 - after the path is set

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_reminders"
DEFAULT_REDIS = "redis://127.0.0.1:6379/6"
BUDGET_SECONDS = 60.0
SHAPES = [(500, 20), (10_000, 1)]
BUDGETED = (500, 20)
if os.environ.get("BENCH_SHAPES"):
    SHAPES = [tuple(map(int, shape.split("x"))) for shape in os.environ["BENCH_SHAPES"].split(",")]


SEED_SQL = [
    """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
           is_active, date_joined)
       SELECT '!', false, 'bench' || n, '', '', 'bench' || n || '@example.com', false, true, now()
       FROM generate_series(1, %(promoters)s) n""",
    """INSERT INTO crm_promoter (user_id, name, team, is_team_lead, active)
       SELECT id, '招商员' || id, '', false, true FROM auth_user""",
    # Every lead new and untouched for 10 days: due (the new-stage limit is 3 days).
    """INSERT INTO crm_lead (ref, company_name, normalised_name, credit_code, business_scope, contact_name,
           contact_phone, is_headquarters, channel, owner_id, stage, lost_reason, case_by_case,
           created_at, updated_at, last_activity_at, version, lawful_basis)
       SELECT 'R' || p.id || '-' || k, '提醒企业' || p.id || '-' || k, '提醒企业' || p.id || '-' || k, '', '',
              '', '', false, 'department', p.id, 'new', '', false, now() - interval '10 days', now(),
              now() - interval '10 days', 1, ''
       FROM crm_promoter p CROSS JOIN generate_series(1, %(each)s) k""",
    "ANALYZE",
]
CLEAR_SQL = [
    "DELETE FROM crm_notification",
    "DELETE FROM crm_reminder",
    "DELETE FROM crm_reminderdigest",
    "DELETE FROM crm_lead",
    "DELETE FROM crm_promoter",
    "DELETE FROM auth_user",
]


def start_worker(database_url: str, redis_url: str, mail_dir: str, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TEST_MAIL_DIR": mail_dir,
    }
    env.pop("REQUIRE_SERVICES", None)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tests.workers.worker_app",  # the project's app, mailing into files
        "worker",
        "--loglevel",
        os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
        "--concurrency",
        "2",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    log = log_path.open("wb")
    worker = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    time.sleep(4)  # the worker connects; the dispatch message waits in Redis if it is slower
    return worker


def main() -> int:
    database_url = os.environ.get("BENCH_REMINDERS_DATABASE_URL", DEFAULT_URL)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    fresh_database(database_url)
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    from bench.report import report

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection
    from kombu import Connection

    from crm.models import Reminder, ReminderDigest
    from workers.celery import app

    call_command("migrate", verbosity=0)
    broker = redis.Redis.from_url(redis_url)
    failed = False
    with tempfile.TemporaryDirectory() as scratch:
        for promoters, each in SHAPES:
            broker.flushdb()
            with connection.cursor() as cursor:
                for statement in CLEAR_SQL + SEED_SQL:
                    cursor.execute(statement, {"promoters": promoters, "each": each})
            mail_dir = Path(scratch) / f"mail-{promoters}"
            mail_dir.mkdir()
            worker = start_worker(
                database_url, redis_url, str(mail_dir), Path(scratch) / f"worker-{promoters}.log"
            )
            try:
                started = time.perf_counter()
                with Connection(redis_url) as conn:
                    app.send_task("workers.tasks.followups_dispatch", connection=conn)
                total = promoters * each
                while Reminder.objects.filter(state=Reminder.State.SENT).count() < total:
                    if time.perf_counter() - started > 2 * BUDGET_SECONDS:
                        break
                    time.sleep(0.2)
                seconds = time.perf_counter() - started
            finally:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=60)
            sent = Reminder.objects.filter(state=Reminder.State.SENT).count()
            mails = sum(p.read_bytes().count(b"\nMessage-ID: ") for p in mail_dir.iterdir())
            digests = ReminderDigest.objects.count()
            ok = sent == total and (seconds <= BUDGET_SECONDS or (promoters, each) != BUDGETED)
            failed |= not ok
            budget = f"budget {BUDGET_SECONDS:.0f} s" if (promoters, each) == BUDGETED else "not budgeted"
            if sent < total or os.environ.get("BENCH_WORKER_LOGLEVEL"):
                log = (Path(scratch) / f"worker-{promoters}.log").read_text(errors="replace")
                print(f"worker log (last 3,000 characters):\n{log[-3000:]}")
                if os.environ.get("BENCH_LOG_COPY"):
                    Path(os.environ["BENCH_LOG_COPY"]).write_text(log)
            print(
                f"{promoters:>6} promoters × {each:>2}: {sent:,} of {total:,} reminders sent "
                f"in {seconds:.1f} s "
                f"({sent / seconds:,.0f}/s) as {digests:,} digests, {mails:,} mails written "
                f"[{'ok' if ok else 'OVER BUDGET or incomplete'}; {budget}]",
                flush=True,
            )
            budgeted = (promoters, each) == BUDGETED
            report(
                "reminders",
                f"{total:,} due reminders, {promoters:,} promoters × {each}, one worker",
                f"{seconds:.1f} s ({sent:,} sent, {sent / seconds:,.0f}/s)",
                f"≤ {BUDGET_SECONDS:.0f} s, all sent" if budgeted else "all sent (time not budgeted)",
                ok,
                "DJANGO_ENV=test .venv/bin/python bench/reminders_dispatch.py",
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

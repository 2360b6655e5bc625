"""What the benchmarks that run gunicorn share: a free port, waiting until its workers are warm,
stopping it whole, and signed-in sessions for its clients.

A fresh worker warms up in a background thread (config/warmup.py: the URL map and the district's
matching arrays, seconds of CPU). Measured while that runs, the first endpoint would be charged for
it, so the benchmarks wait until the workers' CPU time stops growing.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def production_env(*, database_url: str, redis_url: str, secret_key: str, **extra: str) -> dict:
    """The environment of a served process on production settings, over plain HTTP on loopback."""
    return {
        **os.environ,
        "DJANGO_ENV": "prod",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    # Fields after the command name (which may hold spaces) start at the state; utime and stime
    # are the 12th and 13th of them (proc(5): fields 14 and 15).
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wait_until_idle(master: int, *, workers: int, quiet: float = 1.0, timeout: float = 120.0) -> float:
    """Seconds waited until all `workers` of the gunicorn `master` exist and together used under a
    tenth of a core for `quiet` seconds; SystemExit after `timeout`."""
    started = time.monotonic()
    last = None
    while time.monotonic() - started < timeout:
        pids = _workers(master)
        used = sum(_cpu_seconds(pid) for pid in pids)
        if len(pids) >= workers and last is not None and used - last < 0.1 * quiet:
            return time.monotonic() - started
        last = used if len(pids) >= workers else None
        time.sleep(quiet)
    raise SystemExit(f"gunicorn's workers were still busy after {timeout:.0f} s")


def stop(server: subprocess.Popen, *, grace: float = 30.0) -> None:
    """Stop a gunicorn started with start_new_session=True: SIGTERM to the master, then SIGKILL to its
    whole process group. Killing only the master left workers still busy with queued requests
    running on, orphaned, into the next benchmark."""
    server.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):  # master and workers all gone already
        os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=30)


def session_for(user) -> str:
    """A signed-in session in the database, as a login would leave it; its key (Django set up)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    from crm.sessions import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # The backend a login records: the first that can load a user (django-axes' own cannot).
    session[BACKEND_SESSION_KEY] = next(
        path for path in settings.AUTHENTICATION_BACKENDS if hasattr(import_string(path), "get_user")
    )
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key

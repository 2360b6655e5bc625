"""Real service processes for the tests that need them (workers, beats, gunicorn): each runs in a
session of its own, so that stopping or killing it reaches its children (a worker's pool) too."""

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate, *, timeout: float, step: float = 0.05, what: str = "condition"):
    """Poll `predicate` until it returns something true (and return that), or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class ProcessGroup:
    """A command run from the project's root in a new session, its output in the file `log`."""

    def __init__(self, command: list[str], *, env: dict[str, str], log: Path):
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, ready, *, timeout: float = 60, step: float = 0.1, what: str) -> None:
        """Wait until `ready()` holds; a process that exits first fails the test with its log."""

        def check() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"{what}: the process exited early:\n{self.text()}")
            return ready()

        wait_for(check, timeout=timeout, step=step, what=what)

    def kill(self) -> None:
        """SIGKILL the whole group: the main process and its children, mid-whatever."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM the group and wait; kill it if it does not end within 20 s."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def other_process(*statements: str, commit: bool = True) -> None:
    """Run `statements` in one transaction of a second process (psycopg, raw SQL, no Django signal),
    then commit or roll back: what another web process, a worker or a psql session writes."""
    from django.db import connection

    settings = connection.settings_dict
    conninfo = (
        f"host={settings['HOST'] or '127.0.0.1'} port={settings['PORT'] or 5432} "
        f"dbname={settings['NAME']} user={settings['USER']}"
    )
    if settings["PASSWORD"]:
        conninfo += f" password={settings['PASSWORD']}"
    code = textwrap.dedent(
        """
        import sys, psycopg
        conninfo, commit, *statements = sys.argv[1:]
        with psycopg.connect(conninfo) as db:
            for statement in statements:
                db.execute(statement)
            db.commit() if commit == "1" else db.rollback()
        """
    )
    subprocess.run([sys.executable, "-c", code, conninfo, "1" if commit else "0", *statements], check=True)

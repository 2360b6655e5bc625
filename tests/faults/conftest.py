"""Fixtures of the fault tests: the real worker of tests/workers, plus a gunicorn web server, beat
processes, the Redis at REDIS_URL (stopped and restarted), and a session cookie for HTTP clients.

The worker, broker and mail fixtures are the reliability tests' own (tests/workers/test_reliability.py),
imported here rather than copied.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis
import requests
from django.conf import settings
from django.test import Client

from tests.processes import ProcessGroup
from tests.workers.test_reliability import (  # noqa: F401  (fixtures used by the fault tests)
    Worker,
    broker,
    mail_dir,
    send,
    service_env,
    wait_for,
    workers,
)

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Ids of the processes whose parent is `pid` (a worker's pool processes), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


class RedisServer:
    """The Redis at REDIS_URL, which a test may shut down and must start again the way the machine does."""

    def __init__(self, url: str):
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 6379

    def command(self) -> list[str]:
        """The machine's own command line for this port: CI's Redis on 6379, a developer's elsewhere."""
        if self.port == 6379:
            where = ["--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]
        else:
            where = ["--dir", "/tmp", "--logfile", f"/tmp/redis{self.port}.log"]
        return [
            shutil.which("redis-server") or "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            *where,
        ]

    def answers(self) -> bool:
        try:
            return redis.Redis(host=self.host, port=self.port, socket_connect_timeout=0.2).ping()
        except redis.exceptions.RedisError:
            return False

    def stop(self) -> None:
        with contextlib.suppress(redis.exceptions.RedisError):
            redis.Redis(host=self.host, port=self.port).shutdown(nosave=True)
        wait_for(lambda: not self.answers(), timeout=20, what="Redis to stop")

    def start(self) -> None:
        subprocess.run(self.command(), check=True, timeout=30)
        wait_for(self.answers, timeout=20, what="Redis to start")


@pytest.fixture
def redis_server():
    """The Redis at REDIS_URL; whatever the test does, it is running again afterwards."""
    if shutil.which("redis-server") is None:
        if REQUIRE_SERVICES:
            pytest.fail("REQUIRE_SERVICES=1: redis-server is not installed", pytrace=False)
        pytest.skip("redis-server is not installed")
    server = RedisServer(settings.REDIS_URL)
    assert server.answers(), f"Redis at {settings.REDIS_URL} does not answer"
    try:
        yield server
    finally:
        if not server.answers():
            server.start()


class WebServer(ProcessGroup):
    """`gunicorn config.wsgi` with production settings over plain HTTP, on the test database."""

    def __init__(self, tmp_path: Path, redis_url: str, processes: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = service_env(
            redis_url,
            DJANGO_ENV="prod",
            # The test process writes the sessions; the server must read them with the same key.
            SECRET_KEY=settings.SECRET_KEY,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="false",
            API_USER_RATE="100000/min",
            API_KEY_RATE="100000/min",
        )
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(processes),
            "--timeout",
            "60",
        ]
        super().__init__(command, env=env, log=tmp_path / "gunicorn.log")
        self.wait_ready(self._answers, step=0.2, what="gunicorn to answer")

    def _answers(self) -> bool:
        try:
            requests.get(self.url + "/login/", timeout=10)
        except requests.RequestException:
            return False
        return True


@pytest.fixture
def web_server(tmp_path):
    started: list[WebServer] = []

    def start(redis_url: str) -> WebServer:
        server = WebServer(tmp_path, redis_url)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def logged_in(user) -> requests.Session:
    """An HTTP client signed in as `user` (a database session), sending a CSRF token on every call.

    The cookies go in a plain header: production marks them Secure, which a client over HTTP
    would otherwise never send back.
    """
    client = Client()
    client.force_login(user)
    csrf = "f" * 32
    http = requests.Session()
    http.headers["Cookie"] = f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}"
    http.headers["X-CSRFToken"] = csrf
    return http


class Beat(ProcessGroup):
    """One `celery beat` process with the project's scheduler, logging to a file."""

    def __init__(self, tmp_path: Path, name: str, redis_url: str, **env):
        command = [sys.executable, "-m", "celery", "-A", "workers.celery", "beat", "--loglevel", "INFO"]
        command += ["--schedule", str(tmp_path / f"{name}.schedule"), "--pidfile", ""]
        super().__init__(command, env=service_env(redis_url, **env), log=tmp_path / f"{name}.log")


@pytest.fixture
def beats(tmp_path):
    started: list[Beat] = []

    def start(name: str, redis_url: str, **env) -> Beat:
        beat = Beat(tmp_path, name, redis_url, **env)
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.stop()


def wait_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.monotonic()))

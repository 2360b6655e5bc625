"""With a real worker process: readiness turns ready once the heartbeat ran, and a task logs the id of the
request that queued it. The worker consumes a queue of its own on this run's Redis, so no other test's
messages reach it."""

import contextlib
import json
import os
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.processes import ProcessGroup, wait_for
from workers.tasks import worker_heartbeat

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


class Worker(ProcessGroup):
    """`celery -A workers worker` on one queue, logging JSON lines to a file."""

    def __init__(self, log: Path, queue: str):
        env = {**os.environ, "DJANGO_ENV": "test", "LOG_FORMAT": "json", "REDIS_URL": settings.REDIS_URL}
        env.pop("REQUIRE_SERVICES", None)
        command = [
            sys.executable, "-m", "celery", "-A", "workers", "worker", "--queues", queue,
            "--pool", "prefork", "--concurrency", "1", "--hostname", f"{queue}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
        ]  # fmt: skip
        super().__init__(command, env=env, log=log)
        self.wait_ready(lambda: " ready." in self.text(), what="the worker to start")

    def records(self) -> list[dict]:
        """The JSON log lines written so far (the start-up banner and other plain lines are skipped)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    found.append(record)
        return found


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    queue = f"ops-probe-{uuid.uuid4().hex[:8]}"
    started = Worker(tmp_path_factory.mktemp("worker") / "worker.log", queue)
    started.queue = queue
    yield started
    started.stop()


@pytest.mark.django_db
def test_readiness_turns_ready_once_a_worker_ran_the_heartbeat(worker, client, no_heartbeat):
    # given a worker but no heartbeat yet: not ready, because of the worker check alone
    before = client.get("/readyz")
    assert before.status_code == 503
    assert json.loads(before.content)["failed"] == ["worker"]
    # when beat's message reaches the worker (sent here as beat sends it: by task name, no arguments)
    worker_heartbeat.apply_async(queue=worker.queue)
    # then readiness turns ready within the time the worker takes
    after = wait_for(lambda: (r := client.get("/readyz")).status_code == 200 and r, timeout=30, what="ready")
    assert json.loads(after.content)["checks"]["worker"]["status"] == "ok"


@pytest.mark.django_db
@pytest.mark.urls("tests.ops.urls")
def test_a_task_queued_by_a_request_logs_the_request_id(worker, client, caplog, no_heartbeat):
    # when a request queues the heartbeat for the worker
    with caplog.at_level("INFO", logger="tests.ops"):
        response = client.get("/test-queue-heartbeat/", {"queue": worker.queue})
    request_id = response["X-Request-ID"]
    # then the request's own log line and the worker's lines about the task carry the same id
    assert len(request_id) == 32
    assert [r.correlation_id for r in caplog.records if r.name == "tests.ops"] == [request_id, request_id]

    def task_lines():
        return [
            r for r in worker.records()
            if r.get("request_id") == request_id and "worker_heartbeat" in r.get("message", "")
        ]  # fmt: skip

    lines = wait_for(task_lines, timeout=30, what="the worker to log the task under the request's id")
    assert {line["logger"] for line in lines} >= {"celery.app.trace"}
    assert all(line["level"] in {"INFO", "WARNING"} for line in lines)

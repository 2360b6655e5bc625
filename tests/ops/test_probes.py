"""/healthz and /readyz on the real PostgreSQL and Redis: which checks pass, fail or are skipped, and why."""

import json
import time

import pytest
from django.db import OperationalError
from django.test import override_settings

from ops import probes
from ops.heartbeat import heartbeat_record
from workers.schedule import DEFAULT_SCHEDULE


def body(response) -> dict:
    return json.loads(response.content)


# No `db` fixture: pytest-django would fail the test if liveness touched the database.
@override_settings(ALLOWED_HOSTS=["crm.example.org"], SECURE_SSL_REDIRECT=True)
def test_liveness_answers_a_plain_http_probe_with_any_host_and_touches_nothing(client):
    # when a load balancer probes over plain HTTP by the container's address
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    # then it is answered, not redirected to HTTPS nor refused for its Host header
    assert response.status_code == 200
    assert body(response) == {"status": "ok"}
    assert "Set-Cookie" not in response


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db
def test_ready_when_the_database_redis_and_a_recent_heartbeat_answer(client, no_heartbeat):
    # given a worker ran the heartbeat 30 seconds ago
    heartbeat_record(now=time.time() - 30)
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 200
    data = body(response)
    assert data["status"] == "ready"
    assert data["failed"] == []
    assert {name: check["status"] for name, check in data["checks"].items()} == {
        "database": "ok",
        "redis": "ok",
        "worker": "ok",
        "mail": "ok",
    }
    assert data["checks"]["worker"]["detail"] == "last worker heartbeat 30 s ago"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db
@override_settings(READINESS_HEARTBEAT_MAX_AGE=180)
def test_not_ready_when_the_last_heartbeat_is_older_than_the_limit(client, no_heartbeat):
    # given the last heartbeat 10 minutes ago, past the 3-minute limit
    heartbeat_record(now=time.time() - 600)
    # when
    response = client.get("/readyz")
    # then 503, naming the worker check and why
    assert response.status_code == 503
    data = body(response)
    assert data["status"] == "not ready"
    assert data["failed"] == ["worker"]
    assert data["checks"]["worker"] == {
        "status": "failed",
        "detail": "last worker heartbeat 600 s ago, limit 180 s",
    }
    assert data["checks"]["database"]["status"] == "ok"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db
def test_not_ready_before_any_worker_ran_the_heartbeat(client, no_heartbeat):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert body(response)["checks"]["worker"] == {
        "status": "failed",
        "detail": "no worker heartbeat recorded yet",
    }


@pytest.mark.postgres
@pytest.mark.django_db
@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_not_ready_when_redis_does_not_answer(client):
    # given Redis on a port where nothing listens
    # when
    response = client.get("/readyz")
    # then both the Redis check and the heartbeat (kept in Redis) fail, the database is fine
    assert response.status_code == 503
    data = body(response)
    assert data["failed"] == ["redis", "worker"]
    assert data["checks"]["redis"] == {"status": "failed", "detail": "ConnectionError"}
    assert data["checks"]["database"]["status"] == "ok"


def test_not_ready_when_the_database_does_not_answer(client, monkeypatch):
    # given a database whose connection fails
    class DeadConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(probes, "connection", DeadConnection())
    # when
    with override_settings(REDIS_URL=""):
        response = client.get("/readyz")
    # then
    assert response.status_code == 503
    data = body(response)
    assert data["failed"] == ["database"]
    assert data["checks"]["database"] == {"status": "failed", "detail": "OperationalError"}


@pytest.mark.django_db
@override_settings(REDIS_URL="")
def test_without_redis_readiness_says_which_checks_it_skipped(client):
    # given a developer's machine: no REDIS_URL, Celery runs tasks in-process
    # when
    response = client.get("/readyz/")
    # then ready, with Redis and the worker skipped and the reason given
    assert response.status_code == 200
    data = body(response)
    assert data["status"] == "ready"
    assert data["checks"]["redis"] == {
        "status": "skipped",
        "detail": "no REDIS_URL: cache in memory, Celery runs tasks in-process",
    }
    assert data["checks"]["worker"]["status"] == "skipped"


def test_probes_answer_only_reads(client):
    # a POST to a probe path is not a probe: it falls through to the URL map, which has no such page
    assert client.post("/healthz").status_code == 404


@pytest.mark.django_db
def test_the_heartbeat_is_scheduled_every_minute_by_the_seeded_beat_entry():
    from django_celery_beat.models import PeriodicTask

    # given the default schedule, seeded by the workers' migrations
    entry = next(e for e in DEFAULT_SCHEDULE if e.task == "workers.tasks.worker_heartbeat")
    # then its row exists and runs every minute
    row = PeriodicTask.objects.select_related("interval").get(name=entry.name)
    assert row.task == "workers.tasks.worker_heartbeat"
    assert (row.interval.every, row.interval.period) == (1, "minutes")
    assert row.enabled

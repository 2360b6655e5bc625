"""Liveness (/healthz) and readiness (/readyz) for load balancers and container healthchecks.

Both are answered by HealthProbeMiddleware, first in MIDDLEWARE, before host validation, HTTPS redirect,
sessions, CSP or the request id: a probe comes over plain HTTP with whatever Host header the balancer
uses, carries no cookie and must not touch anything but the checks. Neither needs a login, and neither
says anything about the district's data.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from config.mail import mail_summary
from ops.heartbeat import heartbeat_age, redis_client

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(frozen=True)
class Check:
    """The outcome of one readiness check: ok, failed or skipped, and a short reason for people."""

    status: str
    detail: str = ""


def check_database() -> Check:
    """The default database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"; the class name says which
        return Check(FAILED, type(error).__name__)
    return Check(OK)


def check_redis() -> Check:
    """Redis (broker, cache and throttle counters) answers a PING."""
    if not settings.REDIS_URL:
        return Check(SKIPPED, "no REDIS_URL: cache in memory, Celery runs tasks in-process")
    try:
        redis_client(settings.REDIS_URL).ping()
    except Exception as error:  # noqa: BLE001
        return Check(FAILED, type(error).__name__)
    return Check(OK)


def check_worker() -> Check:
    """A worker ran the heartbeat task within READINESS_HEARTBEAT_MAX_AGE seconds."""
    if not settings.REDIS_URL:
        return Check(SKIPPED, "no REDIS_URL: Celery runs tasks in-process, there is no worker to wait for")
    limit = settings.READINESS_HEARTBEAT_MAX_AGE
    try:
        age = heartbeat_age()
    except Exception as error:  # noqa: BLE001
        return Check(FAILED, f"heartbeat unreadable: {type(error).__name__}")
    if age is None:
        return Check(FAILED, "no worker heartbeat recorded yet")
    if age > limit:
        return Check(FAILED, f"last worker heartbeat {age:.0f} s ago, limit {limit} s")
    return Check(OK, f"last worker heartbeat {max(age, 0):.0f} s ago")


def check_mail() -> Check:
    """Mail is configured (a host for SMTP, or a backend that needs none); never fails readiness.

    No connection is made: an office's mail server being slow must not take the web out of rotation.
    `manage.py send_test_email ADDRESS` proves the settings by sending.
    """
    return Check(OK if settings.MAIL_CONFIGURED else SKIPPED, mail_summary(settings))


READINESS_CHECKS: dict[str, Callable[[], Check]] = {
    "database": check_database,
    "redis": check_redis,
    "worker": check_worker,
    "mail": check_mail,
}


def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and serving; depends on nothing else."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    """Ready when every check passes or is skipped; 503 naming the failed checks otherwise."""
    started = time.monotonic()
    results = {name: check() for name, check in READINESS_CHECKS.items()}
    failed = [name for name, result in results.items() if result.status == FAILED]
    body = {
        "status": "not ready" if failed else "ready",
        "failed": failed,
        "checks": {name: {"status": r.status, "detail": r.detail} for name, r in results.items()},
        "seconds": round(time.monotonic() - started, 3),
    }
    response = JsonResponse(body, status=503 if failed else 200)
    response["Cache-Control"] = "no-store"
    return response


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {"/healthz": healthz, "/readyz": readyz}


class HealthProbeMiddleware:
    """Answers GET/HEAD /healthz and /readyz (trailing slash or not) before any other middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/"))
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)

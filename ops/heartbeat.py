"""The worker heartbeat: a beat entry sends `worker_heartbeat` every minute; the time it ran is kept in Redis.

Readiness (/readyz) reads that time: a recent heartbeat proves that beat schedules, the broker delivers
and a worker consumes. The time is written to Redis directly rather than through Django's cache, so
that every process sees the same value whatever cache a test or a deployment configures.
"""

import time
from functools import cache

import redis
from django.conf import settings

HEARTBEAT_KEY = "crm:ops:worker-heartbeat"
# Kept well past any sensible readiness limit, so an old heartbeat still says how old it is.
HEARTBEAT_TTL_SECONDS = 24 * 3600


@cache
def redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per Redis URL, with short timeouts: a probe must answer quickly."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def heartbeat_record(*, now: float | None = None) -> float:
    """Store the time a worker ran the heartbeat task; returns it (seconds since the epoch).

    Without REDIS_URL there is no worker to vouch for (tasks run in-process): nothing is stored.
    """
    stamp = time.time() if now is None else now
    if not settings.REDIS_URL:
        return stamp
    redis_client(settings.REDIS_URL).set(HEARTBEAT_KEY, repr(stamp), ex=HEARTBEAT_TTL_SECONDS)
    return stamp


def heartbeat_age(*, now: float | None = None) -> float | None:
    """Seconds since the last heartbeat, or None if no worker has recorded one (in the last day)."""
    raw = redis_client(settings.REDIS_URL).get(HEARTBEAT_KEY)
    if raw is None:
        return None
    return (time.time() if now is None else now) - float(raw)

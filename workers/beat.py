"""Beat's scheduler: django-celery-beat's DatabaseScheduler, sending only while it holds a Redis lock.

DatabaseScheduler has no lock of its own, so two beats started by mistake (a deploy overlapping the
old container, a second `celery beat` on another host) would each send every periodic task. Here
only the beat holding the lock `district_crm:beat-lock` sends; it renews the lock's TTL as it ticks.
Another beat waits, logging "another beat holds the lock", and takes over once the lock has
expired (the first was killed) or been released (the first stopped cleanly).
"""

import logging
import os
import socket
import time
import uuid

import redis
from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler
from redis.exceptions import LockError, RedisError

logger = logging.getLogger(__name__)

LOCK_KEY = "district_crm:beat-lock"


class LockedDatabaseScheduler(DatabaseScheduler):
    """The database schedule, sent by whichever single beat holds the lock."""

    def __init__(self, *args, **kwargs):
        # Store each entry's last run as soon as it is sent: a beat taking over reads the schedule
        # from the database and must not send again what its predecessor has just sent.
        kwargs.setdefault("sync_every_tasks", 1)
        self.lock_ttl = float(settings.BEAT_LOCK_TTL)
        self._lock = None
        self._renewed_at = 0.0
        self._waiting_logged = False
        super().__init__(*args, **kwargs)
        broker = self.app.conf.broker_url or ""
        if broker.startswith(("redis://", "rediss://")):
            token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
            self._client = redis.Redis.from_url(broker, socket_connect_timeout=2, socket_timeout=2)
            self._lock = self._client.lock(LOCK_KEY, timeout=self.lock_ttl, thread_local=False)
            self._token = token
        else:
            logger.warning("beat runs without a lock: the broker %r is not Redis", broker)

    def tick(self, *args, **kwargs) -> float:
        """Send what is due if this beat holds the lock; otherwise wait a third of the lock's TTL."""
        renew_within = self.lock_ttl / 3
        if self._lock is not None and not self._hold_lock():
            return renew_within
        return min(super().tick(*args, **kwargs), renew_within)

    def close(self) -> None:
        """Store the schedule, then release the lock so another beat can take over at once."""
        try:
            super().close()
        finally:
            if self._lock is not None and self._lock.local.token is not None:
                try:
                    self._lock.release()
                    logger.info("beat released the lock %s", LOCK_KEY)
                except (LockError, RedisError):
                    pass  # already expired or Redis is gone: the TTL frees it anyway

    def _hold_lock(self) -> bool:
        """True when this beat holds the lock: renew it if held, try to take it if not."""
        lock = self._lock
        try:
            if lock.local.token is not None:
                if time.monotonic() - self._renewed_at >= self.lock_ttl / 3:
                    lock.reacquire()
                    self._renewed_at = time.monotonic()
                return True
            if lock.acquire(blocking=False, token=self._token):
                self._renewed_at = time.monotonic()
                self._waiting_logged = False
                logger.info("beat took the lock %s (TTL %ss); reading the schedule", LOCK_KEY, self.lock_ttl)
                # The predecessor may have sent entries since this beat last read them.
                self._initial_read = True
                self._heap = None
                return True
        except LockError:
            # Our TTL ran out (a stall longer than the TTL): another beat may already be sending.
            logger.warning("beat lost the lock %s; it stops sending until it takes it again", LOCK_KEY)
            lock.local.token = None
            return False
        except RedisError:
            logger.warning("beat cannot reach Redis for its lock; it sends nothing until it can")
            lock.local.token = None
            return False
        if not self._waiting_logged:
            holder = self._holder()
            logger.info(
                "another beat holds the lock %s (%s); this one waits and sends nothing", LOCK_KEY, holder
            )
            self._waiting_logged = True
        return False

    def _holder(self) -> str:
        try:
            value = self._client.get(LOCK_KEY)
        except RedisError:
            return "unknown"
        return value.decode() if value else "just released"

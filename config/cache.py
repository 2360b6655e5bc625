"""Django's Redis cache, failing open: with Redis down a read misses and a write is dropped, with a log line.

The cache holds only what can be lost: API throttle counters and import progress. A page or an API
call must not fail because Redis restarted; while it is down requests go unthrottled, and the log
says so once per outage rather than once per request.
"""

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# After a failure the cache is taken to be down for this long: requests meanwhile skip Redis at once
# instead of each paying a connection attempt.
DOWN_PAUSE = 5.0
# Never wait long on a Redis that does not answer (the default waits for the OS timeout).
SOCKET_TIMEOUT = 1.0

_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _fail_open(fallback):
    """Wrap a client method: on a Redis outage return `fallback(*args)` and log the first failure."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if time.monotonic() < self._down_until:
                return fallback(*args)
            try:
                result = method(self, *args, **kwargs)
            except _UNAVAILABLE as exc:
                if not self._down_until:
                    logger.warning("cache unavailable (%s): failing open until Redis answers again", exc)
                self._down_until = time.monotonic() + DOWN_PAUSE
                return fallback(*args)
            if self._down_until:
                logger.info("cache available again")
                self._down_until = 0.0
            return result

        return wrapper

    return decorate


def _nothing(*args):
    return None


def _false(*args):
    return False


def _default(key, default):
    return default


def _empty(*args):
    return {}


def _unchanged(key, delta):
    return delta


class FailOpenRedisCacheClient(RedisCacheClient):
    """The Redis client of Django's cache, each operation answering as a miss when Redis is down."""

    def __init__(self, servers, **options):
        options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT)
        options.setdefault("socket_timeout", SOCKET_TIMEOUT)
        super().__init__(servers, **options)
        self._down_until = 0.0

    add = _fail_open(_false)(RedisCacheClient.add)
    get = _fail_open(_default)(RedisCacheClient.get)
    set = _fail_open(_nothing)(RedisCacheClient.set)
    touch = _fail_open(_false)(RedisCacheClient.touch)
    delete = _fail_open(_false)(RedisCacheClient.delete)
    get_many = _fail_open(_empty)(RedisCacheClient.get_many)
    has_key = _fail_open(_false)(RedisCacheClient.has_key)
    incr = _fail_open(_unchanged)(RedisCacheClient.incr)
    set_many = _fail_open(lambda data, timeout: [])(RedisCacheClient.set_many)
    delete_many = _fail_open(_nothing)(RedisCacheClient.delete_many)
    clear = _fail_open(_false)(RedisCacheClient.clear)


class FailOpenRedisCache(RedisCache):
    """settings.CACHES backend: Django's RedisCache with the fail-open client."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient

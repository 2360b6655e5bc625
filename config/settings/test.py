"""Test runs: same shape as production, cheap password hashing, mail kept in memory."""

import os

from config.mail import mail_settings
from config.notify import PLATFORM_HOSTS, allowed_hosts
from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="test-only-secret-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# EMAIL_* are parsed as in production, but mail always stays in memory (django.core.mail.outbox).
globals().update(mail_settings(os.environ, default_backend="django.core.mail.backends.locmem.EmailBackend"))
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MAIL_CONFIGURED = True
# Webhook tests and a developer's receiver listen on 127.0.0.1, which production refuses.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=True)
# Robot tests and a developer's receiver listen on this machine too.
NOTIFY_ALLOWED_HOSTS = allowed_hosts(
    env.list("NOTIFY_ALLOWED_HOSTS", default=[*PLATFORM_HOSTS, "127.0.0.1", "localhost"])
)

# `make test` uses PostgreSQL and Redis when their URLs are set and answer; otherwise it falls
# back to SQLite / eager Celery, unless REQUIRE_SERVICES=1 asks for a failure instead.
import socket  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from config.settings.base import DATABASE_URL, REDIS_URL, VAR_DIR  # noqa: E402

REQUIRE_SERVICES = env.bool("REQUIRE_SERVICES", default=False)


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


if DATABASE_URL and not _reachable(DATABASE_URL, 5432):
    if REQUIRE_SERVICES:
        raise ImproperlyConfigured(f"REQUIRE_SERVICES=1 but the database at {DATABASE_URL} does not answer")
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "test.sqlite3"}}
if REDIS_URL and not _reachable(REDIS_URL, 6379):
    if REQUIRE_SERVICES:
        raise ImproperlyConfigured(f"REQUIRE_SERVICES=1 but Redis at {REDIS_URL} does not answer")
    REDIS_URL = ""
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True

# A test's page computes what no worker stored yet, as dev does (tests/web/test_stored_pages.py
# turns this off to see "being computed").
STORED_RESULTS_COMPUTE_MISSING = env.bool("STORED_RESULTS_COMPUTE_MISSING", default=True)

# Each test starts with empty throttle counters; a shared Redis cache would carry them across tests.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Transactional tests restore the migrated data after each flush, except auth: its role groups and
# permissions are remade by crm.roles.roles_sync_permissions (after migrate, or on demand by the
# test factories), so a group re-created under a new id can never collide with a restored one.
TEST_NON_SERIALIZED_APPS = ["django.contrib.auth"]

"""Fixtures of the operations tests: a clean heartbeat key, and the browser marker of tests/web."""

import pytest
from django.conf import settings

from ops.heartbeat import HEARTBEAT_KEY, redis_client

# The `browser` marker, its "Chromium is missing" skip (a failure under REQUIRE_SERVICES=1), and the
# hand-built district of the page tests.
from tests.web.conftest import district, pytest_configure, pytest_runtest_setup  # noqa: F401


@pytest.fixture
def no_heartbeat():
    """No worker heartbeat recorded in this run's Redis, before and after the test."""
    client = redis_client(settings.REDIS_URL)
    client.delete(HEARTBEAT_KEY)
    yield client
    client.delete(HEARTBEAT_KEY)

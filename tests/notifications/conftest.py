"""The local robot receiver, started per test."""

import pytest

from tests.notifications import receiver as robot_receiver

# The reliability tests' real Redis db and celery worker processes (tests/workers/test_reliability.py).
from tests.workers.test_reliability import broker, mail_dir, workers  # noqa: F401


@pytest.fixture
def receiver():
    found, server = robot_receiver.start()
    yield found
    server.shutdown()
    server.server_close()

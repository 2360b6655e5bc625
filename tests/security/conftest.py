"""The districts the bad-input catalogue writes into: the API's (`world`) and the pages' (`district`)."""

import pytest
from django.core.cache import cache

from tests.api.conftest import world  # noqa: F401 - a fixture, used by name
from tests.web.conftest import district  # noqa: F401 - a fixture, used by name


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters live in the cache; hundreds of refused requests must not meet a 429.
    cache.clear()
    yield
    cache.clear()

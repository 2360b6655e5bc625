"""Each matching test starts from an empty ranking cache: a rolled-back test may leave the same largest
ids behind on SQLite, which would make the version stamp of the next test look unchanged."""

import pytest

from matching import adapter


@pytest.fixture(autouse=True)
def _fresh_matching_cache():
    adapter.cache_clear()
    yield
    adapter.cache_clear()

"""A fresh web process warms the matching arrays in the background (gunicorn's post_worker_init)."""

import pytest

from config.warmup import warm_in_background
from matching import adapter
from tests.factories import BuildingFactory, UnitFactory


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_warm_up_loads_every_building_into_the_matching_arrays():
    # given three buildings of two units each, and a process that has loaded nothing yet
    for building in BuildingFactory.create_batch(3):
        UnitFactory.create_batch(2, building=building)
    adapter.cache_clear()
    assert "buildings" not in adapter.cache_info()

    # when the warm-up thread runs to its end
    thread = warm_in_background()
    thread.join(timeout=60)

    # then the arrays hold the three buildings and their six units, before any ranking asked
    assert not thread.is_alive()
    info = adapter.cache_info()
    assert info["buildings"] == 3
    assert info["units"] == 6


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_warm_up_is_logged_and_the_process_goes_on(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("database away")

    monkeypatch.setattr(adapter, "loaded", broken)
    warm_in_background().join(timeout=60)
    assert "warm-up failed" in caplog.text

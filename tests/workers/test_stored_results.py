"""The minute's sweep and the nightly job of the stored results (crm.services.stored_results)."""

import datetime as dt

import pytest
from django.db.models import F

from crm.data_versions import INDICATORS, MATCHING
from crm.models import DataVersion, StoredResult
from crm.services.stored_results import (
    OPEN_LEADS,
    PLACEMENTS,
    YEAR_FIGURES,
    stale_groups,
    stored_results_recompute,
)
from workers import enqueue
from workers.schedule import DEFAULT_SCHEDULE
from workers.tasks import stored_results_nightly, stored_results_refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sweep"}
    }
    messages = []
    monkeypatch.setattr(enqueue, "_send", lambda task, args, kwargs, **options: messages.append(args) or True)
    return messages


def test_with_nothing_stored_both_groups_are_stale():
    assert stale_groups() == [INDICATORS, MATCHING]


def test_the_nightly_job_stores_every_kind_and_leaves_nothing_stale():
    # when
    timings = stored_results_nightly()

    # then: this year's figures among the years, and the placements
    assert f"{YEAR_FIGURES}:{dt.date.today().year}" in timings
    assert StoredResult.objects.filter(kind=PLACEMENTS, payload__isnull=False).exists()
    assert stale_groups() == []


def test_the_sweep_queues_only_the_group_whose_version_moved(sent):
    # given
    DataVersion.objects.get_or_create(name=INDICATORS)
    stored_results_recompute(group=INDICATORS)
    stored_results_recompute(group=MATCHING)

    # when: a write the signals did not see (a bulk insert) moved the indicators' version
    DataVersion.objects.filter(name=INDICATORS).update(value=F("value") + 1)
    queued = stored_results_refresh()

    # then
    assert queued == [INDICATORS]
    assert sent == [(INDICATORS,)]


def test_placements_of_another_day_are_stale():
    # given
    stored_results_nightly()

    # when
    row = StoredResult.objects.get(kind=PLACEMENTS, key=OPEN_LEADS)
    row.payload = {**row.payload, "on": "2000-01-01"}
    row.save()

    # then
    assert stale_groups() == [MATCHING]


def test_beat_sweeps_every_minute_and_recomputes_everything_nightly():
    tasks = {e.task: e for e in DEFAULT_SCHEDULE}
    assert tasks["workers.tasks.stored_results_refresh"].every_minutes == 1
    assert tasks["workers.tasks.stored_results_nightly"].crontab == {"minute": "0", "hour": "1"}

"""Pages read stored results: they say when the figures were computed, that they are being computed,
or that the data has changed since; a committed write queues one recomputation per group.

The district is conftest.py's: 甲大厦 (leasable 1,000 m²) with one tenant on 500 m², 乙中心 (2,000 m²).
"""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from crm.data_versions import INDICATORS, MATCHING
from crm.models import DataVersion, StoredResult, Street
from crm.services.stored_results import (
    PLACEMENTS,
    YEAR_FIGURES,
    stored_results_recompute,
)
from workers import enqueue
from workers.tasks import stored_results_recompute_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """The messages the scheduling sends, instead of the broker."""
    messages = []
    monkeypatch.setattr(
        enqueue,
        "_send",
        lambda task, args, kwargs, **options: messages.append((task.name, args, options)) or True,
    )
    cache.clear()
    yield messages
    cache.clear()


def _occupancy(response) -> Decimal:
    return next(r for r in response.context["rows"] if r["key"] == "occupancy_rate")["value"]


def test_with_workers_a_dashboard_with_nothing_stored_says_it_is_being_computed(district, settings, sent):
    # given: no worker has stored anything, and pages do not compute (production)
    settings.STORED_RESULTS_COMPUTE_MISSING = False

    # when
    response = district.client("district_admin").get(reverse("web:dashboard"), {"year": district.tax_year})

    # then: no figure, the notice, the year wanted and the group queued once
    assert 'data-as-of="computing"' in response.content.decode()
    assert _occupancy(response) is None
    assert StoredResult.objects.filter(
        kind=YEAR_FIGURES, key=str(district.tax_year), payload__isnull=True
    ).exists()
    assert [name for name, _args, _options in sent] == ["workers.tasks.stored_results_recompute_task"]


def test_once_a_worker_stored_the_figures_the_dashboard_shows_them_as_of_then(district, settings, sent):
    # given
    settings.STORED_RESULTS_COMPUTE_MISSING = False
    district.client("district_admin").get(reverse("web:dashboard"), {"year": district.tax_year})

    # when: the worker runs what was queued
    stored_results_recompute_task(INDICATORS)
    response = district.client("district_admin").get(reverse("web:dashboard"), {"year": district.tax_year})

    # then: 500 / 3,000 = 16.67%, current
    assert _occupancy(response).quantize(Decimal("0.01")) == Decimal("16.67")
    assert 'data-as-of="current"' in response.content.decode()


def test_figures_older_than_the_data_are_shown_with_a_notice_and_recomputed(district, sent):
    # given: figures stored, then a write elsewhere committed (the version moved past them)
    DataVersion.objects.get_or_create(name=INDICATORS)
    stored_results_recompute(group=INDICATORS)
    DataVersion.objects.filter(name=INDICATORS).update(value=F("value") + 1)

    # when
    response = district.client("district_admin").get(reverse("web:dashboard"), {"year": district.tax_year})

    # then: the figures are served, saying they are older, and one recomputation is queued
    assert _occupancy(response).quantize(Decimal("0.01")) == Decimal("16.67")
    assert 'data-as-of="stale"' in response.content.decode()
    assert [args for _name, args, _options in sent] == [(INDICATORS,)]


def test_the_forecast_waits_for_the_open_leads_placements(district, settings, sent):
    # given
    settings.STORED_RESULTS_COMPUTE_MISSING = False
    client = district.client("district_admin")
    waiting = client.get(reverse("web:forecast"), HTTP_HX_REQUEST="true")
    assert 'data-as-of="computing"' in waiting.content.decode()

    # when
    stored_results_recompute(group=MATCHING)
    stored_results_recompute(group=INDICATORS)
    response = client.get(reverse("web:forecast"), HTTP_HX_REQUEST="true")

    # then: the one open lead is counted or unplaced, from the stored placements
    forecast = response.context["forecast"]
    assert forecast.leads_counted + forecast.leads_unplaced == 1
    assert StoredResult.objects.get(kind=PLACEMENTS).payload["rates"]["new"] == [0, 0]


def test_a_committed_write_queues_one_recomputation_per_group_however_many_rows(
    sent, django_capture_on_commit_callbacks
):
    # when: three streets in one transaction, committed
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for name in ("一", "二", "三"):
            Street.objects.create(name=f"新街道{name}", kind="subdistrict")

    # then: streets feed both groups: one callback and one message each, debounced
    assert len(callbacks) == 2
    assert sorted(args for _name, args, _options in sent) == [(INDICATORS,), (MATCHING,)]
    assert all(options == {"countdown": enqueue.RECOMPUTE_DEBOUNCE_SECONDS} for _n, _a, options in sent)


def test_a_second_write_while_one_recomputation_is_queued_queues_nothing_more(district, sent):
    # given
    assert enqueue.stored_results_schedule(INDICATORS) is True

    # when
    again = enqueue.stored_results_schedule(INDICATORS)

    # then: until the worker starts on it, which clears the mark
    assert again is False
    stored_results_recompute_task(INDICATORS)
    assert enqueue.stored_results_schedule(INDICATORS) is True
    assert len(sent) == 2

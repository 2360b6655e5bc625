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
from crm.services.leads import lead_update
from crm.services.stored_results import (
    OPEN_LEADS,
    PLACEMENTS,
    YEAR_FIGURES,
    stored_results_recompute,
)
from tests.factories import LeadFactory
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
    assert StoredResult.objects.get(kind=PLACEMENTS, key=OPEN_LEADS).payload["rates"]["new"] == [0, 0]


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


def _placements() -> StoredResult:
    return StoredResult.objects.get(kind=PLACEMENTS, key=OPEN_LEADS)


def _three_more_leads(district) -> list:
    return [
        LeadFactory(
            owner=district.promoter,
            industry=district.lead.industry,
            area_min_m2=Decimal("100"),
            area_max_m2=Decimal("400"),
        )
        for _ in range(3)
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_to_one_lead_ranks_that_lead_only_under_the_new_version(district):
    # given: four open leads ranked (the first recomputation ranks all four)
    _three_more_leads(district)
    assert stored_results_recompute(group=MATCHING)["leads_ranked"] == 4

    # when: a promoter widens one lead's area (committed: the triggers advance the version)
    lead_update(lead=district.lead, area_max_m2=Decimal("2000"))
    version = DataVersion.objects.get(name=MATCHING).value
    timings = stored_results_recompute(group=MATCHING)

    # then: one lead ranked, the row is stored under the version of the write, and its best
    # buildings are those of ranking all four again
    assert timings["leads_ranked"] == 1
    assert _placements().data_version == version
    changed_only = _placements().payload
    assert stored_results_recompute(group=MATCHING, full=True)["leads_ranked"] == 4
    assert _placements().payload == changed_only


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_to_a_building_ranks_every_lead(district):
    # given
    _three_more_leads(district)
    stored_results_recompute(group=MATCHING)

    # when: a building's rent changes (its arrays, not the leads')
    district.building.rent_max = Decimal("2.80")
    district.building.save()
    timings = stored_results_recompute(group=MATCHING)

    # then: all four ranked again
    assert timings["leads_ranked"] == 4
    assert _placements().data_version == DataVersion.objects.get(name=MATCHING).value


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_lead_no_longer_open_leaves_the_placements_without_ranking(district):
    # given
    others = _three_more_leads(district)
    stored_results_recompute(group=MATCHING)
    assert str(others[0].pk) in _placements().payload["best"]

    # when: one lead leaves the open pipeline (its row gone, as a delete or a close removes it)
    others[0].delete()
    timings = stored_results_recompute(group=MATCHING)

    # then: nothing ranked, the lead is no longer placed
    assert timings["leads_ranked"] == 0
    assert str(others[0].pk) not in _placements().payload["best"]

"""Batch work computed off the request path and stored for the pages, each result under the data
version of its inputs (crm.data_versions) that it was computed from.

Kinds (kind, key -> payload):

* ``year_figures``, the year -> crm.year_figures payload: the district's, every street's and every
  building's indicator figures (dashboard, its street table and map, what-if, forecast, building
  list tiers, building page trend and tier).
* ``tenant_mix``, ``today`` -> every building's tenants active today by industry section.
* ``retention``, ``today`` -> the summary of scoring every active tenancy's move-out risk
  (retention.scoring; the scores themselves are rows of retention.RetentionScore): the model
  version and per building the probability-weighted area and tax expected to move out.
* ``placements``, ``open_leads`` -> every open lead's best building (matching.adapter's
  match_all_open_leads) and the stages' conversion rates (the forecast).

A computation reads the version before it reads the data: what it stores is at least as new as the
version it is stored under, so a result can look older than it is but never newer.
"""

import datetime as dt
import logging
import time
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from crm.data_versions import INDICATORS, MATCHING, current_versions
from crm.models import PlanTarget, StoredResult, TaxRecord, Tenancy

logger = logging.getLogger(__name__)

YEAR_FIGURES, TENANT_MIX, PLACEMENTS = "year_figures", "tenant_mix", "placements"
RETENTION = "retention"
TODAY, OPEN_LEADS = "today", "open_leads"
GROUP_OF_KIND = {
    YEAR_FIGURES: INDICATORS,
    TENANT_MIX: INDICATORS,
    RETENTION: INDICATORS,
    PLACEMENTS: MATCHING,
}
# Kinds whose result is of one day (today's tenants, today's ranking, today's risks): stale once the
# day is over.
DAILY_KINDS = {TENANT_MIX, PLACEMENTS, RETENTION}
TREND_YEARS = 3  # the building page's tax trend
# A page may ask for any year between these (YearForm's bounds); a wanted row outside is ignored.
FIRST_YEAR, YEARS_AHEAD = 2000, 5


def stored_result_save(*, kind: str, key: str, version: int, payload, seconds: float) -> bool:
    """Store one result unless a result from a newer version is stored already (two workers may
    finish in either order). True if stored."""
    with transaction.atomic():
        row = StoredResult.objects.select_for_update().filter(kind=kind, key=key).first()
        if row is None:
            StoredResult.objects.create(
                kind=kind,
                key=key,
                group=GROUP_OF_KIND[kind],
                data_version=version,
                computed_at=timezone.now(),
                seconds=seconds,
                payload=payload,
            )
            return True
        if row.payload is not None and row.data_version > version:
            return False
        row.data_version, row.computed_at, row.seconds, row.payload = (
            version,
            timezone.now(),
            seconds,
            payload,
        )
        row.save(update_fields=["data_version", "computed_at", "seconds", "payload"])
        return True


def stored_result_want(*, kind: str, key: str) -> None:
    """Note that a page asked for a result nobody computes by default (a year): the next
    recomputation of its group computes it too."""
    StoredResult.objects.get_or_create(kind=kind, key=key, defaults={"group": GROUP_OF_KIND[kind]})


def default_years(today: dt.date) -> set[int]:
    """The years pages show without being asked: the plan's milestones up to this year (the
    dashboard's trend), this year (the forecast) and the tier year with the building trend's years."""
    from crm.web.buildings import tier_year

    tier = tier_year()
    milestones = set(
        PlanTarget.objects.filter(year__lte=today.year).values_list("year", flat=True).distinct()
    )
    last_tax = TaxRecord.objects.order_by("-year").values_list("year", flat=True).first()
    years = milestones | {today.year, tier} | set(range(tier - TREND_YEARS + 1, tier + 1))
    if last_tax is not None:
        years.add(last_tax)
    return years


def wanted_years(today: dt.date) -> list[int]:
    asked = StoredResult.objects.filter(kind=YEAR_FIGURES).values_list("key", flat=True)
    years = default_years(today) | {int(k) for k in asked if k.isdigit()}
    return sorted(y for y in years if FIRST_YEAR <= y <= today.year + YEARS_AHEAD)


def tenant_mix_compute(*, on: dt.date) -> dict:
    """Every building's tenants active on `on` by industry section: [section, enterprises, area]."""
    active = Tenancy.objects.filter(Q(start__lte=on) & (Q(end__isnull=True) | Q(end__gte=on)))
    rows = (
        active.values("building_id", "enterprise__industry__section")
        .annotate(n=Count("enterprise", distinct=True), area=Sum("area_m2"))
        .order_by("building_id", "-area", "enterprise__industry__section")
    )
    mix: dict[str, list] = defaultdict(list)
    for row in rows:
        mix[str(row["building_id"])].append(
            [row["enterprise__industry__section"] or "", row["n"], str(row["area"])]
        )
    return {"on": on.isoformat(), "buildings": mix}


def indicators_recompute(*, years: list[int] | None = None, mix: bool = True) -> dict[str, float]:
    """Recompute the results read from the indicator inputs; returns seconds per result."""
    version = current_versions()[INDICATORS]
    today = timezone.localdate()
    timings = {}
    for year in years if years is not None else wanted_years(today):
        started = time.perf_counter()
        payload = _year_figures(year)
        seconds = time.perf_counter() - started
        stored_result_save(
            kind=YEAR_FIGURES, key=str(year), version=version, payload=payload, seconds=seconds
        )
        timings[f"{YEAR_FIGURES}:{year}"] = seconds
    if not mix:
        return timings
    started = time.perf_counter()
    payload = tenant_mix_compute(on=today)
    seconds = time.perf_counter() - started
    stored_result_save(kind=TENANT_MIX, key=TODAY, version=version, payload=payload, seconds=seconds)
    timings[f"{TENANT_MIX}:{TODAY}"] = seconds
    timings.update(retention_recompute(version=version, on=today))
    return timings


def retention_recompute(*, version: int | None = None, on: dt.date | None = None) -> dict[str, float]:
    """Score every active tenancy with the model in use (after new indicator inputs, a new model)."""
    from retention.scoring import retention_scores_compute

    version = current_versions()[INDICATORS] if version is None else version
    started = time.perf_counter()
    payload = retention_scores_compute(on=on or timezone.localdate())
    seconds = time.perf_counter() - started
    stored_result_save(kind=RETENTION, key=TODAY, version=version, payload=payload, seconds=seconds)
    return {f"{RETENTION}:{TODAY}": seconds}


def _year_figures(year: int) -> dict:
    from crm.year_figures import year_figures_compute

    return year_figures_compute(year=year)


def placements_compute(*, on: dt.date) -> dict:
    """Every open lead's best building on `on` and the stages' conversion rates (the forecast's
    inputs that rank every open lead)."""
    from crm.models import Lead
    from crm.web.forecast import (
        SummedAdditions,
        additions_summed,
        pipeline_additions,
        stage_conversion_rates,
        summed_to_json,
        year_share,
    )
    from matching.adapter import match_all_open_leads

    best = match_all_open_leads(top=1, on=on)
    rates = stage_conversion_rates()
    # The whole district's leads summed, for those who see every lead (the forecast then does no
    # per-lead work on a request).
    additions, unplaced, expected = pipeline_additions(
        leads=Lead.objects.all(), best_buildings=best, rates=rates, share=year_share(today=on)
    )
    summed = SummedAdditions(additions_summed(additions), unplaced, expected, len(additions))
    return {
        "on": on.isoformat(),
        "best": {str(lead_id): ranked[0][0] for lead_id, ranked in best.items() if ranked},
        "rates": {stage: [r.won, r.decided] for stage, r in rates.items()},
        "summed": summed_to_json(summed),
    }


def placements_recompute() -> dict[str, float]:
    version = current_versions()[MATCHING]
    started = time.perf_counter()
    payload = placements_compute(on=timezone.localdate())
    seconds = time.perf_counter() - started
    stored_result_save(kind=PLACEMENTS, key=OPEN_LEADS, version=version, payload=payload, seconds=seconds)
    return {f"{PLACEMENTS}:{OPEN_LEADS}": seconds}


RECOMPUTE = {INDICATORS: indicators_recompute, MATCHING: placements_recompute}


def stored_results_recompute(*, group: str) -> dict[str, float]:
    """Recompute every stored result of one group of inputs."""
    timings = RECOMPUTE[group]()
    logger.info("stored results of %s recomputed: %s", group, timings)
    return timings


def stale_groups() -> list[str]:
    """The groups with a stored result older than its inputs, of another day, or not computed yet
    (one query for the versions, one for the rows)."""
    versions = current_versions()
    today = timezone.localdate()
    stale = set()
    rows = StoredResult.objects.values_list("kind", "group", "data_version", "computed_at", "payload__on")
    seen = set()
    for kind, group, version, computed_at, on in rows:
        seen.add(kind)
        if (
            version < versions[group]
            or computed_at is None
            or kind in DAILY_KINDS
            and on != today.isoformat()
        ):
            stale.add(group)
    for kind, group in GROUP_OF_KIND.items():
        if kind not in seen:
            stale.add(group)
    return sorted(stale)


def stored_result_compute(*, kind: str, key: str) -> None:
    """Compute one result now (a page that found none, where tasks run in-process)."""
    if kind == YEAR_FIGURES:
        indicators_recompute(years=[int(key)], mix=False)
    elif kind == TENANT_MIX:
        indicators_recompute(years=[])
    elif kind == RETENTION:
        retention_recompute()
    elif kind == PLACEMENTS:
        placements_recompute()

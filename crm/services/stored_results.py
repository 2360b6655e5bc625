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
* ``placements``, ``lead_inputs`` -> what that ranking read: the matching parts' counters and a digest
  of each open lead's inputs. A recomputation whose buildings, units, tenants, tax, policies and
  model are those of the stored one ranks only the leads whose digest changed (a promoter's edit:
  one lead, not 11,600) and keeps the others' best buildings; anything else, and the nightly run,
  ranks every open lead.

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

from crm.data_versions import INDICATORS, MATCHING, MATCHING_PARTS, current_versions, part_counter
from crm.models import DataVersion, PlanTarget, StoredResult, TaxRecord, Tenancy

logger = logging.getLogger(__name__)

YEAR_FIGURES, TENANT_MIX, PLACEMENTS = "year_figures", "tenant_mix", "placements"
RETENTION = "retention"
TODAY, OPEN_LEADS, LEAD_INPUTS = "today", "open_leads", "lead_inputs"
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


def placements_compute(*, on: dt.date, known: dict | None = None) -> tuple[dict, dict, int]:
    """Every open lead's best building on `on` and the stages' conversion rates (the forecast's
    inputs that rank every open lead), with the digests of the leads' inputs and how many leads
    were ranked. `known`: a stored result ({"best", "digests"}) whose other inputs are today's, of
    which only the leads whose digest changed are ranked again."""
    from crm.models import Lead
    from crm.web.forecast import (
        SummedAdditions,
        additions_summed,
        pipeline_additions,
        stage_conversion_rates,
        summed_to_json,
        year_share,
    )
    from matching.adapter import match_changed_open_leads

    before = {} if known is None else {int(lead_id): d for lead_id, d in known["digests"].items()}
    ranked, digests = match_changed_open_leads(before, top=1, on=on)
    best = {}
    if known is not None:
        # the unchanged leads still open keep their stored best building; closed ones drop out
        best = {
            int(lead_id): [(building_id, 1.0)]
            for lead_id, building_id in known["best"].items()
            if int(lead_id) in digests and int(lead_id) not in ranked
        }
    best.update({lead_id: r for lead_id, r in ranked.items() if r})
    rates = stage_conversion_rates()
    # The whole district's leads summed, for those who see every lead (the forecast then does no
    # per-lead work on a request).
    additions, unplaced, expected = pipeline_additions(
        leads=Lead.objects.all(), best_buildings=best, rates=rates, share=year_share(today=on)
    )
    summed = SummedAdditions(additions_summed(additions), unplaced, expected, len(additions))
    payload = {
        "on": on.isoformat(),
        "best": {str(lead_id): r[0][0] for lead_id, r in sorted(best.items()) if r},
        "rates": {stage: [r.won, r.decided] for stage, r in rates.items()},
        "summed": summed_to_json(summed),
    }
    return payload, {str(lead_id): d for lead_id, d in digests.items()}, len(ranked)


# The parts whose change the leads' digests do not tell: any of them moved, every lead is ranked.
_NOT_LEADS = [part for part in MATCHING_PARTS if part != "leads"]


def _part_versions() -> dict[str, int]:
    names = {part_counter(part): part for part in _NOT_LEADS}
    versions = dict.fromkeys(_NOT_LEADS, 0)
    versions.update(
        {names[n]: v for n, v in DataVersion.objects.filter(name__in=names).values_list("name", "value")}
    )
    return versions


def _known_placements(*, parts: dict[str, int], on: dt.date) -> dict | None:
    """The stored ranking and its leads' digests, if its other inputs are those of now and its day
    is `on` (one query); None otherwise."""
    rows = dict(
        StoredResult.objects.filter(
            kind=PLACEMENTS, key__in=[OPEN_LEADS, LEAD_INPUTS], payload__isnull=False
        ).values_list("key", "payload")
    )
    stored, inputs = rows.get(OPEN_LEADS), rows.get(LEAD_INPUTS)
    if (
        stored is None
        or inputs is None
        or stored.get("on") != on.isoformat()
        or inputs.get("on") != on.isoformat()
    ):
        return None
    if inputs.get("parts") != {part: parts[part] for part in _NOT_LEADS}:
        return None
    return {"best": stored["best"], "digests": inputs["digests"]}


def placements_recompute(*, full: bool = False) -> dict[str, float]:
    """Store the placements; rank only the leads that changed unless `full` or other inputs moved."""
    version = current_versions()[MATCHING]
    parts = _part_versions()  # read before the data, as the version
    on = timezone.localdate()
    known = None if full else _known_placements(parts=parts, on=on)
    started = time.perf_counter()
    payload, digests, ranked = placements_compute(on=on, known=known)
    seconds = time.perf_counter() - started
    inputs = {"on": on.isoformat(), "parts": parts, "digests": digests}
    # Inputs first: a stored ranking is never newer than the digests it is compared against.
    stored_result_save(kind=PLACEMENTS, key=LEAD_INPUTS, version=version, payload=inputs, seconds=seconds)
    stored_result_save(kind=PLACEMENTS, key=OPEN_LEADS, version=version, payload=payload, seconds=seconds)
    logger.info(
        "placements: %s of %s open leads ranked (%s)",
        ranked,
        len(digests),
        "full" if known is None else "changed only",
    )
    return {f"{PLACEMENTS}:{OPEN_LEADS}": seconds, "leads_ranked": ranked}


RECOMPUTE = {
    INDICATORS: lambda full: indicators_recompute(),
    MATCHING: lambda full: placements_recompute(full=full),
}


def stored_results_recompute(*, group: str, full: bool = False) -> dict[str, float]:
    """Recompute every stored result of one group of inputs; `full`: rank every open lead even
    when only some leads changed (the nightly run)."""
    timings = RECOMPUTE[group](full)
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

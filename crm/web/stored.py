"""How pages read stored results: the current one, or an older one with a notice and its
recomputation queued, or, where nothing was computed yet, "being computed" (computed here, once,
only where tasks run in-process: STORED_RESULTS_COMPUTE_MISSING, on with eager Celery)."""

from django.conf import settings

from crm.selectors.stored_results import Stored, stored_parts, stored_results
from crm.services.stored_results import GROUP_OF_KIND, stored_result_compute, stored_result_want


def read_parts(kind: str, key: str, parts: list[str]) -> tuple[dict, Stored]:
    """Several parts of one stored result in one query (e.g. the figures of a page of buildings)."""
    values, stored = stored_parts(kind, key, parts)
    if stored.missing or stored.stale:
        read_stored(kind, [key], part=parts[0] if parts else None)  # compute, want or queue it
        if stored.missing and settings.STORED_RESULTS_COMPUTE_MISSING:
            values, stored = stored_parts(kind, key, parts)
    return values, stored


def read_stored(kind: str, keys: list[str], *, part: str | None = None) -> dict[str, Stored]:
    found = stored_results(kind, keys, part=part)
    missing = [key for key, s in found.items() if s.missing]
    if missing and settings.STORED_RESULTS_COMPUTE_MISSING:
        for key in missing:
            stored_result_compute(kind=kind, key=key)
        found.update(stored_results(kind, missing, part=part))
    elif missing:
        for key in missing:
            stored_result_want(kind=kind, key=key)
    if any(s.missing or s.stale for s in found.values()):
        from workers.enqueue import stored_results_schedule

        stored_results_schedule(GROUP_OF_KIND[kind])
    return found


def read_one(kind: str, key: str, *, part: str | None = None) -> Stored:
    return read_stored(kind, [key], part=part)[key]


def as_of(results) -> dict:
    """What the page says about the results it shows: the oldest computation time, whether any is
    older than its inputs, whether any is still being computed (for web/_as_of.html)."""
    results = [r for r in results if r is not None]
    times = [r.computed_at for r in results if r.computed_at is not None]
    return {
        "time": min(times) if times else None,
        "stale": any(r.stale for r in results),
        "computing": any(r.missing for r in results),
    }

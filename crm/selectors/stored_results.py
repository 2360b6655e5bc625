"""Reading stored results (crm.services.stored_results) beside the current data versions."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from crm.models import DataVersion, StoredResult
from crm.services.stored_results import DAILY_KINDS


@dataclass(frozen=True)
class Stored:
    """One stored result (or the part of it asked for) as a page reads it."""

    kind: str
    key: str
    payload: Any
    computed_at: dt.datetime | None
    stale: bool  # computed from older inputs than today's (or on another day): say so

    @property
    def missing(self) -> bool:
        return self.computed_at is None


def stored_results(kind: str, keys: list[str], *, part: str | None = None) -> dict[str, Stored]:
    """The stored results of `kind` for `keys`, each compared with its group's current version, in
    one query. `part` ("streets", "buildings__12") reads only that part of each payload (the database
    extracts it). A key never computed comes back missing."""
    path = f"payload__{part}" if part else "payload"
    current = DataVersion.objects.filter(name=OuterRef("group")).values("value")[:1]
    rows = (
        StoredResult.objects.filter(kind=kind, key__in=keys)
        .annotate(current=Subquery(current))
        .values_list("key", "computed_at", "data_version", "current", path, "payload__on")
    )
    today = timezone.localdate().isoformat()
    found = {}
    for key, computed_at, version, current_version, payload, on in rows:
        stale = computed_at is not None and (
            version < (current_version or 0) or (kind in DAILY_KINDS and on != today)
        )
        found[key] = Stored(kind, key, payload, computed_at, stale)
    return {key: found.get(key) or Stored(kind, key, None, None, False) for key in keys}

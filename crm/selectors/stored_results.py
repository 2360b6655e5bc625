"""Reading stored results (crm.services.stored_results) beside the current data versions."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, OuterRef, Subquery
from django.db.models.fields.json import KeyTransform
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


def stored_parts(kind: str, key: str, parts: list[str]) -> tuple[dict[str, Any], "Stored"]:
    """Several parts of one stored result ("buildings__12", "buildings__15", …) in one query, each
    extracted by the database: (part -> value, the result's Stored without payload)."""
    current = DataVersion.objects.filter(name=OuterRef("group")).values("value")[:1]
    names = {f"part_{i}": KeyTransformPath(part) for i, part in enumerate(parts)}
    row = (
        StoredResult.objects.filter(kind=kind, key=key)
        .annotate(current=Subquery(current), **names)
        .values("computed_at", "data_version", "current", "payload__on", *names)
        .first()
    )
    if row is None:
        return {}, Stored(kind, key, None, None, False)
    stale = row["computed_at"] is not None and (
        row["data_version"] < (row["current"] or 0)
        or (kind in DAILY_KINDS and row["payload__on"] != timezone.localdate().isoformat())
    )
    values = {part: row[f"part_{i}"] for i, part in enumerate(parts)}
    return values, Stored(kind, key, None, row["computed_at"], stale)


def KeyTransformPath(part: str):  # noqa: N802 - builds an expression like F()
    """payload -> part -> … as an expression (KeyTransform chain) for annotate()."""
    expression: Any = F("payload")
    for name in part.split("__"):
        expression = KeyTransform(name, expression)
    return expression


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

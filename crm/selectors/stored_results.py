"""Reading stored results (crm.services.stored_results) beside the current data versions."""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
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
    prefixes = {part.rpartition("__")[0] for part in parts}
    if connection.vendor == "postgresql" and len(prefixes) == 1 and "" not in prefixes:
        return _sibling_parts(kind, key, prefixes.pop(), parts)
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


def _sibling_parts(kind: str, key: str, prefix: str, parts: list[str]) -> tuple[dict[str, Any], "Stored"]:
    """stored_parts of parts under one prefix ("buildings__12", "buildings__15": prefix "buildings"),
    on PostgreSQL. A payload is one compressed (TOASTed) value of about 100 KB at city scale, and
    PostgreSQL decompresses it again for every expression that reads it: fifty `payload #> '{…}'`
    took 110–190 ms. The subquery (kept apart by OFFSET 0) extracts the prefix's object once, and the
    keys are looked up in that: about 4 ms."""
    keys = [part.rpartition("__")[2] for part in parts]
    results, versions = StoredResult._meta.db_table, DataVersion._meta.db_table
    sql = f"""
        SELECT s.computed_at, s.data_version, v.value, s.on_day,
               (SELECT jsonb_object_agg(k, s.siblings -> k) FROM unnest(%s::text[]) AS k)::text
        FROM (
            SELECT computed_at, data_version, "group", payload ->> 'on' AS on_day,
                   payload #> %s::text[] AS siblings
            FROM {results} WHERE kind = %s AND key = %s OFFSET 0
        ) AS s
        LEFT JOIN {versions} AS v ON v.name = s."group"
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [keys, prefix.split("__"), kind, key])
        row = cursor.fetchone()
    if row is None:
        return {}, Stored(kind, key, None, None, False)
    computed_at, version, current_version, on, found = row
    stale = computed_at is not None and (
        version < (current_version or 0) or (kind in DAILY_KINDS and on != timezone.localdate().isoformat())
    )
    found = json.loads(found) if found else {}
    values = {part: found.get(k) for part, k in zip(parts, keys, strict=True)}
    return values, Stored(kind, key, None, computed_at, stale)


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

"""Leads as the API reads them: rows in LeadSerializer's columns, their preferred streets in one query.

The queryset given is always already narrowed by crm.selectors.scope (and the list's filters); this
module only chooses columns, so it never widens what a caller sees.
"""

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef, QuerySet

from crm.api.serializers import LeadSerializer
from crm.models import Lead


def lead_values(leads: QuerySet) -> QuerySet:
    """`leads` as rows of LeadSerializer's columns (owner's username and agency's name joined)."""
    return leads.prefetch_related(None).values(*LeadSerializer.row_columns())


def with_preferred_streets(rows: list[dict]) -> list[dict]:
    """Fill each row's `preferred_streets` with its streets' names, by name, in one query."""
    names: dict[int, list[str]] = {row["id"]: [] for row in rows}
    if names:
        through = Lead.preferred_streets.through.objects.filter(lead_id__in=names)
        for lead_id, street in through.order_by("street__name").values_list("lead_id", "street__name"):
            names[lead_id].append(street)
    for row in rows:
        row["preferred_streets"] = names[row["id"]]
    return rows


def lead_row(leads: QuerySet, pk) -> dict | None:
    """The row of lead `pk` among `leads` (with its streets), or None when it is not among them."""
    if connection.vendor != "postgresql":
        row = lead_values(leads).filter(pk=pk).first()
        return None if row is None else with_preferred_streets([row])[0]
    # On PostgreSQL the streets come as an array in the same query: every read of one lead through
    # the API saves a round trip.
    names = Lead.preferred_streets.through.objects.filter(lead_id=OuterRef("pk")).order_by("street__name")
    rows = lead_values(leads).annotate(street_names=ArraySubquery(names.values("street__name")))
    row = rows.filter(pk=pk).first()
    if row is not None:
        row["preferred_streets"] = row.pop("street_names")
    return row

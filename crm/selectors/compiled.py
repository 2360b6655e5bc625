"""Querysets compiled to SQL once per process, for the few queries that every request runs.

Compiling a queryset (resolving names, joins and expressions) costs the ORM more than PostgreSQL
takes to answer a primary-key lookup; the login's user and the scope facts are read on every
request, so their SQL is built once, by the ORM from the same querysets, and only the one varying
parameter changes between runs.
"""

from dataclasses import dataclass

from django.db.models import Model, QuerySet

# A parameter value no real query uses: it marks where the varying value goes.
SLOT = "\x00slot\x00"
SLOT_ID = -2_147_483_647


@dataclass(frozen=True)
class Compiled:
    """The SQL of a queryset, and its parameters with one slot to fill at each run."""

    sql: str
    params: tuple
    slot: int

    @classmethod
    def of(cls, queryset: QuerySet) -> "Compiled":
        """`queryset`'s SQL; it must filter on exactly one SLOT (a text) or SLOT_ID (an id)."""
        sql, params = queryset.query.sql_with_params()
        slots = [i for i, value in enumerate(params) if value in (SLOT, SLOT_ID)]
        if len(slots) != 1:
            raise ValueError(f"a compiled query needs exactly one slot parameter, found {len(slots)}")
        return cls(sql, tuple(params), slots[0])

    def params_with(self, value) -> list:
        params = list(self.params)
        params[self.slot] = value
        return params

    def instances(self, model: type[Model], value) -> list:
        """Instances of `model` (annotations become attributes), read by the SQL with `value` in the slot."""
        return list(model._default_manager.raw(self.sql, self.params_with(value)))

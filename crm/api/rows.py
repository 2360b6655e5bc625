"""Serializers that read plain rows from `.values()`, converted by a plan built once per class.

The API's hot reads (the lead list and one lead) were mostly Python: model instances with their
related objects, a prefetch, and DRF walking every field of every row (bench/api_bench.py measured
the list at several times a bare `.values()` view). A RowSerializer keeps its declared DRF fields,
so the OpenAPI schema and each field's formatting are DRF's own, but reads a row dict whose keys are
the fields' sources (`industry_id`, `owner__user__username`), and converts it with a list of
(name, column, conversion) made once per class rather than rebuilt on every request.
"""

from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers


class RowSerializer(serializers.ModelSerializer):
    """A read-only ModelSerializer of `.values()` rows.

    Each field's `source` is the column (or lookup, like `owner__user__username`) that `.values()`
    returns; fields named in `Meta.attached` are not columns but filled into each row after the
    query (a to-many relation read in one more query). Writes use their own input serializers.
    """

    @classmethod
    def row_plan(cls) -> list[tuple]:
        """(field name, row key, conversion) of each readable field, in output order."""
        plan = cls.__dict__.get("_row_plan")
        if plan is None:
            plan = []
            for name, field in cls().fields.items():
                if field.write_only:
                    continue
                if "." in field.source or field.source == "*":
                    raise ImproperlyConfigured(f"{cls.__name__}.{name}: a row field's source is one column")
                plan.append((name, field.source, field.to_representation))
            cls._row_plan = plan  # two threads building it at once build the same list
        return plan

    @classmethod
    def row_columns(cls) -> list[str]:
        """What to pass to `.values()`: every source but the attached ones."""
        attached = set(getattr(cls.Meta, "attached", ()))
        return [source for name, source, _ in cls.row_plan() if name not in attached]

    def to_representation(self, row):
        # What DRF's Serializer.to_representation does, without re-resolving each field per row.
        return {
            name: None if (value := row[source]) is None else convert(value)
            for name, source, convert in self.row_plan()
        }

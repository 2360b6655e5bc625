"""What the services share: field-level errors, audit attribution, row locks."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection, models


def invalid(field: str, message: str) -> ValidationError:
    """A field-level error, as the API turns into {"field": ["message"]}."""
    return ValidationError({field: [message]})


def attribute_to(instance: models.Model, user) -> None:
    """Record `user` as the author of the next history row (django-simple-history reads this)."""
    if user is not None and getattr(user, "is_authenticated", False):
        instance._history_user = user


def lock_rows(model: type[models.Model], ids: Iterable[int]) -> list:
    """Lock rows in primary-key order, so that two writers never wait on each other in a cycle."""
    return list(model.objects.select_for_update().filter(pk__in=list(ids)).order_by("pk"))


def lock_key(namespace: str, key: str) -> None:
    """A transaction-scoped lock on a name (PostgreSQL advisory lock; SQLite serialises writers anyway)."""
    if connection.vendor == "postgresql" and key:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{namespace}:{key}"])

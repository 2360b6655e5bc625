"""A fingerprint of everything the database holds, to show that a refused request wrote nothing."""

import hashlib

from django.apps import apps
from django.db import connection

# Tables a request may write without changing what the district holds: the login sessions, and the
# record of who saw a lead's contact (a refused form shows the lead's page again, and that is a view).
NOT_DISTRICT_DATA = frozenset({"django_session", "crm_contactaccess"})


def _tables() -> list[str]:
    tables = {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    return sorted(tables - NOT_DISTRICT_DATA)


def database_state() -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of all its rows: equal before and after means no write.

    Audit history (django-simple-history's tables) is included like every other table.
    """
    if connection.vendor == "postgresql":
        # One round trip: every table's rows as text, hashed in the database.
        parts = [
            f"SELECT %s, count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
            f'FROM "{table}" t'
            for table in _tables()
        ]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), _tables())
            return {table: (count, digest) for table, count, digest in cursor.fetchall()}
    state = {}
    with connection.cursor() as cursor:
        for table in _tables():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names come from the models
            rows = sorted(repr(row) for row in cursor.fetchall())
            state[table] = (len(rows), hashlib.md5("|".join(rows).encode()).hexdigest())
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    """The tables whose rows differ between two states."""
    return sorted(table for table in before.keys() | after.keys() if before.get(table) != after.get(table))

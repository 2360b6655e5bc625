"""On PostgreSQL, forbid two tenancy links of one unit with overlapping periods in the database itself.

SQLite has no exclusion constraints; there the signing and import services' row locks and
overlap checks are the guard, and the newcomer's SQLite is single-writer anyway.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE crm_tenancyunit ADD CONSTRAINT tenancy_unit_no_overlap
    EXCLUDE USING gist (unit_id WITH =, daterange(start, "end", '[]') WITH &&);
"""
DROP = "ALTER TABLE crm_tenancyunit DROP CONSTRAINT IF EXISTS tenancy_unit_no_overlap;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]

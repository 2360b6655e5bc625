"""Seed the nightly retraining of the move-out model on databases that ran 0003.

seed_schedule creates only the entries whose name is missing, so this is a no-op on a fresh database
(0001 already seeded the whole of DEFAULT_SCHEDULE) and leaves entries edited in the admin alone.
"""

from django.conf import settings
from django.db import migrations

from workers.schedule import seed_schedule


def seed(apps, schema_editor):
    seed_schedule(apps, time_zone=settings.TIME_ZONE)


class Migration(migrations.Migration):
    dependencies = [
        ("workers", "0003_seed_stored_results_entries"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

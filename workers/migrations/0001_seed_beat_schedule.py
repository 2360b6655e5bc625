"""Seed the default beat schedule (workers.schedule) as django-celery-beat rows, editable in the admin."""

from django.conf import settings
from django.db import migrations

# workers.schedule is pure data and a function over the historical registry; no model import.
from workers.schedule import DEFAULT_SCHEDULE, seed_schedule


def seed(apps, schema_editor):
    seed_schedule(apps, time_zone=settings.TIME_ZONE)


def unseed(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[entry.name for entry in DEFAULT_SCHEDULE]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]

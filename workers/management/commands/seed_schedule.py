"""`manage.py seed_schedule`: put back any default periodic task that was deleted in the admin."""

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand

from workers.schedule import seed_schedule


class Command(BaseCommand):
    help = "重建缺失的默认定时任务 / recreate missing default periodic tasks"

    def handle(self, *args, **options) -> None:
        created = seed_schedule(apps, time_zone=settings.TIME_ZONE)
        self.stdout.write(f"created {created} periodic task(s)")

"""The Celery app, configured from Django settings (Redis broker, or eager when REDIS_URL is unset)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("district_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""The Celery app, configured from Django settings (Redis broker, or eager when REDIS_URL is unset)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Every task keeps the request id of whoever queued it in its logs, eager or not (ops/request_id.py).
app = Celery("district_crm", task_cls="ops.request_id:RequestIdTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

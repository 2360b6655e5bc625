"""The project's Celery app as the reliability tests run it: unchanged, but mailing into files to count.

Started as `python -m celery -A tests.workers.worker_app worker` with TEST_MAIL_DIR set; the test
settings keep mail in memory, which a separate worker process cannot share with the test.
"""

import os

from django.conf import settings

from workers.celery import app

settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
settings.EMAIL_FILE_PATH = os.environ["TEST_MAIL_DIR"]
# A pool process killed mid-task is reported (and its message requeued) after 1 s instead of 10:
# tests/faults kill one 20 times.
app.conf.worker_lost_wait = 1.0

__all__ = ["app"]

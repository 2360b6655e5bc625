"""Project configuration: settings, urls, wsgi/asgi and the Celery app import."""

from workers.celery import app as celery_app

__all__ = ("celery_app",)

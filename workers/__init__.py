"""Background work on Celery: the app, its schedule and thin tasks that call services."""

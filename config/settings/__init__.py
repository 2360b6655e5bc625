"""Picks the settings module for DJANGO_ENV (dev, test or prod); dev when unset."""

import os

from django.core.exceptions import ImproperlyConfigured

_ENV = os.environ.get("DJANGO_ENV", "dev")

if _ENV == "dev":
    from config.settings.dev import *  # noqa: F403
elif _ENV == "test":
    from config.settings.test import *  # noqa: F403
elif _ENV == "prod":
    from config.settings.prod import *  # noqa: F403
else:
    raise ImproperlyConfigured(f"DJANGO_ENV must be dev, test or prod, not {_ENV!r}")

"""Developer machine: debug on, a fixed throw-away secret, defaults printed at start."""

import os
import sys

from config.mail import mail_settings
from config.notify import PLATFORM_HOSTS, allowed_hosts
from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASE_URL, REDIS_URL, env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-do-not-use-in-production")
# Mail is printed on the console unless EMAIL_BACKEND says otherwise; EMAIL_* as in production.
globals().update(mail_settings(os.environ, default_backend="django.core.mail.backends.console.EmailBackend"))
# Webhook tests and a developer's receiver listen on 127.0.0.1, which production refuses.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=True)
# Robot tests and a developer's receiver listen on this machine too.
NOTIFY_ALLOWED_HOSTS = allowed_hosts(
    env.list("NOTIFY_ALLOWED_HOSTS", default=[*PLATFORM_HOSTS, "127.0.0.1", "localhost"])
)

if "runserver" in sys.argv:
    print(
        f"[dev] database: {'DATABASE_URL' if DATABASE_URL else 'SQLite var/db.sqlite3'}; "
        f"celery: {'Redis' if REDIS_URL else 'eager (in-process)'}",
        file=sys.stderr,
    )

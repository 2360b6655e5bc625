"""Production: no defaults for secrets or services; a missing or malformed variable fails at start."""

import os

from django.core.exceptions import ImproperlyConfigured

from config.mail import SMTP_BACKEND, mail_settings
from config.notify import site_url
from config.settings.base import *  # noqa: F403
from config.settings.base import TRUSTED_PROXY_COUNT, env

# Every one is named at once, so a first start with an incomplete .env says all that is missing.
REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL")
_missing = [name for name in REQUIRED if not os.environ.get(name, "").strip()]
if _missing:
    raise ImproperlyConfigured(
        f"Production needs {', '.join(_missing)} (see .env.example); it has no defaults for them."
    )

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# EMAIL_HOST, EMAIL_PORT, EMAIL_USE_TLS/SSL, the login and the senders, checked (config/mail.py).
globals().update(mail_settings(os.environ, default_backend=SMTP_BACKEND))
# Robots' links point at the first public host name unless SITE_URL says otherwise.
SITE_URL = site_url(env.str("SITE_URL", default=f"https://{ALLOWED_HOSTS[0]}"))

# The request came over HTTPS when the proxy says so, and only when there is a proxy to say it: the
# proxy (deploy/nginx/nginx.conf) overwrites X-Forwarded-Proto, and gunicorn is reachable only through
# it. Without a proxy (TRUSTED_PROXY_COUNT=0) the header would be the client's word, so it is ignored.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT > 0 else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Cookies only over HTTPS; the session's and the language's never readable by scripts. (The CSRF cookie
# stays readable: Swagger UI's "try it out" sends it back as a header.)
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True

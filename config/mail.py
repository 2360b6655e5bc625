"""Outgoing mail settings read from the environment and checked at start: a wrong one refuses to start.

Reminder digests and white-paper notices go out through Django's SMTP backend. A typo here would
otherwise surface hours later as a retried task in a worker's log, so every value is parsed strictly:
a port that is not a number, a boolean that is neither true nor false, STARTTLS and SSL both on, a
sender that is not an address, a user without a password. An unset EMAIL_HOST is allowed and means
"mail not configured": /readyz says so, and digests wait (``ready``) until it is.
"""

import re
from collections.abc import Mapping
from email.utils import parseaddr

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
# The SMTP ports by convention: implicit TLS (SSL) on 465, submission with STARTTLS on 587.
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "plain": 25}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# A DNS name or an IPv4 address; no scheme, port, path or space (those belong in other variables).
_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _bool(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {environ[name]!r}")


def _int(environ: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name} must be between {low} and {high}, not {value}")
    return value


def _address(environ: Mapping[str, str], name: str, default: str) -> str:
    """An address, bare (crm@example.org) or with a display name ("区楼宇办 <crm@example.org>")."""
    raw = environ.get(name, "").strip() or default
    _, address = parseaddr(raw)
    try:
        validate_email(address)
    except ValidationError:
        raise ImproperlyConfigured(f"{name} must be an e-mail address, not {raw!r}") from None
    return raw


def mail_settings(environ: Mapping[str, str], *, default_backend: str) -> dict[str, object]:
    """Django's EMAIL_* settings, DEFAULT_FROM_EMAIL and SERVER_EMAIL from `environ`, plus MAIL_CONFIGURED.

    Raises ImproperlyConfigured naming the variable for any malformed or contradictory value.
    """
    backend = environ.get("EMAIL_BACKEND", "").strip() or default_backend
    host = environ.get("EMAIL_HOST", "").strip()
    if host and not _HOST.match(host):
        raise ImproperlyConfigured(
            f"EMAIL_HOST must be a host name or address (no scheme, port or path), not {host!r}"
        )
    use_tls = _bool(environ, "EMAIL_USE_TLS")
    use_ssl = _bool(environ, "EMAIL_USE_SSL")
    if use_tls and use_ssl:
        raise ImproperlyConfigured(
            "EMAIL_USE_TLS (STARTTLS, usually port 587) and EMAIL_USE_SSL (implicit TLS, usually port 465) "
            "exclude each other: set one"
        )
    mode = "ssl" if use_ssl else "starttls" if use_tls else "plain"
    user = environ.get("EMAIL_HOST_USER", "")
    password = environ.get("EMAIL_HOST_PASSWORD", "")
    if bool(user) != bool(password):
        missing = "EMAIL_HOST_PASSWORD" if user else "EMAIL_HOST_USER"
        raise ImproperlyConfigured(f"{missing} is missing: the server login needs both user and password")
    from_email = _address(environ, "DEFAULT_FROM_EMAIL", default="webmaster@localhost")
    return {
        "EMAIL_BACKEND": backend,
        "EMAIL_HOST": host,
        "EMAIL_PORT": _int(environ, "EMAIL_PORT", DEFAULT_PORTS[mode], low=1, high=65535),
        "EMAIL_HOST_USER": user,
        "EMAIL_HOST_PASSWORD": password,
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        # Django waits forever on a silent server by default; a worker should give up and retry.
        "EMAIL_TIMEOUT": _int(environ, "EMAIL_TIMEOUT", 10, low=1, high=600),
        "DEFAULT_FROM_EMAIL": from_email,
        # Error mails to ADMINS come from here; the sender of everything else by default.
        "SERVER_EMAIL": _address(environ, "SERVER_EMAIL", default=from_email),
        # SMTP without a host sends nothing; any other backend (console, locmem) needs no server.
        "MAIL_CONFIGURED": bool(host) or backend != SMTP_BACKEND,
    }


def mail_summary(settings) -> str:
    """One line for people: where mail goes (no password), for /readyz and send_test_email."""
    if settings.EMAIL_BACKEND != SMTP_BACKEND:
        return f"backend {settings.EMAIL_BACKEND.rsplit('.', 2)[-2]}: nothing leaves this machine"
    if not settings.EMAIL_HOST:
        return "EMAIL_HOST is not set: no mail is sent (reminders stay in-app, digests wait)"
    mode = "SSL" if settings.EMAIL_USE_SSL else "STARTTLS" if settings.EMAIL_USE_TLS else "no TLS"
    login = f"as {settings.EMAIL_HOST_USER}" if settings.EMAIL_HOST_USER else "no login"
    return f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}, {mode}, {login}, from {settings.DEFAULT_FROM_EMAIL}"

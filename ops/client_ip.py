"""The client address behind the district's reverse proxies: for the login lockout (django-axes), every
API throttle, and the log lines (Django's and gunicorn's access log), so that all of them agree."""

from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest


def client_address(meta: Mapping, trusted: int) -> str | None:
    """The address the nearest trusted proxy saw, from a request's META (or a WSGI environ).

    With `trusted` = n, the last n hops of X-Forwarded-For were appended by our own proxies, so the
    n-th entry from the right is the client; anything left of it was sent by the client and could be
    forged. Too few entries means the request bypassed a proxy: REMOTE_ADDR is then the truth.
    """
    header = meta.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [hop.strip() for hop in header.split(",") if hop.strip()]
    if trusted and len(forwarded) >= trusted:
        return forwarded[-trusted]
    return meta.get("REMOTE_ADDR")


def client_ip(request: HttpRequest) -> str | None:
    """The client address of `request`, TRUSTED_PROXY_COUNT proxies from the right (0: REMOTE_ADDR)."""
    return client_address(request.META, settings.TRUSTED_PROXY_COUNT)

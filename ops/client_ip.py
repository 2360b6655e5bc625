"""The client address behind the district's reverse proxies, for login throttling (django-axes)."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address the nearest trusted proxy saw, or REMOTE_ADDR when no proxy is trusted.

    With TRUSTED_PROXY_COUNT = n, the last n hops of X-Forwarded-For were appended by our own proxies,
    so the n-th entry from the right is the client; anything left of it was sent by the client and
    could be forged. Too few entries means the request bypassed a proxy: REMOTE_ADDR is then the truth.
    """
    trusted = settings.TRUSTED_PROXY_COUNT
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [hop.strip() for hop in header.split(",") if hop.strip()]
    if trusted and len(forwarded) >= trusted:
        return forwarded[-trusted]
    return request.META.get("REMOTE_ADDR")

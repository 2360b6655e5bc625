"""The chat robots' settings from the environment: which hosts robots may post to, and the site's own URL
that messages link to. Malformed values raise ImproperlyConfigured naming the variable."""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

PLATFORM_HOSTS = ("oapi.dingtalk.com", "qyapi.weixin.qq.com", "open.feishu.cn", "open.larksuite.com")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def allowed_hosts(values: list[str]) -> list[str]:
    """NOTIFY_ALLOWED_HOSTS: bare host names (no scheme, port or path), at least one."""
    hosts = [value.strip().lower() for value in values if value.strip()]
    if not hosts:
        raise ImproperlyConfigured("NOTIFY_ALLOWED_HOSTS must name at least one host")
    for host in hosts:
        if not _HOST.match(host):
            raise ImproperlyConfigured(
                f"NOTIFY_ALLOWED_HOSTS holds {host!r}: give bare host names such as oapi.dingtalk.com"
            )
    return hosts


def site_url(value: str) -> str:
    """SITE_URL: http(s)://host[:port][/prefix], without a trailing slash."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"SITE_URL must be an http(s) address such as https://crm.example.org, not {value!r}"
        )
    return value.strip().rstrip("/")

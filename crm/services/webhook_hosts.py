"""Which hosts a webhook may be sent to: public addresses over http or https, unless settings allow more.

An agency types its webhook URL, and the district's worker POSTs to it from inside the district's
network. Without this check an agency could make the worker reach the database, Redis, a cloud
metadata service (169.254.169.254) or any intranet host (server-side request forgery). The URL is
checked when it is registered or changed, and again at each delivery, twice: its host is resolved
and checked before the request, and the address the connection actually reached is checked before
anything is sent, since DNS can answer differently between the two (DNS rebinding).

settings.WEBHOOK_ALLOW_PRIVATE_HOSTS lifts the address rule (not the scheme rule): development and
tests deliver to a receiver on 127.0.0.1; production leaves it False.
"""

import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}


class HostRefused(OSError):
    """The URL's host is (or resolved to) an address webhooks may not reach; never worth a retry."""


def address_refused(address: str) -> bool:
    """Whether an IP address is private, loopback, link-local, multicast, reserved or unspecified.

    "Not global" covers them all (and shared address space, 100.64.0.0/10) but multicast, which
    Python counts as global for some ranges. An IPv4 address written as IPv6 (::ffff:10.0.0.1) is
    judged as the IPv4 address it is.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def resolve(host: str, port: int) -> set[str]:
    """The addresses `host` resolves to now (the one place that asks DNS, so tests can stand in for it)."""
    return {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}


def private_hosts_allowed() -> bool:
    return settings.WEBHOOK_ALLOW_PRIVATE_HOSTS


def webhook_url_problem(url: str) -> str | None:
    """Why `url` may not receive webhooks ("中文 / English"), or None when it may."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        return "回调地址须为 http 或 https / the URL must be http or https"
    try:
        host, port = parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return "回调地址的端口无效 / the URL's port is not valid"
    if not host:
        return "回调地址缺少主机名 / the URL has no host"
    if private_hosts_allowed():
        return None
    try:
        found = resolve(host, port)
    except (OSError, UnicodeError):
        return "回调地址的主机名无法解析 / the URL's host name does not resolve"
    refused = sorted(address for address in found if address_refused(address))
    if refused:
        return (
            f"回调地址指向内网、本机或保留地址({refused[0]})/ the URL's host is a private, loopback, "
            f"link-local, multicast or reserved address ({refused[0]})"
        )
    return None


def webhook_host_check(url: str) -> None:
    """HostRefused when `url` may not receive webhooks (at delivery: its host may resolve anew)."""
    problem = webhook_url_problem(url)
    if problem:
        raise HostRefused(problem)


def _connect_checked(address, *args, **kwargs) -> socket.socket:
    """socket.create_connection, refusing a peer address webhooks may not reach before any byte is sent."""
    sock = socket.create_connection(address, *args, **kwargs)
    peer = sock.getpeername()[0]
    if not private_hosts_allowed() and address_refused(peer):
        sock.close()
        raise HostRefused(
            f"回调地址连接到了内网、本机或保留地址({peer})/ the URL's host connected to a private, "
            f"loopback, link-local, multicast or reserved address ({peer})"
        )
    return sock


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_checked


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    # The TCP connection (checked) is made before TLS begins: nothing reaches a refused peer.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_checked


class CheckedHTTPHandler(urllib.request.HTTPHandler):
    """urllib's http handler whose connections refuse addresses webhooks may not reach."""

    def http_open(self, req):
        return self.do_open(_CheckedHTTPConnection, req)


class CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    """urllib's https handler whose connections refuse addresses webhooks may not reach."""

    def https_open(self, req):
        return self.do_open(_CheckedHTTPSConnection, req, context=self._context)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would resend the body (or drop it) to a URL nobody registered.
    def redirect_request(self, *args, **kwargs):
        return None


def checked_opener() -> urllib.request.OpenerDirector:
    """A urllib opener for webhooks and robots: straight to the receiver (no proxy from the
    environment), no redirects followed, and connections that refuse addresses they may not reach."""
    return urllib.request.build_opener(
        _NoRedirects, CheckedHTTPHandler, CheckedHTTPSHandler, urllib.request.ProxyHandler({})
    )

"""Request rates per API key and per user, and a brake on guessing API keys; rates are settings.

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] under the scopes below, falling back to
DEFAULT_RATES. Counters live in Django's default cache, which must be shared by all workers (Redis)
in production for the limits to hold across processes.
"""

from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from crm.models import AgencyAPIKey
from ops.client_ip import client_ip

DEFAULT_RATES = {
    "api_key": "600/minute",  # one agency's systems, all their calls
    "api_user": "600/minute",  # one logged-in user of the web pages
    "api_key_failure": "10/minute",  # wrong keys from one client address
}


class _ConfiguredRate(SimpleRateThrottle):
    def get_rate(self) -> str:
        # Read at each request (not at import) so that settings changes, and tests, take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or DEFAULT_RATES[self.scope]

    def get_ident(self, request) -> str:
        # DRF's own reads X-Forwarded-For whole unless NUM_PROXIES is set, so a client could pick its
        # address; the one function the lockout uses (TRUSTED_PROXY_COUNT) decides instead.
        return client_ip(request) or "unknown"


class PerAPIKeyThrottle(_ConfiguredRate):
    """All requests made with one agency API key."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, AgencyAPIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class PerUserThrottle(_ConfiguredRate):
    """All requests of one logged-in user (session); API-key requests count under their key."""

    scope = "api_user"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, AgencyAPIKey) or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class FailedKeyThrottle(_ConfiguredRate):
    """Wrong API keys sent from one client address: past the rate, every key attempt gets a 429."""

    scope = "api_key_failure"

    def refuse_if_exceeded(self, request) -> None:
        self.key = self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            raise Throttled(wait=self.wait())

    def record_failure(self) -> None:
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)

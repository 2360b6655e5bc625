"""`Authorization: Api-Key <key>`: an agency's key authenticates as that agency's API account."""

import functools

from django.db.models import F
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_api_key.permissions import KeyParser

from crm.api.throttling import FailedKeyThrottle
from crm.models import AgencyAPIKey
from crm.selectors.compiled import SLOT, Compiled
from crm.selectors.scope import user_with_scope

KEYWORD = "Api-Key"


@functools.cache
def _key_query() -> Compiled:
    # Every agency call runs it: compiled once (crm.selectors.compiled), with the agency's state.
    keys = AgencyAPIKey.objects.filter(prefix=SLOT, revoked=False)
    return Compiled.of(keys.annotate(agency_active=F("agency__active")))


class AgencyAPIKeyAuthentication(BaseAuthentication):
    """Checks the key against its stored hash; a revoked or expired key, or an agency no longer
    active, is refused with a 401. Too many wrong keys from one address get a 429 instead."""

    def authenticate(self, request):
        key = KeyParser().get(request)
        if not key:
            return None
        throttle = FailedKeyThrottle()
        throttle.refuse_if_exceeded(request)
        prefix, _dot, _secret = key.partition(".")
        found = _key_query().instances(AgencyAPIKey, prefix)
        api_key = found[0] if found else None
        valid = api_key is not None and not api_key.has_expired and api_key.is_valid(key)
        user = user_with_scope(api_key.user_id) if valid else None
        if user is None or not user.is_active or not api_key.agency_active:
            throttle.record_failure()
            raise AuthenticationFailed(
                "API密钥无效、已吊销或已过期 / the API key is invalid, revoked or expired"
            )
        api_key.user = user
        return user, api_key

    def authenticate_header(self, request) -> str:
        # Makes unauthenticated requests 401 (with this challenge) rather than 403.
        return KEYWORD


class AgencyAPIKeyScheme(OpenApiAuthenticationExtension):
    """How the key appears in the OpenAPI schema."""

    target_class = AgencyAPIKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Api-Key <key>`(由区楼宇办签发 / issued by the district office)",
        }

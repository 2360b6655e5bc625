"""`Authorization: Api-Key <key>`: an agency's key authenticates as that agency's API account."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_api_key.permissions import KeyParser

from crm.api.throttling import FailedKeyThrottle
from crm.models import AgencyAPIKey

KEYWORD = "Api-Key"


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
        api_key = (
            AgencyAPIKey.objects.select_related("user", "agency").filter(prefix=prefix, revoked=False).first()
        )
        if (
            api_key is None
            or api_key.has_expired
            or not api_key.is_valid(key)
            or not api_key.user.is_active
            or not api_key.agency.active
        ):
            throttle.record_failure()
            raise AuthenticationFailed(
                "API密钥无效、已吊销或已过期 / the API key is invalid, revoked or expired"
            )
        return api_key.user, api_key

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

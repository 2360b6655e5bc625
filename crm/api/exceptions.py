"""One exception handler: domain errors become {"field": ["message"]} bodies in the caller's language."""

import logging
import re

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, JsonResponse
from django.utils.translation import get_language
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from crm.api.referrals import ReferralClaimedEarlier
from crm.models import Lead
from crm.services.leads import LeadVersionConflict
from matching.core.types import MatchingInputError

logger = logging.getLogger(__name__)

NOT_FOUND = "未找到,或无权查看 / not found, or not yours to see"


class InvalidPage(exceptions.NotFound):
    """A page number past the end: kept apart so that its own message survives."""


# Services write "中文 / English"; the separator is the first slash followed by a space and a Latin
# letter or digit, after some Chinese text (a few messages leave out the space before the slash).
_BILINGUAL = re.compile(r"^(?P<zh>.*?[\u3000-\u9fff\uff00-\uffef].*?)\s?/ (?P<en>[A-Za-z0-9].*)$", re.DOTALL)


def in_language(message: str, language: str | None = None) -> str:
    """The half of a bilingual message in `language` (the request's, from Accept-Language)."""
    match = _BILINGUAL.match(str(message))
    if match is None:
        return str(message)
    language = language or get_language() or "zh-hans"
    return match["en"].strip() if language.startswith("en") else match["zh"].strip()


def _localised(data, language: str):
    if isinstance(data, dict):
        return {key: _localised(value, language) for key, value in data.items()}
    if isinstance(data, list):
        return [_localised(value, language) for value in data]
    if isinstance(data, str):
        return in_language(data, language)
    return data


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "请求体过大 / the request body is too large"
    default_code = "body_too_large"


def not_found(request, exception=None):
    """handler404: a JSON 404 under /api/ (a path no route matches), the site's own page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": in_language(NOT_FOUND)}, status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception)


def _validation_body(error: DjangoValidationError) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: list(error.messages)}
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): list(messages)
        for field, messages in error.message_dict.items()
    }


def _version_conflict(exc: LeadVersionConflict, request) -> Response:
    current = Lead.objects.filter(pk=exc.lead_id).values_list("version", flat=True).first()
    message = (
        f"线索已被他人修改,当前版本为 {current},请重新读取后再提交 / "
        f"the lead changed since you read it; it is now at version {current}: read it again and retry"
    )
    # A stale If-Match is a failed precondition (412); a stale version in the body is a conflict (409).
    if request is not None and request.headers.get("If-Match"):
        return Response({"detail": message}, status=status.HTTP_412_PRECONDITION_FAILED)
    return Response({"version": [message]}, status=status.HTTP_409_CONFLICT)


def _already_registered(exc: ReferralClaimedEarlier) -> Response:
    day = f"{exc.registered_on:%Y-%m-%d}"
    message = (
        f"该企业已于 {day} 报备在先,归属首个报备方 / "
        f"this company was registered earlier, on {day}; the first claimant keeps the referral"
    )
    return Response({"detail": message, "registered_on": day}, status=status.HTTP_409_CONFLICT)


def api_exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every error of the API goes through here."""
    request = context.get("request")
    if isinstance(exc, Http404 | exceptions.NotFound) and not isinstance(exc, InvalidPage):
        # One answer for "missing" and "not yours", so that no one learns whether a row exists.
        exc = exceptions.NotFound(NOT_FOUND)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_validation_body(exc))
    elif isinstance(exc, MatchingInputError):
        exc = exceptions.ValidationError({exc.field: [exc.message]})
    if isinstance(exc, LeadVersionConflict):
        response = _version_conflict(exc, request)
    elif isinstance(exc, ReferralClaimedEarlier):
        response = _already_registered(exc)
    elif isinstance(exc, DataError):
        # A value the parsers accept but the database cannot hold (a time-zone offset of 22 hours).
        response = Response(
            {"detail": "数值超出可保存的范围 / a value is outside the range that can be stored"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    elif isinstance(exc, IntegrityError):
        # A database constraint caught what a concurrent request slipped past the services' checks.
        logger.info("integrity error answered with 409: %s", exc)
        response = Response(
            {"detail": "与同时提交的数据冲突,请重试 / conflicts with data written at the same time; retry"},
            status=status.HTTP_409_CONFLICT,
        )
    else:
        response = drf_exception_handler(exc, context)
    if response is None:
        # No stack trace leaves the server: the log keeps it, the client gets a plain message.
        logger.exception("unhandled error in the API", exc_info=exc)
        response = Response(
            {"detail": "服务器内部错误 / internal server error"}, status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )
    response.data = _localised(response.data, get_language() or "zh-hans")
    return response

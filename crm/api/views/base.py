"""What every API view shares: scope-based permissions, throttles, pagination, a body-size limit."""

from collections.abc import Callable

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated

from crm.api.exceptions import BodyTooLarge
from crm.api.pagination import PageNumber
from crm.api.permissions import ScopeAllows, hides_personal_data, scoped
from crm.api.schema import ApiSchema
from crm.api.throttling import PerAPIKeyThrottle, PerUserThrottle
from crm.models import Lead
from crm.selectors.scope import CHANGE, VIEW


def refuse_large_body(request) -> None:
    """413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE, before anything reads it.

    DRF's parsers read the stream directly, past Django's own check on request.body.
    """
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is not None and length > limit:
        raise BodyTooLarge()


class ApiMixin:
    """Mixed into every view of the API."""

    permission_classes = [IsAuthenticated, ScopeAllows]
    throttle_classes = [PerAPIKeyThrottle, PerUserThrottle]
    pagination_class = PageNumber
    lookup_value_regex = "[0-9]+"  # ids are integers; anything else is not a route
    schema = ApiSchema()

    def initial(self, request, *args, **kwargs):
        refuse_large_body(request)
        super().initial(request, *args, **kwargs)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **self.api_context()}

    def api_context(self) -> dict:
        return {"request": self.request, "view": self, "hide_personal": hides_personal_data(self.request)}

    @property
    def fake(self) -> bool:
        # drf-spectacular builds views without a request's kwargs to read their querysets' models.
        return getattr(self, "swagger_fake_view", False)


def lead_in_scope(request, pk, action: str = VIEW) -> Lead:
    """The lead `pk` if the caller may see it (else 404); for CHANGE also changeable (else 403).

    One query when the answer is yes: the lead is read through the rule of `action` itself, and
    only a lead that rule hides is looked up again to tell "not yours to change" from "not found".
    """
    lead = scoped(request, Lead.objects.select_related("owner", "industry"), action).filter(pk=pk).first()
    if lead is not None:
        return lead
    if action == CHANGE and scoped(request, Lead.objects.filter(pk=pk)).exists():
        raise PermissionDenied("无权修改此线索 / you may not change this lead")
    raise Http404


def int_parameter(name: str, *, low: int, high: int, description: str, default: int | None = None):
    """The OpenAPI declaration of a query parameter read by int_param: its range is in the schema too."""
    schema = {"type": "integer", "minimum": low, "maximum": high}
    if default is not None:
        schema["default"] = default
    return OpenApiParameter(name, schema, description=description)


def int_param(request, name: str, *, default: int | Callable[[], int], low: int, high: int) -> int:
    """An integer query parameter within [low, high], or a 400 naming it. A callable default is
    called only when the parameter is absent (it may cost a query: the last year with tax)."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default() if callable(default) else default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ValidationError(
            {name: [f"应为 {low} 到 {high} 的整数 / must be a whole number from {low} to {high}"]}
        )
    return value


def expected_version(request, sent: int | None, *, required: bool) -> int | None:
    """The version the client read: the If-Match header (preferred) or the body's `version`."""
    header = (request.headers.get("If-Match") or "").strip()
    # "If-Match: *" (any version) would skip the check that keeps two editors from overwriting each
    # other: it counts as no header, so the body's version is still required.
    if header and header != "*":
        tag = header.removeprefix("W/").strip('"')
        if not (tag.isascii() and tag.isdigit()) or len(tag) > 18:
            raise ValidationError(
                {"If-Match": ['应为读取时的 ETag,如 "3" / must be the ETag you read, like "3"']}
            )
        return int(tag)
    if sent is None and required:
        raise ValidationError(
            {
                "version": [
                    "修改线索须带读取时的版本号(version 字段或 If-Match 头)/ "
                    "send the version you read (the version field or an If-Match header)"
                ]
            }
        )
    return sent

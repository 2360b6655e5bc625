"""The OpenAPI schema of the API: every operation also documents the errors it can answer."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

# {"detail": "..."}: 401, 403, 404, 412, 413, 429, 503.
DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# {"field": ["message", ...]}: a 400, or a 409 (a stale version; an earlier referral adds
# "detail" and "registered_on" as strings). A nested input's errors nest: {"offer": {"area_m2": [...]}}.
FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}],
    },
}

BAD_REQUEST = OpenApiResponse(FIELD_ERRORS, description='错误的输入 / wrong input: {"field": ["message"]}')
CONFLICT = OpenApiResponse(
    FIELD_ERRORS, description="冲突:报备在先、版本已过期 / conflict: registered earlier, or a stale version"
)
STALE = OpenApiResponse(DETAIL, description="If-Match 已过期 / the If-Match ETag is stale")
COMPUTING = OpenApiResponse(
    DETAIL, description="正在计算,请按 Retry-After 秒后重试 / being computed: retry after Retry-After seconds"
)

_ALWAYS = {
    "400": BAD_REQUEST,
    "401": OpenApiResponse(DETAIL, description="缺少或无效的凭证 / no credentials, or a bad API key"),
    "403": OpenApiResponse(DETAIL, description="角色无此权限 / your role may not do this"),
    "404": OpenApiResponse(DETAIL, description="未找到,或无权查看 / not found, or not yours to see"),
    "429": OpenApiResponse(DETAIL, description="请求过多 / too many requests: wait Retry-After seconds"),
}
_WRITES = {
    "409": CONFLICT,
    "413": OpenApiResponse(DETAIL, description="请求体过大 / the request body is too large"),
}


class ApiSchema(AutoSchema):
    """drf-spectacular's schema, plus the error answers every operation may give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        extra = dict(_ALWAYS)
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            extra.update(_WRITES)
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses

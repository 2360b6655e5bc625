"""The site's own 403, 404 and 500 pages: the navigation, the user's language, and a way on."""

import logging

from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

from crm.api.exceptions import in_language
from crm.api.exceptions import not_found as api_not_found

logger = logging.getLogger(__name__)

# Django's own permission_denied and server_error would answer a bare English "403 Forbidden" or
# "Server Error (500)": a person who followed a link would not know where they are or how to go on.


def _page(request, *, status: int, title: str, message: str) -> HttpResponse:
    context = {"status": status, "title": title, "message": message}
    return HttpResponse(loader.render_to_string("web/error.html", context, request), status=status)


def forbidden(request, exception=None):
    """handler403: what the refusal said (in the user's language), under the navigation."""
    reason = in_language(str(exception)) if exception and str(exception) else _("您的角色无权打开此页面。")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": reason}, status=403)
    return _page(request, status=403, title=_("无权访问"), message=reason)


def not_found_page(request, exception=None):
    """handler404: JSON under /api/ (crm.api.exceptions.not_found), the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return _page(
        request,
        status=404,
        title=_("页面不存在"),
        message=_("未找到此页面,或您无权查看。"),
    )


def server_error(request):
    """handler500: the styled page if it can be drawn; if drawing it fails too (the database is what
    broke, and the navigation reads the user's role), a plain page in both languages."""
    try:
        return _page(
            request,
            status=500,
            title=_("服务器出错"),
            message=_("出错了,已记录。请稍后再试,或返回首页。"),
        )
    except Exception:
        logger.exception("the 500 page could not be drawn")
        return HttpResponseServerError(
            '<!DOCTYPE html><html lang="zh-Hans"><meta charset="utf-8"><title>500</title>'
            '<h1>服务器出错 / Server error</h1><p><a href="/">返回首页 / home</a></p></html>'
        )

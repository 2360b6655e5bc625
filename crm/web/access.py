"""What every page shares: login, the user's role, and rows narrowed by the one scoping selector.

Rows always come through crm.selectors.scope (via the request-cached helpers the API uses too), so
a page can never show more than the API would.
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404, render
from django.urls import resolve, reverse

from crm.api.exceptions import in_language
from crm.api.permissions import (
    LEAD_WORKERS,
    hides_personal_data,
    reaches,
    request_viewer,
    scoped,
    sees_whole_area,
)
from crm.constants import Role
from crm.selectors.scope import CHANGE, VIEW
from crm.web.params import BadParameter

__all__ = [
    "CHANGE",
    "LEAD_WORKERS",
    "VIEW",
    "hides_personal_data",
    "may_open",
    "object_in_scope",
    "reaches",
    "request_viewer",
    "role_of",
    "roles_required",
    "scoped",
    "sees_whole_area",
    "works_leads",
]

# Who reads the plan's indicators, appraisal and assessment pages: the staff who see whole areas.
OFFICE = frozenset({Role.DISTRICT_ADMIN, Role.AUDITOR, Role.STREET_OFFICER})


def role_of(request) -> Role | None:
    return request_viewer(request).role


def works_leads(request) -> bool:
    """Promoters and the district office work leads; an agency only refers them."""
    return role_of(request) in LEAD_WORKERS


def roles_required(*roles: Iterable[str] | str) -> Callable:
    """Login first; then a 403 unless the user acts in one of `roles` (none given: any role at all)."""
    allowed = frozenset(r for group in roles for r in ([group] if isinstance(group, str) else group))

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            role = role_of(request)
            if role is None or (allowed and role not in allowed):
                raise PermissionDenied("无权查看此页面 / you may not open this page")
            try:
                return view(request, *args, **kwargs)
            except BadParameter as exc:
                return bad_parameter(request, exc)

        # What `may_open` reads: pages link to a view only for the roles this check lets in.
        wrapped.allowed_roles = allowed
        return wrapped

    return decorate


def may_open(request, url_name: str, *args) -> bool:
    """Whether the user's role passes the `roles_required` check of the view at `url_name`: the one
    rule behind both the 403 and every link or button to that view (the navigation, the desk)."""
    if not request.user.is_authenticated:
        return False
    role = role_of(request)
    if role is None:
        return False
    view = resolve(reverse(url_name, args=args)).func
    allowed = getattr(view, "allowed_roles", None)
    return allowed is not None and (not allowed or role in allowed)


def bad_parameter(request, exc: BadParameter):
    """The 400 for a malformed query or form value: the field and why, as a page or an htmx fragment."""
    context = {"field": exc.field, "message": in_language(exc.message)}
    template = "web/_bad_parameter.html" if request.headers.get("HX-Request") else "web/bad_parameter.html"
    return render(request, template, context, status=400)


def object_in_scope(request, queryset: QuerySet | type[Model], pk, action: str = VIEW):
    """The row `pk` if the user may see it (404 otherwise, so a page never says it exists); for
    CHANGE it must also be changeable (403 when it is visible but not)."""
    row = get_object_or_404(scoped(request, queryset), pk=pk)
    if action == CHANGE:
        model = row._meta.model
        if not scoped(request, model._default_manager.filter(pk=row.pk), CHANGE).exists():
            raise PermissionDenied("无权修改 / you may not change this")
    return row

"""Who may call what: rows and columns come from crm.selectors.scope; this module only asks it.

A row outside the caller's scope is not found (404), so that the API never says whether it exists;
a resource the caller's role may not read at all is forbidden (403).
"""

from django.db.models import Model
from rest_framework.permissions import SAFE_METHODS, BasePermission

from crm.constants import Role
from crm.models import Building, Lead, TaxRecord
from crm.selectors.scope import (
    CHANGE,
    NOTHING,
    RULES,
    VIEW,
    personal_data_hidden,
    request_viewer,
    scoped,
)

# Agencies refer leads; working them (stage changes, activities, signings) is the district's staff's
# job, so these operations need one of these roles besides the right to change the lead.
LEAD_WORKERS = frozenset({Role.DISTRICT_ADMIN, Role.PROMOTER})
# Who reads the leads that fit a building (issue 6): officers, managers, and the read-everything roles.
BUILDING_MATCH_READERS = frozenset(
    {Role.DISTRICT_ADMIN, Role.AUDITOR, Role.STREET_OFFICER, Role.BUILDING_MANAGER}
)


def reaches(request, model: type[Model], action: str = VIEW) -> bool:
    """Whether the scope rule of `model` gives the caller any rows at all (no query)."""
    return RULES[model](request_viewer(request), action) is not NOTHING


def hides_personal_data(request) -> bool:
    """crm.selectors.scope.personal_data_hidden, asked once per request."""
    hidden = getattr(request, "_crm_hide_personal", None)
    if hidden is None:
        hidden = request._crm_hide_personal = personal_data_hidden(request.user)
    return hidden


def sees_whole_area(request, street_id: int | None) -> bool:
    """Whether the caller sees every building of a street (or of the district when None).

    Indicators of an area aggregate its tenants' tax, so they are for those whose scope covers all
    of its buildings and who may read tax at all: the office, the auditor, a street's own officer.
    """
    if not reaches(request, TaxRecord):
        return False
    area = Building.objects.all() if street_id is None else Building.objects.filter(street_id=street_id)
    return not area.exclude(pk__in=scoped(request, Building).values("pk")).exists()


class ScopeAllows(BasePermission):
    """Reads need the view's `scope_model` rule to give some rows; writes need its change rule to.

    On one object, a write also needs that row to be changeable (a visible row that is not: 403).
    """

    message = "无权执行此操作 / you may not do this"

    def has_permission(self, request, view) -> bool:
        return reaches(request, view.scope_model, self._action(request, view))

    def has_object_permission(self, request, view, obj) -> bool:
        if self._action(request, view) == VIEW:
            return True
        return scoped(request, type(obj).objects.filter(pk=obj.pk), CHANGE).exists()

    @staticmethod
    def _action(request, view) -> str:
        # A POST that only computes (a what-if, a suggestion) reads: the view says so with scope_action.
        return getattr(view, "scope_action", None) or (VIEW if request.method in SAFE_METHODS else CHANGE)


class WorksLeads(BasePermission):
    """Stage changes, activities and signings: staff who work leads, never an agency."""

    message = "只有招商人员和区楼宇办可以办理线索 / only promoters and the district office work leads"

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return request_viewer(request).role in LEAD_WORKERS and reaches(request, Lead, CHANGE)


class ReadsBuildingMatches(BasePermission):
    """The leads that fit a building: for the building's side (officers, managers) and the office."""

    message = "只有镇街、楼宇物业和区楼宇办可以查看楼宇的匹配线索 / only officers and managers see these"

    def has_permission(self, request, view) -> bool:
        return request_viewer(request).role in BUILDING_MATCH_READERS


class IsDistrictOffice(BasePermission):
    """The district building-economy office only: what the district approves (entry exceptions)."""

    message = "仅区楼宇办可以批准 / only the district office approves this"

    def has_permission(self, request, view) -> bool:
        return request_viewer(request).role == Role.DISTRICT_ADMIN


class HasRole(BasePermission):
    """Any of the six roles: for what the district publishes to all its partners (its policies)."""

    message = "账号未分配角色 / this account has no role"

    def has_permission(self, request, view) -> bool:
        return request_viewer(request).role is not None

"""Matching through the API: the buildings that fit a lead, the leads that fit a building."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api import serializers as s
from crm.api.match_rows import building_matches_seen, lead_matches_seen
from crm.api.permissions import ReadsBuildingMatches, ScopeAllows, scoped
from crm.api.views.base import ApiMixin, int_param, int_parameter, lead_in_scope
from crm.models import Building, Lead, Unit

MAX_LIMIT = 50
LIMIT = int_parameter(
    "limit", low=1, high=MAX_LIMIT, default=10, description="返回条数 1–50,默认 10 / how many, 1–50 (10)"
)


class LeadMatchesView(ApiMixin, APIView):
    """Buildings for a lead, best first: score, its components, the offer, incentives, model version."""

    scope_model = Lead

    @extend_schema(
        summary="线索的匹配楼宇 / the buildings that fit a lead",
        parameters=[LIMIT],
        responses={200: s.BuildingMatchesSerializer},
    )
    def get(self, request, pk):
        lead = lead_in_scope(request, pk)
        limit = int_param(request, "limit", default=10, low=1, high=MAX_LIMIT)
        return Response(building_matches_seen(request, lead, limit=limit))


class BuildingLeadMatchesView(ApiMixin, APIView):
    """Open leads that fit a building (or one of its units), best first, with the diversity penalty.

    Leads the caller may not see are shown as demand only (no id, no name): a building manager learns
    what kind of company would fit, not who it is.
    """

    scope_model = Building
    permission_classes = [IsAuthenticated, ScopeAllows, ReadsBuildingMatches]

    @extend_schema(
        summary="楼宇的匹配线索 / the open leads that fit a building",
        parameters=[
            LIMIT,
            int_parameter("unit", low=1, high=2**63 - 1, description="只看该房源 / one unit only"),
        ],
        responses={200: s.LeadMatchesSerializer},
    )
    def get(self, request, pk):
        building = get_object_or_404(scoped(request, Building), pk=pk)
        limit = int_param(request, "limit", default=10, low=1, high=MAX_LIMIT)
        unit = None
        if request.query_params.get("unit"):
            unit_id = int_param(request, "unit", default=0, low=1, high=2**63 - 1)
            unit = get_object_or_404(scoped(request, Unit.objects.filter(building=building)), pk=unit_id)
        return Response(lead_matches_seen(request, building, unit=unit, limit=limit))

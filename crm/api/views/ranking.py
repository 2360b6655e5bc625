"""Matching through the API: the buildings that fit a lead, the leads that fit a building."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api import serializers as s
from crm.api.exceptions import in_language
from crm.api.permissions import ReadsBuildingMatches, ScopeAllows, reaches, scoped
from crm.api.views.base import ApiMixin, int_param, lead_in_scope
from crm.models import Building, Lead, TaxRecord, Unit
from matching.adapter import match_buildings, match_leads

LIMIT = OpenApiParameter("limit", OpenApiTypes.INT, description="返回条数 1–50,默认 10 / how many, 1–50 (10)")
MAX_LIMIT = 50


def _reasons(request, reasons: list[dict]) -> list[dict]:
    # The "district" reason quotes the building's tax per m², tenants' tax that some roles may not read.
    shows_tax = reaches(request, TaxRecord)
    return [
        {**r, "text": in_language(r["text"])} for r in reasons if shows_tax or r["component"] != "district"
    ]


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
        data = match_buildings(lead, limit=limit).to_dict()
        data.pop("excluded", None)
        # Only buildings the caller may see (a street officer: the street's).
        ids = [r["building_id"] for r in data["results"]]
        visible = set(scoped(request, Building.objects.filter(pk__in=ids)).values_list("pk", flat=True))
        data["results"] = [
            {**r, "reasons": _reasons(request, r["reasons"])}
            for r in data["results"]
            if r["building_id"] in visible
        ]
        return Response(s.BuildingMatchesSerializer(data).data)


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
            OpenApiParameter("unit", OpenApiTypes.INT, description="只看该房源 / one unit only"),
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
        data = match_leads(building, unit=unit, limit=limit).to_dict()
        ids = [r["lead_id"] for r in data["results"]]
        visible = {
            pk: (ref, name)
            for pk, ref, name in scoped(request, Lead.objects.filter(pk__in=ids)).values_list(
                "pk", "ref", "company_name"
            )
        }
        results = []
        for r in data["results"]:
            lead_id = r.pop("lead_id")
            known = visible.get(lead_id)
            lead = {"id": lead_id, "ref": known[0], "company_name": known[1]} if known else None
            results.append({**r, "lead": lead, "reasons": _reasons(request, r["reasons"])})
        data["results"] = results
        return Response(s.LeadMatchesSerializer(data).data)

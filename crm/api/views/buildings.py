"""Buildings with their vacancy, rent range and tax tier, and each building's units."""

from decimal import Decimal

from django.db.models import Count, DecimalField, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.generics import ListAPIView

from crm.api import serializers as s
from crm.api.filters import BuildingFilter, UnitFilter
from crm.api.permissions import reaches, scoped
from crm.api.views.base import ApiMixin, int_param, int_parameter
from crm.models import Building, TaxRecord, Unit
from crm.selectors.units import units_offerable
from crm.tax_tiers import building_tax_tiers, tier_year
from crm.validators import REPORT_YEAR_MIN, YEAR_MAX

YEAR = int_parameter(
    "year",
    low=REPORT_YEAR_MIN,
    high=YEAR_MAX,
    description=(
        "税收层级的年度,默认有税收数据的最近完整年度 / year of the tax tier; default: the last "
        "complete year with tax records, as on the pages"
    ),
)


def buildings_with_vacancy():
    """Buildings with the area and number of their units that can be offered (vacant, or under an
    expired hold), one correlated subquery each, so the page query stays one query."""
    offerable = units_offerable().filter(building=OuterRef("pk")).order_by().values("building")
    area = offerable.annotate(total=Sum("area_m2")).values("total")
    count = offerable.annotate(n=Count("pk")).values("n")
    return Building.objects.select_related("street", "business_circle").annotate(
        vacant_area_m2=Coalesce(
            Subquery(area, output_field=DecimalField(max_digits=14, decimal_places=2)),
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
        vacant_units=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
    )


@extend_schema_view(
    list=extend_schema(summary="楼宇 / buildings", parameters=[YEAR]),
    retrieve=extend_schema(summary="一栋楼宇 / one building", parameters=[YEAR]),
)
class BuildingViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """Public attributes, vacancy, rent range and tax tier; the tax itself only for roles that read tax."""

    scope_model = Building
    serializer_class = s.BuildingSerializer
    filterset_class = BuildingFilter
    ordering_fields = ["code", "name", "star_rating", "rent_min", "leasable_area_m2", "vacant_area_m2"]
    ordering = ["code"]

    def get_queryset(self):
        return scoped(self.request, buildings_with_vacancy())

    def get_serializer(self, instance=None, *args, **kwargs):
        # No rows (the schema generator asks with none): no default year to look up in the database.
        default = tier_year if instance is not None else None
        year = int_param(self.request, "year", default=default, low=REPORT_YEAR_MIN, high=YEAR_MAX)
        buildings = [] if instance is None else (instance if kwargs.get("many") else [instance])
        kwargs["context"] = {
            **self.get_serializer_context(),
            # One aggregate query for the page's buildings, whatever the page size.
            "tiers": building_tax_tiers(year=year, building_ids=[b.pk for b in buildings])
            if buildings
            else {},
            "tier_year": year,
            "shows_tax": reaches(self.request, TaxRecord),
        }
        return super().get_serializer(instance, *args, **kwargs)


@extend_schema(summary="楼宇的房源 / a building's units (?status=vacant)")
class BuildingUnitsView(ApiMixin, ListAPIView):
    scope_model = Unit
    serializer_class = s.UnitSerializer
    filterset_class = UnitFilter
    ordering_fields = ["floor", "number", "area_m2", "asking_rent"]
    ordering = ["floor", "number"]

    def get_queryset(self):
        if self.fake:
            return Unit.objects.none()
        building = get_object_or_404(scoped(self.request, Building), pk=self.kwargs["pk"])
        return scoped(self.request, Unit.objects.filter(building=building).select_related("building"))

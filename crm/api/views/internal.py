"""Data for the district's own staff only: enterprises, tax records, plan indicators, appraisals."""

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api import serializers as s
from crm.api.filters import AppraisalFilter, EnterpriseFilter, TaxRecordFilter
from crm.api.permissions import scoped, sees_whole_area
from crm.api.schema import COMPUTING
from crm.api.views.base import ApiMixin, int_param, int_parameter
from crm.indicators import indicators_beside_targets, scope_targets
from crm.models import AppraisalSnapshot, Enterprise, Street, TaxRecord
from crm.services.stored_results import YEAR_FIGURES
from crm.tax_tiers import tier_year
from crm.validators import REPORT_YEAR_MIN, YEAR_MAX
from crm.web.stored import read_one
from crm.year_figures import values_of_totals

# A year nobody had asked for is computed by the next worker pass (seconds): when to ask again.
COMPUTING_RETRY_AFTER_S = 10


@extend_schema(summary="企业 / enterprises (internal roles)")
class EnterpriseViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    scope_model = Enterprise
    serializer_class = s.EnterpriseSerializer
    filterset_class = EnterpriseFilter
    ordering_fields = ["name", "credit_code", "employees"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return scoped(self.request, Enterprise.objects.all())


@extend_schema(summary="税收记录 / tax records (internal roles)")
class TaxRecordViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    scope_model = TaxRecord
    serializer_class = s.TaxRecordSerializer
    filterset_class = TaxRecordFilter
    ordering_fields = ["year", "month", "amount_yuan"]
    ordering = ["-year", "month", "id"]

    def get_queryset(self):
        return scoped(self.request, TaxRecord.objects.select_related("enterprise"))


@extend_schema(summary="招商人员考核 / promoters' appraisals (internal roles)")
class AppraisalViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """Appraisals follow the promoters one may see: the office and auditor all, an officer the
    street's, a promoter their own."""

    scope_model = AppraisalSnapshot
    serializer_class = s.AppraisalSerializer
    filterset_class = AppraisalFilter
    ordering_fields = ["period_start", "score", "rank_district"]
    ordering = ["-period_start", "rank_district", "id"]

    def get_queryset(self):
        return scoped(self.request, AppraisalSnapshot).select_related("promoter__user", "street")


class IndicatorsView(ApiMixin, APIView):
    """The fourteen plan indicators of the district, or of one street, beside the plan's targets."""

    scope_model = TaxRecord

    @extend_schema(
        summary="规划指标 / the plan's indicators (?year=Y&street=S)",
        parameters=[
            int_parameter(
                "year",
                low=REPORT_YEAR_MIN,
                high=YEAR_MAX,
                description=(
                    "年度,默认有税收数据的最近完整年度 / year; default: the last complete year "
                    "with tax records"
                ),
            ),
            OpenApiParameter(
                "street", OpenApiTypes.STR, description="镇街名称,空为全区 / street name, blank: district"
            ),
        ],
        responses={200: s.IndicatorReportSerializer, 503: COMPUTING},
    )
    def get(self, request):
        year = int_param(request, "year", default=tier_year, low=REPORT_YEAR_MIN, high=YEAR_MAX)
        name = (request.query_params.get("street") or "").strip()
        street = None
        if name:
            street = Street.objects.filter(name=name).first()
            if street is None:
                raise ValidationError({"street": [f"未知镇街 {name} / unknown street {name}"]})
        if not sees_whole_area(request, street.pk if street else None):
            raise PermissionDenied(
                "指标仅对覆盖该范围的角色开放 / the indicators of an area are for its own staff"
            )
        # The figures a worker stored for the year (crm.services.stored_results), never computed on
        # the request: one read of the district's or the street's part of them.
        part = "district" if street is None else f"streets__{street.pk}"
        stored = read_one(YEAR_FIGURES, str(year), part=part)
        if stored.missing:
            # Nothing stored for this year yet and no computing here (workers run it): it is queued.
            return Response(
                {"detail": "正在计算,请稍后重试 / being computed, retry shortly"},
                status=503,
                headers={"Retry-After": str(COMPUTING_RETRY_AFTER_S)},
            )
        values = values_of_totals(stored.payload)
        targets = scope_targets(year=year, street=street)
        results = [asdict(value) for value in indicators_beside_targets(values, targets)]
        report = {
            "year": year,
            "street": street.name if street else None,
            "as_of": {"computed_at": stored.computed_at, "stale": stored.stale},
            "results": results,
        }
        return Response(s.IndicatorReportSerializer(report).data)

"""The commitment schedule: each signing's promised amounts by period of its agreement, with what was
paid and withheld; the district office records payments and withholds periods."""

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.permissions import IsDistrictOffice, scoped
from crm.api.schema import BAD_REQUEST
from crm.api.serializers import BoundedDateField, StrictInput
from crm.api.views.base import ApiMixin
from policies.engine.schedule import PeriodStatus
from policies.models import MONEY, CommitmentLine
from policies.selectors import commitment_schedule, schedule_row_status
from policies.services import commitment_line_withhold, commitment_payment_record


class ScheduleRowSerializer(serializers.ModelSerializer):
    """One period of a signing's commitment; amounts are exact yuan as strings."""

    signing = serializers.IntegerField(source="commitment.signing_id")
    lead = serializers.IntegerField(source="commitment.signing.lead_id")
    lead_ref = serializers.CharField(source="commitment.signing.lead.ref")
    company_name = serializers.CharField(source="commitment.signing.lead.company_name")
    building = serializers.IntegerField(source="commitment.building_id")
    building_name = serializers.CharField(source="commitment.building.name")
    paid_yuan = serializers.DecimalField(**MONEY)
    referrer = serializers.CharField(
        source="referrer.credit_code",
        allow_null=True,
        help_text="以商招商奖励的推荐企业(统一社会信用代码),其他为空 / a referral reward's referring tenant",
    )
    referrer_name = serializers.CharField(source="referrer.name", allow_null=True)
    status = serializers.SerializerMethodField(help_text=" / ".join(s.value for s in PeriodStatus))

    class Meta:
        model = CommitmentLine
        fields = [
            "id",
            "signing",
            "lead",
            "lead_ref",
            "company_name",
            "building",
            "building_name",
            "policy_name",
            "benefit_kind",
            "beneficiary",
            "referrer",
            "referrer_name",
            "year_index",
            "year",
            "period_start",
            "period_end",
            "amount_yuan",
            "paid_yuan",
            "status",
            "withheld_at",
            "withheld_reason",
        ]

    def get_status(self, line) -> str:
        return schedule_row_status(line, today=self.context["today"]).value


class PaymentInput(StrictInput):
    amount_yuan = serializers.DecimalField(**MONEY, help_text="支付金额(元)/ yuan paid")
    paid_on = BoundedDateField(help_text="支付日期 / day paid")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    line = serializers.IntegerField(source="line_id")
    paid_on = serializers.DateField()
    amount_yuan = serializers.DecimalField(**MONEY)
    note = serializers.CharField()


class WithholdInput(StrictInput):
    reason = serializers.CharField(max_length=300, help_text="暂缓原因 / why the period is withheld")


def _schedule(request):
    return commitment_schedule(scoped(request, CommitmentLine))


@extend_schema(
    summary="承诺兑现计划 / the commitment schedule (district office, auditor, streets, promoters)",
    parameters=[
        OpenApiParameter("year", int, description="期间开始的年度 / the year periods begin in"),
        OpenApiParameter("signing", int, description="一次签约 / one signing"),
    ],
)
class CommitmentScheduleView(ApiMixin, ListAPIView):
    scope_model = CommitmentLine
    serializer_class = ScheduleRowSerializer

    def get_queryset(self):
        if self.fake:
            return CommitmentLine.objects.none()
        rows = _schedule(self.request)
        for name, field in (("year", "year"), ("signing", "commitment__signing_id")):
            value = self.request.query_params.get(name)
            if value is not None:
                if not value.isdigit():
                    raise serializers.ValidationError({name: ["须为整数 / must be a whole number"]})
                rows = rows.filter(**{field: int(value)})
        return rows

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}


def _line(request, pk) -> CommitmentLine:
    line = scoped(request, CommitmentLine).filter(pk=pk).first()
    if line is None:
        raise Http404
    return line


def _row(request, pk):
    row = _schedule(request).get(pk=pk)
    return ScheduleRowSerializer(row, context={"request": request, "today": timezone.localdate()}).data


class CommitmentPaymentView(ApiMixin, APIView):
    """Record what the district paid against one period (the district office)."""

    permission_classes = [IsAuthenticated, IsDistrictOffice]

    @extend_schema(
        summary="登记兑现 / record a payment against a period",
        request=PaymentInput,
        responses={201: PaymentSerializer, 400: BAD_REQUEST},
    )
    def post(self, request, pk):
        line = _line(request, pk)
        payload = PaymentInput(data=request.data)
        payload.is_valid(raise_exception=True)
        payment = commitment_payment_record(line=line, by=request.user, **payload.validated_data)
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


class CommitmentWithholdView(ApiMixin, APIView):
    """Withhold one period with a reason (the district office)."""

    permission_classes = [IsAuthenticated, IsDistrictOffice]

    @extend_schema(
        summary="暂缓兑现 / withhold a period",
        request=WithholdInput,
        responses={200: ScheduleRowSerializer, 400: BAD_REQUEST},
    )
    def post(self, request, pk):
        line = _line(request, pk)
        payload = WithholdInput(data=request.data)
        payload.is_valid(raise_exception=True)
        commitment_line_withhold(line=line, by=request.user, reason=payload.validated_data["reason"])
        return Response(_row(request, pk))

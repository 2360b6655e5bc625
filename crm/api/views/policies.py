"""Incentive policies and the what-if calculator: profile + building + offer → amounts year by year."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api import serializers as s
from crm.api.permissions import HasRole, scoped
from crm.api.views.base import ApiMixin
from crm.models import Building, Lead
from policies.engine import Offer
from policies.models import Policy
from policies.services import policy_what_if, profile_build


def visible_policies(request):
    """The district's general policies, and the case-by-case packages of leads the caller may see."""
    return scoped(request, Policy)


@extend_schema(summary="招商政策 / incentive policies")
class PolicyViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated, HasRole]
    serializer_class = s.PolicySerializer
    filterset_fields = ["scope", "active", "needs_approval", "approval_status"]
    ordering_fields = ["priority", "name", "valid_from"]
    ordering = ["-priority", "name", "id"]

    def get_queryset(self):
        return (
            visible_policies(self.request)
            .select_related("street", "business_circle", "building")
            .prefetch_related("benefits")
        )


class PolicyEvaluateView(ApiMixin, APIView):
    """What an applicant would get in a building for an offer, policy by policy, with the arithmetic."""

    permission_classes = [IsAuthenticated, HasRole]

    @extend_schema(
        summary="政策测算 / what-if: profile + building + offer → amounts",
        request=s.EvaluateInput,
        responses={200: s.EvaluationSerializer},
    )
    def post(self, request):
        payload = s.EvaluateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        building = scoped(request, Building).filter(pk=data["building"]).first()
        if building is None:
            raise ValidationError({"building": ["未知楼宇 / unknown building"]})
        lead = None
        if data.get("lead") is not None:
            lead = scoped(request, Lead).filter(pk=data["lead"]).first()
            if lead is None:
                raise ValidationError({"lead": ["未知线索 / unknown lead"]})
        offer = data["offer"]
        rent = offer.get("rent_per_m2_day")
        evaluation = policy_what_if(
            profile=profile_build(**data["profile"], lead=lead),
            building=building,
            offer=Offer(
                area_m2=float(offer["area_m2"]),
                on=offer.get("on") or timezone.localdate(),
                rent_per_m2_day=None if rent is None else float(rent),
            ),
        )
        return Response(s.EvaluationSerializer(evaluation.to_dict()).data)

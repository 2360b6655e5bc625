"""Reference data every role reads: the GB/T 4754-2017 industries, and division suggestions from text."""

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api import serializers as s
from crm.api.filters import IndustryFilter
from crm.api.permissions import scoped
from crm.api.views.base import ApiMixin
from crm.models import Industry
from crm.selectors.scope import VIEW
from matching.industry_suggest import suggest_industry


@extend_schema(summary="国民经济行业分类 / industries (GB/T 4754-2017)")
class IndustryViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    scope_model = Industry
    serializer_class = s.IndustrySerializer
    filterset_class = IndustryFilter
    ordering_fields = ["code"]
    ordering = ["code"]
    lookup_value_regex = "[0-9A-Za-z]{1,4}"

    def get_queryset(self):
        return scoped(self.request, Industry.objects.all())


class IndustrySuggestView(ApiMixin, APIView):
    """The likeliest divisions for a business-scope text (经营范围), likeliest first."""

    scope_model = Industry
    scope_action = VIEW
    pagination_class = None  # a short ranked list, not a collection

    @extend_schema(
        summary="按经营范围推荐行业 / suggest divisions for a business scope",
        request=s.SuggestInput,
        responses={200: s.SuggestionSerializer(many=True)},
    )
    def post(self, request):
        payload = s.SuggestInput(data=request.data)
        payload.is_valid(raise_exception=True)
        suggestions = suggest_industry(payload.validated_data["text"], top=payload.validated_data["top"])
        names = dict(
            Industry.objects.filter(code__in=[x.code for x in suggestions]).values_list("code", "name_en")
        )
        rows = [{**asdict(x), "name_zh": x.name, "name_en": names.get(x.code, "")} for x in suggestions]
        return Response(s.SuggestionSerializer(rows, many=True).data)

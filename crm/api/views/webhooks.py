"""An agency's webhooks: register (the secret is shown once), list, delete, and read the delivery log."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from crm.api.permissions import request_viewer, scoped
from crm.api.schema import BAD_REQUEST
from crm.api.serializers import StrictInput
from crm.api.views.base import ApiMixin
from crm.constants import Role
from crm.models import Agency, AgencyWebhook, WebhookDelivery
from crm.services.webhooks import webhook_delete, webhook_register


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgencyWebhook
        fields = ["id", "agency", "url", "active", "created_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="签名密钥,仅此一次显示 / the signing secret, shown this once"
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookInput(StrictInput):
    url = serializers.URLField(max_length=500)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "lead",
            "event",
            "payload",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "created_at",
            "sent_at",
        ]


@extend_schema_view(
    list=extend_schema(summary="回调地址列表 / your webhooks"),
    retrieve=extend_schema(summary="一个回调地址 / one webhook"),
    destroy=extend_schema(summary="删除回调地址及其投递记录 / delete a webhook and its delivery log"),
)
class WebhookViewSet(
    ApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    scope_model = AgencyWebhook
    serializer_class = WebhookSerializer
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return scoped(self.request, AgencyWebhook.objects.all())

    @extend_schema(
        summary="登记回调地址 / register a webhook (the secret is in this answer only)",
        request=WebhookInput,
        responses={201: WebhookCreatedSerializer, 400: BAD_REQUEST},
    )
    def create(self, request, *args, **kwargs):
        viewer = request_viewer(request)
        if viewer.role != Role.AGENCY or viewer.agency_id is None:
            # A webhook belongs to the agency whose key registers it; the office has no leads to follow.
            raise PermissionDenied("只有中介机构可以登记回调地址 / only an agency registers webhooks")
        payload = WebhookInput(data=request.data)
        payload.is_valid(raise_exception=True)
        agency = Agency.objects.get(pk=viewer.agency_id)
        webhook = webhook_register(agency=agency, url=payload.validated_data["url"])
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        webhook_delete(webhook=instance)


@extend_schema(summary="投递记录 / the delivery log of one webhook, newest first")
class WebhookDeliveriesView(ApiMixin, ListAPIView):
    scope_model = WebhookDelivery
    serializer_class = WebhookDeliverySerializer
    filterset_fields = ["status"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if self.fake:
            return WebhookDelivery.objects.none()
        webhook = get_object_or_404(scoped(self.request, AgencyWebhook), pk=self.kwargs["pk"])
        return scoped(self.request, WebhookDelivery.objects.filter(webhook=webhook))

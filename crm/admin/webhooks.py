"""Agencies' webhooks in the admin: URLs kept by the office (secret shown once), a read-only delivery log."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from crm.admin.base import ReadOnly, ScopedModelAdmin, ServiceForm, ServiceFormAdmin
from crm.models import AgencyWebhook, WebhookDelivery
from crm.services.webhooks import webhook_delete, webhook_register, webhook_update


class WebhookForm(ServiceForm, forms.ModelForm):
    """Registers a webhook, or changes its URL or pauses it, through crm.services.webhooks (URL checks)."""

    url = forms.URLField(label=_("接收地址"), max_length=500, assume_scheme="https")

    class Meta:
        model = AgencyWebhook
        fields = ("agency", "url", "active")

    def run_service(self):
        data = self.cleaned_data
        if self.instance.pk is None:
            webhook = webhook_register(agency=data["agency"], url=data["url"])
            if not data.get("active", True):
                webhook = webhook_update(webhook=webhook, url=webhook.url, active=False)
            return webhook
        return webhook_update(webhook=self.instance, url=data["url"], active=data["active"])


@admin.register(AgencyWebhook)
class AgencyWebhookAdmin(ServiceFormAdmin, ScopedModelAdmin):
    form = WebhookForm
    list_display = ("agency", "url", "active", "created_at")
    list_filter = ("active", "agency")
    search_fields = ("url", "agency__name")
    list_select_related = ("agency",)
    readonly_fields = ("secret_state", "created_at")

    @admin.display(description=_("签名密钥"))
    def secret_state(self, obj) -> str:
        # The secret signs every delivery; it is shown once, when the webhook is registered.
        return _("已设置,仅在登记时显示一次 / set; shown once, when registered")

    def get_fields(self, request, obj=None):
        return (
            ("agency", "url", "active") if obj is None else ("agency", "url", "active", *self.readonly_fields)
        )

    def get_readonly_fields(self, request, obj=None):
        # A webhook stays with the agency it was registered for: its deliveries were that agency's.
        return () if obj is None else ("agency", *self.readonly_fields)

    def save_model(self, request, obj, form, change):
        if not change:
            messages.warning(
                request,
                _("签名密钥(仅显示这一次,请交给该机构)/ the signing secret, shown this once: %(secret)s")
                % {"secret": obj.secret},
            )

    def delete_model(self, request, obj):
        webhook_delete(webhook=obj)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly, ScopedModelAdmin):
    """Every delivery, sent or not: written only by the worker, so nothing here can change it; the log
    is the record of what was sent and goes with its webhook."""

    list_display = (
        "id",
        "agency",
        "webhook",
        "lead",
        "event",
        "status",
        "attempts",
        "response_code",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "event", "webhook__agency", "created_at")
    search_fields = ("lead__ref", "lead__company_name", "webhook__url")
    list_select_related = ("webhook__agency", "lead")
    date_hierarchy = "created_at"
    fields = (
        "webhook",
        "lead",
        "event",
        "payload",
        "status",
        "attempts",
        "response_code",
        "last_error",
        "locked_until",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields

    @admin.display(description=_("中介机构"), ordering="webhook__agency__name")
    def agency(self, obj) -> str:
        return obj.webhook.agency.name

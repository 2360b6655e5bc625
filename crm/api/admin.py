"""Agencies' API keys in the admin: listed, revocable, issued with the key shown once; hashes only stored."""

from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from crm.admin.base import ScopedAdmin
from crm.api.keys import agency_api_account
from crm.models import AgencyAPIKey

# The library's own key model is bound to no agency and opens nothing here: keep it out of sight.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(AgencyAPIKey)
class AgencyAPIKeyAdmin(ScopedAdmin, APIKeyModelAdmin):
    """Rows, lookups and permissions as every CRM admin: the model permissions (the district office's)
    narrowed by crm.selectors.scope."""

    list_display = ("prefix", "name", "agency", "created", "expiry_date", "_has_expired", "revoked")
    list_filter = ("revoked", "agency", "created")
    list_select_related = ("agency",)
    search_fields = ("name", "prefix", "agency__name")
    fields = ("agency", "name", "expiry_date", "revoked", "prefix")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the row stays as the record of who had access

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "agency") if obj is not None else fields

    def save_model(self, request, obj, form=None, change=False) -> None:
        if not change:
            obj.user = agency_api_account(agency=obj.agency)
        super().save_model(request, obj, form, change)

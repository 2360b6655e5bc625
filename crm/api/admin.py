"""Agencies' API keys in the admin: listed, revocable, issued with the key shown once; hashes only stored."""

from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from crm.api.keys import agency_api_account
from crm.models import Agency, AgencyAPIKey
from crm.selectors.scope import CHANGE, NOTHING, RULES, request_viewer

# The library's own key model is bound to no agency and opens nothing here: keep it out of sight.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(AgencyAPIKey)
class AgencyAPIKeyAdmin(APIKeyModelAdmin):
    list_display = ("prefix", "name", "agency", "created", "expiry_date", "_has_expired", "revoked")
    list_filter = ("revoked", "agency", "created")
    list_select_related = ("agency",)
    search_fields = ("name", "prefix", "agency__name")
    fields = ("agency", "name", "expiry_date", "revoked", "prefix")

    # Keys are managed by whoever may change agencies (crm.selectors.scope): the district office.
    def _manages_agencies(self, request) -> bool:
        return RULES[Agency](request_viewer(request), CHANGE) is not NOTHING

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and self._manages_agencies(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the row stays as the record of who had access

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "agency") if obj is not None else fields

    def save_model(self, request, obj, form=None, change=False) -> None:
        if not change:
            obj.user = agency_api_account(agency=obj.agency)
        super().save_model(request, obj, form, change)

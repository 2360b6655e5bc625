"""Admins of the personal-data logs: who saw or exported whose contact, and erasures. Read-only."""

from django.contrib import admin

from crm.admin.base import ReadOnly, ScopedModelAdmin
from crm.models import ContactAccess, ContactErasure


@admin.register(ContactAccess)
class ContactAccessAdmin(ReadOnly, ScopedModelAdmin):
    list_display = ("at", "user", "how", "lead", "note")
    list_filter = ("how", "at")
    search_fields = ("lead__ref", "lead__company_name", "user__username")
    list_select_related = ("user", "lead")
    date_hierarchy = "at"
    fields = ("at", "user", "how", "lead", "note")
    readonly_fields = fields


@admin.register(ContactErasure)
class ContactErasureAdmin(ReadOnly, ScopedModelAdmin):
    list_display = ("erased_at", "lead", "reason", "erased_by", "history_rows", "texts_scrubbed", "note")
    list_filter = ("reason", "erased_at")
    search_fields = ("lead__ref", "lead__company_name", "erased_by__username")
    list_select_related = ("erased_by", "lead")
    date_hierarchy = "erased_at"
    fields = ("erased_at", "lead", "reason", "erased_by", "history_rows", "texts_scrubbed", "note")
    readonly_fields = fields

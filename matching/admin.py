"""Admin for matching: buildings' entry conditions (editable), trained model versions (read-only)."""

from django.contrib import admin

from crm.admin.base import ScopedHistoryAdmin, ScopedModelAdmin
from matching.models import EntryRule, IndustryModel, RankingModel


@admin.register(EntryRule)
class EntryRuleAdmin(ScopedHistoryAdmin):
    list_display = ["building", "condition", "note", "updated_at"]
    search_fields = ["building__name", "building__code", "condition"]
    autocomplete_fields = ["building"]
    list_select_related = ["building"]


class _ReadOnlyVersions(ScopedModelAdmin):
    """Versions are written by training, never by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RankingModel)
class RankingModelAdmin(_ReadOnlyVersions):
    list_display = ["version", "created_at", "leads", "pairs", "blend_share"]
    readonly_fields = [f.name for f in RankingModel._meta.fields]


@admin.register(IndustryModel)
class IndustryModelAdmin(_ReadOnlyVersions):
    list_display = ["version", "created_at", "samples", "classes"]
    exclude = ["payload"]
    readonly_fields = [f.name for f in IndustryModel._meta.fields if f.name != "payload"]

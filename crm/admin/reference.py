"""Admins of the reference tables: streets, business circles, industries, plan targets."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from crm.admin.base import ScopedModelAdmin
from crm.models import BusinessCircle, Industry, PlanTarget, Street


@admin.register(Street)
class StreetAdmin(ScopedModelAdmin):
    list_display = ("name", "kind", "building_count")
    list_filter = ("kind",)
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(building_count=Count("buildings"))

    @admin.display(description=_("楼宇数"), ordering="building_count")
    def building_count(self, street):
        return street.building_count


@admin.register(BusinessCircle)
class BusinessCircleAdmin(ScopedModelAdmin):
    list_display = ("name", "building_count")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(building_count=Count("buildings"))

    @admin.display(description=_("楼宇数"), ordering="building_count")
    def building_count(self, circle):
        return circle.building_count


@admin.register(Industry)
class IndustryAdmin(ScopedModelAdmin):
    """GB/T 4754-2017; shipped by a migration, so only the district office changes it."""

    list_display = ("code", "name_zh", "name_en", "level", "section", "parent")
    list_filter = ("level", "section")
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    list_per_page = 100


@admin.register(PlanTarget)
class PlanTargetAdmin(ScopedModelAdmin):
    list_display = ("key", "year", "milestone", "value")
    list_display_links = ("key",)
    list_editable = ("value",)
    list_filter = ("year", "milestone", "key")
    ordering = ("year", "key")
    list_per_page = 100

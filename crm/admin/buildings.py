"""Admins of buildings (楼宇) and their units (房源), with units inline and vacant area per building."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from crm.admin.base import ScopedHistoryAdmin, ScopedInline
from crm.admin.filters import industry_section_filter
from crm.constants import UnitStatus
from crm.models import Building, Unit

# Reserved and leased are results of unit_reserve and tenancy_create/signing_complete; an admin
# form that set them would leave a unit held or let with no hold or tenancy behind it.
SERVICE_STATUSES = (UnitStatus.RESERVED, UnitStatus.LEASED)


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ("building", "floor", "number", "area_m2", "status", "asking_rent", "available_from")

    def clean_status(self):
        status = self.cleaned_data["status"]
        before = self.initial.get("status") if self.instance.pk else None
        if status in SERVICE_STATUSES and status != before:
            raise forms.ValidationError(
                _(
                    "预留与已租状态由房源预留和签约登记产生,不能直接设置 / "
                    "reserved and leased come from holds and signings and cannot be set here"
                )
            )
        return status


class UnitInline(ScopedInline, admin.TabularInline):
    model = Unit
    form = UnitForm
    fields = ("floor", "number", "area_m2", "status", "asking_rent", "available_from")
    extra = 0
    show_change_link = True


def vacant_area_subquery() -> Coalesce:
    """Area of a building's vacant units, as one correlated subquery for the whole list."""
    vacant = (
        Unit.objects.filter(building=OuterRef("pk"), status=UnitStatus.VACANT)
        .order_by()
        .values("building")
        .annotate(total=Sum("area_m2"))
        .values("total")
    )
    area = DecimalField(max_digits=14, decimal_places=2)
    return Coalesce(Subquery(vacant, output_field=area), Value(Decimal("0")), output_field=area)


@admin.register(Building)
class BuildingAdmin(ScopedHistoryAdmin):
    list_display = (
        "code",
        "name",
        "street",
        "star_rating",
        "featured_type",
        "main_industry",
        "leasable_area_m2",
        "vacant_area_m2",
    )
    list_display_links = ("code", "name")
    list_filter = (
        "street",
        "business_circle",
        "star_rating",
        "featured_type",
        industry_section_filter("main_industry", _("主导产业门类")),
    )
    search_fields = ("name", "code", "address")
    list_select_related = ("street", "main_industry")
    autocomplete_fields = ("main_industry",)
    inlines = (UnitInline,)
    fieldsets = (
        (None, {"fields": ("code", "name", "street", "business_circle", "address")}),
        (
            _("面积与楼层"),
            {"fields": (("gross_area_m2", "leasable_area_m2"), "floors", "in_service_since")},
        ),
        (
            _("星级、特色与产业"),
            {"fields": (("star_rating", "star_since"), ("featured_type", "featured_since"), "main_industry")},
        ),
        (
            _("配套服务"),
            {"fields": ("party_org_since", "intermediary_since", "smart_platform_since")},
        ),
        (_("租金与位置"), {"fields": (("rent_min", "rent_max"), ("lat", "lng"))}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(vacant_area_m2=vacant_area_subquery())

    @admin.display(description=_("空置面积(㎡)"), ordering="vacant_area_m2")
    def vacant_area_m2(self, building):
        return building.vacant_area_m2


@admin.register(Unit)
class UnitAdmin(ScopedHistoryAdmin):
    form = UnitForm
    list_display = ("__str__", "building", "floor", "number", "area_m2", "status", "asking_rent")
    list_filter = ("status", ("building__street", admin.RelatedOnlyFieldListFilter))
    search_fields = ("building__name", "building__code", "number")
    list_select_related = ("building",)
    autocomplete_fields = ("building",)

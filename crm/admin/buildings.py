"""Admins of buildings (楼宇) and their units (房源), with units inline and vacant area per building."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.admin.base import ScopedHistoryAdmin, ScopedInline
from crm.admin.filters import industry_section_filter
from crm.constants import UnitStatus
from crm.models import Building, Unit
from crm.services.units import unit_status_check


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ("building", "floor", "number", "area_m2", "status", "asking_rent", "available_from")

    def clean(self):
        cleaned = super().clean()
        if "status" in cleaned:
            # Reserved and leased come from holds and signings: the services' one rule decides.
            before = self.initial.get("status") if self.instance.pk else None
            unit_status_check(before=before, status=cleaned["status"])
        return cleaned


# Each unit in the inline posts nine fields, and Django refuses a request of more than
# DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000): a building of 110 units or more could not be saved. The
# inline edits the first units (by floor and number) and links to the unit list for all of them;
# 50 units stay near 450 fields, well under the limit, and the page stays light.
UNITS_INLINE_LIMIT = 50


class FirstUnitsFormSet(BaseInlineFormSet):
    """The building's first UNITS_INLINE_LIMIT units; the others are not in the form, so untouched."""

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            units = super().get_queryset()
            first = units.order_by("floor", "number", "pk").values("pk")[:UNITS_INLINE_LIMIT]
            # With its building: each row's change link names the unit by building and number.
            self._queryset = (
                units.filter(pk__in=first).select_related("building").order_by("floor", "number", "pk")
            )
        return self._queryset


class UnitInline(ScopedInline, admin.TabularInline):
    model = Unit
    form = UnitForm
    formset = FirstUnitsFormSet
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
    readonly_fields = ("units_overview",)
    fieldsets = (
        (None, {"fields": ("code", "name", "street", "business_circle", "address", "units_overview")}),
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

    @admin.display(description=_("房源"))
    def units_overview(self, building):
        if building is None or building.pk is None:
            return "—"
        count = building.units.count()
        link = reverse("admin:crm_unit_changelist") + f"?building__id__exact={building.pk}"
        if count <= UNITS_INLINE_LIMIT:
            text = gettext("共 %(count)d 套,均在下方 / %(count)d units, all below") % {"count": count}
        else:
            text = gettext(
                "共 %(count)d 套,下方列出前 %(limit)d 套 / %(count)d units, the first %(limit)d below"
            ) % {"count": count, "limit": UNITS_INLINE_LIMIT}
        return format_html('{} · <a href="{}">{}</a>', text, link, gettext("全部房源 / all units"))

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
    extra_lookups = ("building__id__exact",)  # the building page's link to all its units

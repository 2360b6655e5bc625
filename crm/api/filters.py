"""Query-string filters of the list endpoints (django-filter); they narrow, the scope has already ruled."""

import django_filters as df

from crm.constants import ActivityKind, FeaturedType, IndustryLevel, LeadChannel, LeadStage, UnitStatus
from crm.models import Activity, AppraisalSnapshot, Building, Enterprise, Industry, Lead, TaxRecord, Unit


class BuildingFilter(df.FilterSet):
    street = df.CharFilter(field_name="street__name", help_text="镇街名称 / street name")
    business_circle = df.CharFilter(field_name="business_circle__name")
    q = df.CharFilter(field_name="name", lookup_expr="icontains", help_text="名称包含 / name contains")
    featured_type = df.ChoiceFilter(choices=FeaturedType.choices)
    main_industry = df.CharFilter(field_name="main_industry_id")
    star_rating_min = df.NumberFilter(field_name="star_rating", lookup_expr="gte")
    rent_at_most = df.NumberFilter(
        field_name="rent_min", lookup_expr="lte", help_text="最低租金不高于 / rent_min at most (yuan/m²/day)"
    )
    vacant_area_min = df.NumberFilter(field_name="vacant_area_m2", lookup_expr="gte")

    class Meta:
        model = Building
        fields = ["code"]


class UnitFilter(df.FilterSet):
    status = df.ChoiceFilter(choices=UnitStatus.choices)
    area_min = df.NumberFilter(field_name="area_m2", lookup_expr="gte")
    area_max = df.NumberFilter(field_name="area_m2", lookup_expr="lte")

    class Meta:
        model = Unit
        fields = ["floor"]


class LeadFilter(df.FilterSet):
    stage = df.MultipleChoiceFilter(choices=LeadStage.choices)
    channel = df.ChoiceFilter(choices=LeadChannel.choices)
    owner = df.CharFilter(field_name="owner__user__username", help_text="负责人用户名 / owner's username")
    industry = df.CharFilter(field_name="industry_id")
    q = df.CharFilter(field_name="company_name", lookup_expr="icontains")
    credit_code = df.CharFilter()
    created_after = df.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = df.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = df.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gt",
        help_text="之后有变动的线索(轮询阶段变化)/ leads changed since then (poll for stage changes)",
    )

    class Meta:
        model = Lead
        fields = ["case_by_case", "ref"]


class ActivityFilter(df.FilterSet):
    kind = df.ChoiceFilter(choices=ActivityKind.choices)
    after = df.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")

    class Meta:
        model = Activity
        fields = []


class IndustryFilter(df.FilterSet):
    level = df.ChoiceFilter(choices=IndustryLevel.choices)
    parent = df.CharFilter(field_name="parent_id")
    q = df.CharFilter(field_name="name_zh", lookup_expr="icontains")

    class Meta:
        model = Industry
        fields = ["section"]


class EnterpriseFilter(df.FilterSet):
    industry = df.CharFilter(field_name="industry_id")
    q = df.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Enterprise
        fields = ["credit_code", "registered_in_district", "settles_in_district", "is_headquarters"]


class TaxRecordFilter(df.FilterSet):
    credit_code = df.CharFilter(field_name="enterprise__credit_code")

    class Meta:
        model = TaxRecord
        fields = ["year", "month"]


class AppraisalFilter(df.FilterSet):
    promoter = df.CharFilter(field_name="promoter__user__username")

    class Meta:
        model = AppraisalSnapshot
        fields = ["period_kind", "period_start", "team"]

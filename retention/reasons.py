"""The move-out model's features as reasons in words (zh/en), for the pages."""

from django.utils.translation import gettext_lazy as _

REASONS = {
    "months_to_end": _("租约临近到期"),
    "ends_within_12": _("租约12个月内到期"),
    "open_ended": _("租约未约定到期日"),
    "tenancy_age": _("入驻时间较长"),
    "tax_trend": _("近四个季度税收下降"),
    "has_trend": _("有按月或按季税收记录"),
    "tax_per_m2_vs_median": _("每平方米税收与本楼中位数差异大"),
    "area_change": _("租用面积变化"),
    "occupancy_trend": _("所在楼宇入驻率变化"),
    "building_tier": _("所在楼宇税收层级"),
    "industry_churn": _("所属行业区内迁出率高"),
    "headquarters": _("总部企业标识"),
    "registered": _("区内注册标识"),
}


def reasons_in_words(names: list[str]) -> list[str]:
    return [str(REASONS.get(name, name)) for name in names]

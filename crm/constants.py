"""Choices and fixed numbers of the domain (domain.md, import-format.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

YUAN_PER_YI = 100_000_000  # 亿元
M2_PER_WAN = 10_000  # 万㎡
BILLION_TIER_YUAN = 100_000_000  # 亿元楼
TEN_MILLION_TIER_YUAN = 10_000_000  # 千万元楼


class Role(models.TextChoices):
    DISTRICT_ADMIN = "district_admin", _("区楼宇办")
    STREET_OFFICER = "street_officer", _("镇街专员")
    PROMOTER = "promoter", _("招商人员")
    BUILDING_MANAGER = "building_manager", _("楼宇物业")
    AGENCY = "agency", _("中介机构")
    AUDITOR = "auditor", _("第三方评价")


class StreetKind(models.TextChoices):
    TOWN = "town", _("镇")
    SUBDISTRICT = "subdistrict", _("街道")


class FeaturedType(models.TextChoices):
    FINANCE = "finance", _("金融楼宇")
    HEADQUARTERS = "headquarters", _("总部楼宇")
    MAKER = "maker", _("众创楼宇")
    ECOMMERCE = "ecommerce", _("电商楼宇")
    CULTURAL = "cultural", _("文创中介楼宇")


class UnitStatus(models.TextChoices):
    VACANT = "vacant", _("空置")
    RESERVED = "reserved", _("预留")
    LEASED = "leased", _("已租")
    SELF_USED = "self_used", _("自用")
    UNAVAILABLE = "unavailable", _("不可租")


class IndustryLevel(models.TextChoices):
    SECTION = "section", _("门类")
    DIVISION = "division", _("大类")
    GROUP = "group", _("中类")
    CLASS = "class", _("小类")


class LeadStage(models.TextChoices):
    NEW = "new", _("新线索")
    CONTACTED = "contacted", _("已接洽")
    VISITING = "visiting", _("看房中")
    NEGOTIATING = "negotiating", _("谈判中")
    SIGNED = "signed", _("已签约")
    SETTLED = "settled", _("已入驻")
    LOST = "lost", _("已流失")


# Every stage change a lead may make; "lost -> contacted" is the reopen edge.
# "negotiating -> signed" happens only through signing_complete, "signed -> settled" through
# signing_settle and "signed -> lost" through signing_cancel.
LEAD_TRANSITIONS: dict[str, frozenset[str]] = {
    LeadStage.NEW: frozenset({LeadStage.CONTACTED, LeadStage.LOST}),
    LeadStage.CONTACTED: frozenset({LeadStage.VISITING, LeadStage.NEGOTIATING, LeadStage.LOST}),
    LeadStage.VISITING: frozenset({LeadStage.NEGOTIATING, LeadStage.LOST}),
    LeadStage.NEGOTIATING: frozenset({LeadStage.VISITING, LeadStage.SIGNED, LeadStage.LOST}),
    # Both only through crm.services.signings: settling is verified, losing is cancelling the signing.
    LeadStage.SIGNED: frozenset({LeadStage.SETTLED, LeadStage.LOST}),
    # A settled company can still fall through (it leaves, the lease is void): only the district
    # office cancels its signing, with a reason (crm.services.signings.signing_cancel).
    LeadStage.SETTLED: frozenset({LeadStage.LOST}),
    LeadStage.LOST: frozenset({LeadStage.CONTACTED}),
}
OPEN_STAGES = frozenset({LeadStage.NEW, LeadStage.CONTACTED, LeadStage.VISITING, LeadStage.NEGOTIATING})


class LeadChannel(models.TextChoices):
    DEPARTMENT = "department", _("部门招商")
    INDIVIDUAL = "individual", _("个人招商")
    PROFESSIONAL = "professional", _("专业招商")
    TEMPORARY = "temporary", _("临时招商")
    ENTERPRISE = "enterprise", _("企业招商")
    GOVERNMENT = "government", _("政府招商")
    AGENCY = "agency", _("中介机构")
    TENANT_REFERRAL = "tenant_referral", _("以商招商")


class LawfulBasis(models.TextChoices):
    """Why the district may process a lead's contact person's data (PIPL article 13); docs/privacy.md."""

    CONSENT = "consent", _("已取得本人同意")
    CONTRACT = "contract", _("订立合同所必需")
    PUBLIC = "public", _("已合法公开的信息")


class ActivityKind(models.TextChoices):
    CALL = "call", _("电话")
    VISIT = "visit", _("拜访")
    SITE_TOUR = "site_tour", _("实地看房")
    MEETING = "meeting", _("会谈")
    EMAIL = "email", _("邮件")
    NOTE = "note", _("备注")


# What a promoter plans as the next step of a lead (an e-mail or a note is logged, not planned).
PLANNED_ACTIVITY_KINDS = (ActivityKind.CALL, ActivityKind.VISIT, ActivityKind.SITE_TOUR, ActivityKind.MEETING)


class TaxTier(models.TextChoices):
    NONE = "none", _("未达标")
    NEAR_TEN_MILLION = "near_ten_million", _("准千万元楼")
    TEN_MILLION = "ten_million", _("千万元楼")
    NEAR_BILLION = "near_billion", _("准亿元楼")
    BILLION = "billion", _("亿元楼")


class IndicatorKey(models.TextChoices):
    """The fourteen plan indicators, in the plan's order (domain.md)."""

    GROSS_AREA = "gross_area", _("楼宇总建筑面积(万㎡)")
    LEASABLE_AREA = "leasable_area", _("可租售面积(万㎡)")
    OCCUPANCY_RATE = "occupancy_rate", _("企业入驻率(%)")
    REGISTRATION_RATE = "registration_rate", _("入驻企业注册率(%)")
    INDUSTRY_CONCENTRATION = "industry_concentration", _("行业集聚度(%)")
    TAX_SOURCE_RATE = "tax_source_rate", _("税源率(%)")
    BILLION_BUILDINGS = "billion_buildings", _("税收超亿元的重点楼宇数量(幢)")
    BUILDING_TAX = "building_tax", _("楼宇税收收入(亿元)")
    TAX_PER_M2 = "tax_per_m2", _("每平方米税收(元)")
    PARTY_COVERAGE = "party_coverage", _("楼宇基层党组织覆盖率(%)")
    INTERMEDIARY_COVERAGE = "intermediary_coverage", _("法律、金融等配套中介服务覆盖率(%)")
    SMART_PLATFORM_COVERAGE = "smart_platform_coverage", _("政企智慧平台覆盖率(%)")
    STAR_BUILDINGS = "star_buildings", _("星级楼宇数量(幢)")
    FEATURED_BUILDINGS = "featured_buildings", _("特色楼宇数量(幢)")


# The plan's target table (domain.md), seeded for 2021–2023 and editable as PlanTarget rows.
PLAN_TARGETS: dict[str, tuple[float, float, float]] = {
    IndicatorKey.GROSS_AREA: (230, 240, 250),
    IndicatorKey.LEASABLE_AREA: (175, 185, 200),
    IndicatorKey.OCCUPANCY_RATE: (82, 86, 90),
    IndicatorKey.REGISTRATION_RATE: (96, 97, 98),
    IndicatorKey.INDUSTRY_CONCENTRATION: (62, 63.5, 65),
    IndicatorKey.TAX_SOURCE_RATE: (60, 65, 70),
    IndicatorKey.BILLION_BUILDINGS: (7, 8, 10),
    IndicatorKey.BUILDING_TAX: (9, 12, 15),
    IndicatorKey.TAX_PER_M2: (2600, 3000, 3500),
    IndicatorKey.PARTY_COVERAGE: (40, 60, 80),
    IndicatorKey.INTERMEDIARY_COVERAGE: (40, 50, 60),
    IndicatorKey.SMART_PLATFORM_COVERAGE: (40, 45, 50),
    IndicatorKey.STAR_BUILDINGS: (14, 17, 20),
    IndicatorKey.FEATURED_BUILDINGS: (5, 7, 10),
}
PLAN_FIRST_YEAR = 2021

"""Promoter appraisal and street assessment: targets and weights as data, and the snapshots computed."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.constants import IndicatorKey, TaxTier

MONEY = {"max_digits": 16, "decimal_places": 2}
RATE = {"max_digits": 6, "decimal_places": 2}


class PeriodKind(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年度")


class Metric(models.TextChoices):
    """What a promoter is appraised on, in the order of the appraisal table."""

    LEADS_LOGGED = "leads_logged", _("新增线索")
    VALID_LEADS = "valid_leads", _("有效线索")
    ACTIVITIES = "activities", _("跟进次数")
    SITE_TOURS = "site_tours", _("实地看房")
    SIGNINGS = "signings", _("签约数")
    SIGNED_AREA_M2 = "signed_area_m2", _("签约面积(㎡)")
    EXPECTED_TAX_YUAN = "expected_tax_yuan", _("签约企业预计首年税收(元)")
    ACTUAL_TAX_YUAN = "actual_tax_yuan", _("签约企业实缴首年税收(元)")
    CONVERSION_RATE = "conversion_rate", _("转化率(%)")
    MEDIAN_DAYS_TO_SIGN = "median_days_to_sign", _("签约周期中位数(天)")
    FOLLOWUP_TIMELINESS = "followup_timeliness", _("及时跟进率(%)")


# Counting calls and visits is effort, not outcome; their weights are capped so the score cannot be
# gamed by logging activity (see AppraisalWeight).
EFFORT_METRICS = (Metric.LEADS_LOGGED, Metric.ACTIVITIES, Metric.SITE_TOURS)
EFFORT_WEIGHT_CAP = 30
LOWER_IS_BETTER = frozenset({Metric.MEDIAN_DAYS_TO_SIGN})
PERCENT_METRICS = (Metric.CONVERSION_RATE, Metric.FOLLOWUP_TIMELINESS)


def period_bounds(kind: str, start: dt.date) -> tuple[dt.date, dt.date]:
    """The first and the last day of the month, quarter or year that begins on `start`."""
    if kind == PeriodKind.MONTH:
        months = 1
    elif kind == PeriodKind.QUARTER:
        months = 3
    else:
        months = 12
    index = start.year * 12 + start.month - 1 + months
    following = dt.date(index // 12, index % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def period_start_error(kind: str, start: dt.date | None) -> str | None:
    """Why `start` cannot begin a period of `kind`, or None."""
    if start is None or kind not in PeriodKind.values:
        return None
    if start.day != 1:
        return f"周期须从月初开始,而非 {start} / a period starts on the 1st, not {start}"
    if kind == PeriodKind.QUARTER and start.month not in (1, 4, 7, 10):
        return f"季度须从1、4、7、10月开始,而非 {start} / a quarter starts in Jan, Apr, Jul or Oct"
    if kind == PeriodKind.YEAR and start.month != 1:
        return f"年度须从1月1日开始,而非 {start} / a year starts on 1 January"
    return None


def _target_field(label, **kwargs):
    return models.DecimalField(label, null=True, blank=True, max_digits=16, decimal_places=2, **kwargs)


class PromoterTarget(models.Model):
    """One promoter's targets for one month, quarter or year; a blank target is not appraised."""

    promoter = models.ForeignKey(
        "crm.Promoter", verbose_name=_("招商人员"), on_delete=models.CASCADE, related_name="targets"
    )
    period_kind = models.CharField(_("周期"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("周期开始"))
    leads_logged = _target_field(Metric.LEADS_LOGGED.label)
    valid_leads = _target_field(Metric.VALID_LEADS.label)
    activities = _target_field(Metric.ACTIVITIES.label)
    site_tours = _target_field(Metric.SITE_TOURS.label)
    signings = _target_field(Metric.SIGNINGS.label)
    signed_area_m2 = _target_field(Metric.SIGNED_AREA_M2.label)
    expected_tax_yuan = _target_field(Metric.EXPECTED_TAX_YUAN.label)
    actual_tax_yuan = _target_field(Metric.ACTUAL_TAX_YUAN.label)
    conversion_rate = _target_field(Metric.CONVERSION_RATE.label)
    median_days_to_sign = _target_field(Metric.MEDIAN_DAYS_TO_SIGN.label)
    followup_timeliness = _target_field(Metric.FOLLOWUP_TIMELINESS.label)

    class Meta:
        ordering = ["-period_start", "promoter"]
        verbose_name = _("招商人员目标")
        verbose_name_plural = pgettext_lazy("plural", "招商人员目标")
        constraints = [
            models.UniqueConstraint(
                fields=["promoter", "period_kind", "period_start"], name="promoter_target_once_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period_kind__in=PeriodKind.values), name="promoter_target_period_known"
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{metric}__isnull": True}) | Q(**{f"{metric}__gte": 0}),
                    name=f"promoter_target_{metric}_not_negative",
                )
                for metric in Metric.values
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{metric}__isnull": True}) | Q(**{f"{metric}__lte": 100}),
                    name=f"promoter_target_{metric}_at_most_100",
                )
                for metric in PERCENT_METRICS
            ),
            # Valid leads are a subset of the leads logged.
            models.CheckConstraint(
                condition=Q(valid_leads__isnull=True)
                | Q(leads_logged__isnull=True)
                | Q(valid_leads__lte=F("leads_logged")),
                name="promoter_target_valid_within_logged",
            ),
            # Site tours are activities.
            models.CheckConstraint(
                condition=Q(site_tours__isnull=True)
                | Q(activities__isnull=True)
                | Q(site_tours__lte=F("activities")),
                name="promoter_target_tours_within_activities",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.promoter} {self.get_period_kind_display()} {self.period_start}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        start_error = period_start_error(self.period_kind, self.period_start)
        if start_error:
            errors["period_start"] = start_error
        for metric in Metric:
            value = getattr(self, metric.value)
            if value is not None and value < 0:
                errors[metric.value] = f"目标不能为负数:{value} / a target cannot be negative: {value}"
            elif value is not None and metric in PERCENT_METRICS and value > 100:
                errors[metric.value] = f"比率目标不能超过100%:{value} / a rate target cannot exceed 100%"
        if (
            "valid_leads" not in errors
            and self.valid_leads is not None
            and self.leads_logged is not None
            and self.valid_leads > self.leads_logged
        ):
            errors["valid_leads"] = (
                f"有效线索目标 {self.valid_leads} 大于新增线索目标 {self.leads_logged} / "
                f"valid leads {self.valid_leads} exceed the leads logged {self.leads_logged}"
            )
        if (
            "site_tours" not in errors
            and self.site_tours is not None
            and self.activities is not None
            and self.site_tours > self.activities
        ):
            errors["site_tours"] = (
                f"实地看房目标 {self.site_tours} 大于跟进次数目标 {self.activities} / "
                f"site tours {self.site_tours} exceed the activities {self.activities}"
            )
        if errors:
            raise ValidationError(errors)

    def target(self, metric: str) -> Decimal | None:
        return getattr(self, metric)


def _weight_field(label, default: int):
    return models.PositiveSmallIntegerField(label, default=default)


# The seeded weights (percent): outcomes carry 85 of the 100 points, effort 15.
DEFAULT_WEIGHTS: dict[str, int] = {
    Metric.LEADS_LOGGED: 5,
    Metric.VALID_LEADS: 10,
    Metric.ACTIVITIES: 5,
    Metric.SITE_TOURS: 5,
    Metric.SIGNINGS: 20,
    Metric.SIGNED_AREA_M2: 10,
    Metric.EXPECTED_TAX_YUAN: 5,
    Metric.ACTUAL_TAX_YUAN: 20,
    Metric.CONVERSION_RATE: 10,
    Metric.MEDIAN_DAYS_TO_SIGN: 5,
    Metric.FOLLOWUP_TIMELINESS: 5,
}


def _sum_of_others(metric: str):
    expression = Value(100)
    for other in Metric.values:
        if other != metric:
            expression = expression - F(other)
    return expression


class AppraisalWeight(models.Model):
    """The weight (points out of 100) of each metric in the score, in force from a date on."""

    effective_from = models.DateField(_("生效日期"), unique=True)
    leads_logged = _weight_field(Metric.LEADS_LOGGED.label, DEFAULT_WEIGHTS[Metric.LEADS_LOGGED])
    valid_leads = _weight_field(Metric.VALID_LEADS.label, DEFAULT_WEIGHTS[Metric.VALID_LEADS])
    activities = _weight_field(Metric.ACTIVITIES.label, DEFAULT_WEIGHTS[Metric.ACTIVITIES])
    site_tours = _weight_field(Metric.SITE_TOURS.label, DEFAULT_WEIGHTS[Metric.SITE_TOURS])
    signings = _weight_field(Metric.SIGNINGS.label, DEFAULT_WEIGHTS[Metric.SIGNINGS])
    signed_area_m2 = _weight_field(Metric.SIGNED_AREA_M2.label, DEFAULT_WEIGHTS[Metric.SIGNED_AREA_M2])
    expected_tax_yuan = _weight_field(
        Metric.EXPECTED_TAX_YUAN.label, DEFAULT_WEIGHTS[Metric.EXPECTED_TAX_YUAN]
    )
    actual_tax_yuan = _weight_field(Metric.ACTUAL_TAX_YUAN.label, DEFAULT_WEIGHTS[Metric.ACTUAL_TAX_YUAN])
    conversion_rate = _weight_field(Metric.CONVERSION_RATE.label, DEFAULT_WEIGHTS[Metric.CONVERSION_RATE])
    median_days_to_sign = _weight_field(
        Metric.MEDIAN_DAYS_TO_SIGN.label, DEFAULT_WEIGHTS[Metric.MEDIAN_DAYS_TO_SIGN]
    )
    followup_timeliness = _weight_field(
        Metric.FOLLOWUP_TIMELINESS.label, DEFAULT_WEIGHTS[Metric.FOLLOWUP_TIMELINESS]
    )

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("考核权重")
        verbose_name_plural = pgettext_lazy("plural", "考核权重")
        constraints = [
            models.CheckConstraint(
                condition=Q(leads_logged=_sum_of_others("leads_logged")), name="appraisal_weight_sum_100"
            ),
            models.CheckConstraint(
                condition=Q(leads_logged__lte=Value(EFFORT_WEIGHT_CAP) - F("activities") - F("site_tours")),
                name="appraisal_weight_effort_capped",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('考核权重')} {self.effective_from}"

    def weights(self) -> dict[str, int]:
        return {metric: getattr(self, metric) for metric in Metric.values}

    def clean(self) -> None:
        weights = self.weights()
        negative = {m: w for m, w in weights.items() if w is not None and w < 0}
        if negative:
            raise ValidationError(
                {m: f"权重不能为负数:{w} / a weight cannot be negative: {w}" for m, w in negative.items()}
            )
        total = sum(w or 0 for w in weights.values())
        if total != 100:
            raise ValidationError(
                f"各项权重之和须为100,实为 {total} / the weights must add up to 100, they add up to {total}"
            )
        effort = sum(weights[m] or 0 for m in EFFORT_METRICS)
        if effort > EFFORT_WEIGHT_CAP:
            raise ValidationError(
                f"线索、跟进、看房等过程指标权重合计 {effort} 超过上限 {EFFORT_WEIGHT_CAP}:"
                f"考核应以成果为主 / "
                f"effort metrics (leads, activities, site tours) weigh {effort}, above the cap of "
                f"{EFFORT_WEIGHT_CAP}: outcomes must carry most of the weight"
            )


class AppraisalSnapshot(models.Model):
    """One promoter's appraisal for one period as computed at a moment: metrics, score, ranks."""

    promoter = models.ForeignKey(
        "crm.Promoter", verbose_name=_("招商人员"), on_delete=models.CASCADE, related_name="appraisals"
    )
    period_kind = models.CharField(_("周期"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("周期开始"))
    period_end = models.DateField(_("周期结束"))
    team = models.CharField(_("团队"), max_length=100, blank=True)
    street = models.ForeignKey(
        "crm.Street",
        verbose_name=_("镇街"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    leads_logged = models.PositiveIntegerField(Metric.LEADS_LOGGED.label, default=0)
    valid_leads = models.PositiveIntegerField(Metric.VALID_LEADS.label, default=0)
    activities = models.PositiveIntegerField(Metric.ACTIVITIES.label, default=0)
    site_tours = models.PositiveIntegerField(Metric.SITE_TOURS.label, default=0)
    signings = models.PositiveIntegerField(Metric.SIGNINGS.label, default=0)
    signed_area_m2 = models.DecimalField(Metric.SIGNED_AREA_M2.label, default=0, **MONEY)
    expected_tax_yuan = models.DecimalField(Metric.EXPECTED_TAX_YUAN.label, default=0, **MONEY)
    actual_tax_yuan = models.DecimalField(Metric.ACTUAL_TAX_YUAN.label, default=0, **MONEY)
    conversion_rate = models.DecimalField(Metric.CONVERSION_RATE.label, null=True, blank=True, **RATE)
    median_days_to_sign = models.DecimalField(Metric.MEDIAN_DAYS_TO_SIGN.label, null=True, blank=True, **RATE)
    followup_timeliness = models.DecimalField(Metric.FOLLOWUP_TIMELINESS.label, null=True, blank=True, **RATE)
    reminders_due = models.PositiveIntegerField(_("到期提醒数"), default=0)
    # Pipeline, shown beside the results but carrying no points: signed in the period, not yet
    # verified settled and not cancelled (docs/appraisal.md).
    pipeline_signings = models.PositiveIntegerField(_("待核验签约数"), default=0)
    pipeline_area_m2 = models.DecimalField(_("待核验签约面积"), default=0, **MONEY)
    targets = models.JSONField(_("目标"), default=dict, blank=True)
    achievements = models.JSONField(_("完成度"), default=dict, blank=True)
    score = models.DecimalField(_("得分"), null=True, blank=True, **RATE)
    rank_team = models.PositiveIntegerField(_("团队排名"), null=True, blank=True)
    rank_district = models.PositiveIntegerField(_("全区排名"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        ordering = ["-period_start", "rank_district"]
        verbose_name = _("招商人员考核")
        verbose_name_plural = pgettext_lazy("plural", "招商人员考核")
        constraints = [
            models.UniqueConstraint(
                fields=["promoter", "period_kind", "period_start"], name="appraisal_once_per_period"
            ),
        ]
        indexes = [models.Index(fields=["period_kind", "period_start"], name="appraisal_period")]

    def __str__(self) -> str:
        return f"{self.promoter} {self.period_start} {self.score}"


class StreetTarget(models.Model):
    """A street's target for one plan indicator in one year, set by the district office (以考促建)."""

    street = models.ForeignKey(
        "crm.Street", verbose_name=_("镇街"), on_delete=models.CASCADE, related_name="targets"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    key = models.CharField(_("指标"), max_length=40, choices=IndicatorKey.choices)
    value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["street", "year", "key"]
        verbose_name = _("镇街目标")
        verbose_name_plural = pgettext_lazy("plural", "镇街目标")
        constraints = [
            models.UniqueConstraint(fields=["street", "year", "key"], name="street_target_once"),
            models.CheckConstraint(condition=Q(key__in=IndicatorKey.values), name="street_target_key_known"),
            models.CheckConstraint(condition=Q(value__gte=0), name="street_target_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.street} {self.year} {self.get_key_display()} {self.value}"

    def clean(self) -> None:
        if self.value is not None and self.value < 0:
            raise ValidationError({"value": f"目标不能为负数:{self.value} / a target cannot be negative"})


class StreetAssessmentSnapshot(models.Model):
    """One street's assessment for a year: indicators against targets, signings, tax growth, promoters."""

    street = models.ForeignKey(
        "crm.Street", verbose_name=_("镇街"), on_delete=models.CASCADE, related_name="assessments"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    indicators = models.JSONField(_("指标"), default=dict)
    targets = models.JSONField(_("目标"), default=dict, blank=True)
    targets_set = models.PositiveSmallIntegerField(_("设定目标数"), default=0)
    targets_met = models.PositiveSmallIntegerField(_("达标数"), default=0)
    signings = models.PositiveIntegerField(_("签约数"), default=0)
    signed_area_m2 = models.DecimalField(_("签约面积(㎡)"), default=0, **MONEY)
    tax_yuan = models.DecimalField(_("楼宇税收(元)"), default=0, **MONEY)
    previous_tax_yuan = models.DecimalField(_("上年楼宇税收(元)"), default=0, **MONEY)
    tax_growth = models.DecimalField(_("税收增长率(%)"), null=True, blank=True, **RATE)
    promoters = models.PositiveSmallIntegerField(_("招商人员数"), default=0)
    promoter_score = models.DecimalField(_("招商人员平均得分"), null=True, blank=True, **RATE)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        ordering = ["-year", "street"]
        verbose_name = _("镇街考核")
        verbose_name_plural = pgettext_lazy("plural", "镇街考核")
        constraints = [
            models.UniqueConstraint(fields=["street", "year"], name="street_assessment_once_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.street} {self.year}"


class IndicatorSnapshot(models.Model):
    """The indicators of the district, one street or one building for a year, as they stood on one day."""

    class Scope(models.TextChoices):
        DISTRICT = "district", _("全区")
        STREET = "street", _("镇街")
        BUILDING = "building", _("楼宇")

    taken_on = models.DateField(_("快照日期"))
    year = models.PositiveSmallIntegerField(_("年度"))
    scope = models.CharField(_("范围"), max_length=10, choices=Scope.choices)
    street = models.ForeignKey(
        "crm.Street",
        verbose_name=_("镇街"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    building = models.ForeignKey(
        "crm.Building",
        verbose_name=_("楼宇"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    values = models.JSONField(_("指标值"), default=dict)
    tax_yuan = models.DecimalField(_("税收(元)"), null=True, blank=True, **MONEY)
    tier = models.CharField(_("税收层级"), max_length=20, choices=TaxTier.choices, blank=True)

    class Meta:
        ordering = ["-taken_on", "scope"]
        verbose_name = _("指标快照")
        verbose_name_plural = pgettext_lazy("plural", "指标快照")
        constraints = [
            models.UniqueConstraint(
                fields=["taken_on", "year"],
                condition=Q(scope="district"),
                name="indicator_snapshot_district_once",
            ),
            models.UniqueConstraint(
                fields=["taken_on", "year", "street"],
                condition=Q(scope="street"),
                name="indicator_snapshot_street_once",
            ),
            models.UniqueConstraint(
                fields=["taken_on", "year", "building"],
                condition=Q(scope="building"),
                name="indicator_snapshot_building_once",
            ),
            models.CheckConstraint(
                condition=Q(scope="district", street__isnull=True, building__isnull=True)
                | Q(scope="street", street__isnull=False, building__isnull=True)
                | Q(scope="building", building__isnull=False),
                name="indicator_snapshot_scope_matches",
            ),
        ]
        indexes = [models.Index(fields=["building", "year", "taken_on"], name="indicator_snapshot_building")]

    def __str__(self) -> str:
        return f"{self.taken_on} {self.year} {self.scope} {self.street_id or self.building_id or ''}"


class WhitePaper(models.Model):
    """The yearly white paper (白皮书): the printable HTML and, where the PDF library runs, the PDF."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("待生成")
        READY = "ready", _("已生成")
        FAILED = "failed", _("生成失败")

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.REQUESTED)
    html = models.TextField(_("HTML"), blank=True)
    pdf = models.BinaryField(_("PDF"), null=True, blank=True)
    pdf_note = models.CharField(_("PDF说明"), max_length=300, blank=True)
    requested_at = models.DateTimeField(_("申请时间"))
    generated_at = models.DateTimeField(_("生成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("年度白皮书")
        verbose_name_plural = pgettext_lazy("plural", "年度白皮书")

    def __str__(self) -> str:
        return f"{self.year} 白皮书"

"""What retention keeps: the versioned move-out models, every active tenancy's latest score, and the
retention visits logged on enterprises."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from crm.models.fields import ReadableDateTimeField, dates_within_years


class RetentionModel(models.Model):
    """One trained version of the move-out model (its numbers as JSON, no pickle) and its evaluation.

    The newest row scores; nightly retraining adds a row only if it evaluates no worse.
    """

    version = models.PositiveIntegerField(_("版本"), unique=True)
    created_at = models.DateTimeField(_("训练时间"))
    trained_until = models.DateField(_("训练数据截止"))
    rows = models.PositiveIntegerField(_("训练样本数"))
    departures = models.PositiveIntegerField(_("迁出样本数"))
    parameters = models.JSONField(_("模型参数"))
    report = models.JSONField(_("评估报告"), null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("迁出风险模型")
        verbose_name_plural = pgettext_lazy("plural", "迁出风险模型")
        constraints = [
            models.CheckConstraint(condition=Q(version__gt=0), name="retention_model_version_positive"),
            models.CheckConstraint(
                condition=Q(departures__lte=models.F("rows")), name="retention_model_departures_within_rows"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.rows} rows, {self.departures} departures)"


class RetentionScore(models.Model):
    """One active tenancy's move-out risk on the day it was scored, by one model version.

    Rewritten whole by each scoring run (workers); the pages read it through the scoping function.
    """

    tenancy = models.OneToOneField(
        "crm.Tenancy", verbose_name=_("租约"), on_delete=models.CASCADE, related_name="retention_score"
    )
    enterprise = models.ForeignKey(
        "crm.Enterprise", verbose_name=_("企业"), on_delete=models.CASCADE, related_name="+"
    )
    building = models.ForeignKey(
        "crm.Building", verbose_name=_("楼宇"), on_delete=models.CASCADE, related_name="retention_scores"
    )
    probability = models.FloatField(_("12个月内迁出概率"))
    tax_last_year_yuan = models.DecimalField(_("近一年税收(元)"), max_digits=16, decimal_places=2)
    expected_tax_at_risk_yuan = models.DecimalField(_("预期流失税收(元)"), max_digits=16, decimal_places=2)
    area_m2 = models.DecimalField(_("面积(㎡)"), max_digits=12, decimal_places=2)
    reasons = models.JSONField(_("主要原因"), default=list, help_text=_("feature names, strongest first"))
    model_version = models.PositiveIntegerField(_("模型版本"))
    data_version = models.BigIntegerField(_("数据版本"))
    scored_on = models.DateField(_("评分日期"))

    class Meta:
        ordering = ["-expected_tax_at_risk_yuan", "tenancy"]
        verbose_name = _("迁出风险")
        verbose_name_plural = pgettext_lazy("plural", "迁出风险")
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=1), name="retention_score_probability_0_1"
            ),
            models.CheckConstraint(
                condition=Q(expected_tax_at_risk_yuan__gte=0), name="retention_score_risk_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["-expected_tax_at_risk_yuan"], name="retention_score_risk"),
            models.Index(fields=["building", "-expected_tax_at_risk_yuan"], name="retention_score_building"),
        ]

    def __str__(self) -> str:
        return f"{self.tenancy_id}: {self.probability:.3f}"


class RetentionVisit(models.Model):
    """One retention visit (稳商走访) to an enterprise of the district: who went, when, what was said."""

    enterprise = models.ForeignKey(
        "crm.Enterprise", verbose_name=_("企业"), on_delete=models.CASCADE, related_name="retention_visits"
    )
    building = models.ForeignKey(
        "crm.Building", verbose_name=_("楼宇"), on_delete=models.PROTECT, related_name="retention_visits"
    )
    occurred_at = ReadableDateTimeField(_("走访时间"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("走访人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="retention_visits",
    )
    probability = models.FloatField(_("走访时迁出概率"), null=True, blank=True)
    notes = models.TextField(_("记录"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("稳商走访")
        verbose_name_plural = pgettext_lazy("plural", "稳商走访")
        constraints = [dates_within_years("retention_visit_dates_within_years", instants=("occurred_at",))]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.occurred_at:%Y-%m-%d}"

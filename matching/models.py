"""What matching keeps in the database: buildings' entry conditions and the versioned trained models."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from policies.conditions import ConditionError, parse_condition
from policies.models import condition_known_values


class EntryRule(models.Model):
    """One building's entry condition (入驻条件): companies it does not take are left out of its matches.

    Written in the policies' condition language, e.g. ``industry_section == "J" and
    expected_annual_tax >= 1000000`` for a finance building that takes finance firms of some size.
    """

    building = models.OneToOneField(
        "crm.Building", verbose_name=_("楼宇"), on_delete=models.CASCADE, related_name="entry_rule"
    )
    condition = models.TextField(
        _("入驻条件"),
        help_text=_('条件表达式,如 industry_section == "J" and area_m2 >= 300 / a policy-style condition'),
    )
    note = models.CharField(_("说明"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["building"]
        verbose_name = _("楼宇入驻条件")
        verbose_name_plural = pgettext_lazy("plural", "楼宇入驻条件")
        constraints = [
            models.CheckConstraint(condition=~Q(condition=""), name="entry_rule_condition_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.building_id}: {self.condition}"

    def clean(self) -> None:
        if not (self.condition or "").strip():
            raise ValidationError({"condition": ["入驻条件不能为空 / the entry condition cannot be blank"]})
        try:
            parse_condition(self.condition, known_values=condition_known_values())
        except ConditionError as error:
            raise ValidationError({"condition": [error.message]}) from None


class RankingModel(models.Model):
    """One trained version of the score's weights, blended with the defaults, and its evaluation report.

    The newest row ranks; version 0 (no row) means the documented default weights.
    """

    version = models.PositiveIntegerField(_("版本"), unique=True)
    created_at = models.DateTimeField(_("训练时间"))
    learned_weights = models.JSONField(_("学习权重"), help_text=_("component -> weight, sum 1"))
    weights = models.JSONField(_("生效权重"), help_text=_("learned blended with the defaults, sum 1"))
    blend_share = models.FloatField(_("学习权重占比"), help_text=_("α = leads / (leads + prior)"))
    leads = models.PositiveIntegerField(_("训练线索数"))
    pairs = models.PositiveIntegerField(_("训练样本对数"))
    trained_until = models.DateField(_("训练数据截止"), null=True, blank=True)
    report = models.JSONField(_("评估报告"), null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("匹配模型")
        verbose_name_plural = pgettext_lazy("plural", "匹配模型")
        constraints = [
            models.CheckConstraint(condition=Q(version__gt=0), name="ranking_model_version_positive"),
            models.CheckConstraint(
                condition=Q(blend_share__gte=0, blend_share__lte=1), name="ranking_model_blend_share_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.leads} leads, α={self.blend_share:.2f})"


class IndustryModel(models.Model):
    """One trained business-scope → industry division classifier (char n-gram TF-IDF + linear model).

    The arrays are stored as an .npz payload and loaded without pickle.
    """

    version = models.PositiveIntegerField(_("版本"), unique=True)
    created_at = models.DateTimeField(_("训练时间"))
    samples = models.PositiveIntegerField(_("训练样本数"))
    classes = models.PositiveIntegerField(_("行业数"))
    accuracy = models.JSONField(_("留出集准确率"), default=dict, blank=True)
    payload = models.BinaryField(_("模型数据"))

    class Meta:
        ordering = ["-version"]
        verbose_name = _("行业推荐模型")
        verbose_name_plural = pgettext_lazy("plural", "行业推荐模型")
        constraints = [
            models.CheckConstraint(condition=Q(version__gt=0), name="industry_model_version_positive"),
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.samples} samples, {self.classes} divisions)"

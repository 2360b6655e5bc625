"""The plan's targets: one value per indicator per milestone year, editable by the district office."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.constants import IndicatorKey


class PlanTarget(models.Model):
    """The target of one plan indicator for one milestone year."""

    key = models.CharField(_("指标"), max_length=40, choices=IndicatorKey.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    milestone = models.PositiveSmallIntegerField(_("阶段"), help_text=_("1, 2 or 3: the plan's column"))
    value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["year", "key"]
        verbose_name = _("规划目标")
        verbose_name_plural = pgettext_lazy("plural", "规划目标")
        constraints = [
            models.UniqueConstraint(fields=["key", "year"], name="plan_target_unique_key_year"),
            models.CheckConstraint(
                condition=models.Q(key__in=IndicatorKey.values), name="plan_target_key_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_key_display()} {self.value}"

"""The national industry classification GB/T 4754-2017, shipped as data."""

from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from crm.constants import IndustryLevel


class Industry(models.Model):
    """One section (A–T), division (01–97), group (3 digits) or class (4 digits) of GB/T 4754-2017."""

    code = models.CharField(_("代码"), max_length=4, primary_key=True)
    level = models.CharField(_("层级"), max_length=10, choices=IndustryLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # The section letter of every row, so that "same section" is one column comparison.
    section = models.CharField(_("门类"), max_length=1, db_index=True)
    name_zh = models.CharField(_("中文名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("行业")
        verbose_name_plural = pgettext_lazy("plural", "行业")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__in=IndustryLevel.values), name="industry_level_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        if (get_language() or "zh").startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

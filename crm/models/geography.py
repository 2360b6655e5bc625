"""Streets (镇街) and business circles (商圈): the middle level of district → street → building."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.constants import StreetKind


class Street(models.Model):
    """One town or subdistrict of the district."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=StreetKind.choices)

    class Meta:
        ordering = ["name"]
        verbose_name = _("镇街")
        verbose_name_plural = pgettext_lazy("plural", "镇街")

    def __str__(self) -> str:
        return self.name


class BusinessCircle(models.Model):
    """One cluster of buildings (CBD, business circle, 集聚区), named in the buildings file."""

    name = models.CharField(_("名称"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("商圈")
        verbose_name_plural = pgettext_lazy("plural", "商圈")

    def __str__(self) -> str:
        return self.name

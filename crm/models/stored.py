"""Results of batch work stored for the pages, and the data versions they were computed from."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InputGroup(models.TextChoices):
    """The inputs a stored result is computed from; each has its own data version."""

    INDICATORS = "indicators", _("指标数据")  # buildings, units, tenancies, enterprises, tax
    MATCHING = "matching", _("匹配数据")  # what ranking reads, the leads, their stage changes


class DataVersion(models.Model):
    """One group of inputs and a counter that every committed write to them advances.

    The counter is advanced by database triggers (migration crm 0010), inside the writing
    transaction, so no write path (services, import, admin, raw SQL, deletes) can skip it and a
    rolled-back write leaves it as it was. Besides the groups, each part of the matching arrays has
    a row "matching_<part>" (crm.data_versions.MATCHING_PARTS, migration crm 0015) that the
    adapter's per-process cache is keyed on.
    """

    name = models.CharField(_("输入"), max_length=20, choices=InputGroup.choices, primary_key=True)
    value = models.BigIntegerField(_("版本"), default=0)

    class Meta:
        verbose_name = _("数据版本")
        verbose_name_plural = pgettext_lazy("plural", "数据版本")

    def __str__(self) -> str:
        return f"{self.name} v{self.value}"


class StoredResult(models.Model):
    """One result of batch work (a kind, and a key within it) as of a data version of its inputs.

    A row with `payload` null is wanted but not computed yet (a page asked for a year nobody had).
    """

    kind = models.CharField(_("类别"), max_length=40)
    key = models.CharField(_("键"), max_length=80)
    group = models.CharField(_("输入"), max_length=20, choices=InputGroup.choices)
    data_version = models.BigIntegerField(_("数据版本"), default=-1)
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    seconds = models.FloatField(_("耗时(秒)"), null=True, blank=True)
    payload = models.JSONField(_("结果"), null=True, blank=True)

    class Meta:
        verbose_name = _("存储结果")
        verbose_name_plural = pgettext_lazy("plural", "存储结果")
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="stored_result_unique_kind_key")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key} v{self.data_version}"

"""Personal information of leads' contact persons (PIPL): who saw or exported it, and its erasures."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccessWay(models.TextChoices):
    API_DETAIL = "api-detail", _("接口:单条线索")
    API_LIST = "api-list", _("接口:线索列表")
    WEB_DETAIL = "web-detail", _("页面:线索详情")
    WEB_EXPORT = "web-export", _("页面:导出线索列表")
    DISTRICT_EXPORT = "district-export", _("导出全区数据")
    ADMIN = "admin", _("管理后台")


class ErasureReason(models.TextChoices):
    REQUEST = "request", _("本人或机构请求删除")
    RETENTION = "retention", _("保存期限届满")


class ContactAccess(models.Model):
    """One time one user saw, unmasked, one lead's contact person (name, phone), and by which way."""

    How = AccessWay

    # Without database foreign keys, as simple-history keeps its history rows: a key's check takes a
    # share lock on the lead's and the user's rows, so every API read that shows a contact would
    # write to them (measured: a fifth of the API's throughput). Only contact_access_record writes
    # here, with ids it has just read; the ORM still cascades (and nulls) on delete. The indexes
    # below lead with each key, so the keys need none of their own.
    lead = models.ForeignKey(
        "crm.Lead",
        verbose_name=_("线索"),
        on_delete=models.CASCADE,
        related_name="contact_accesses",
        db_constraint=False,
        db_index=False,
    )
    # None only for a command-line export, whose operator is named in `note`.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    how = models.CharField(_("方式"), max_length=20, choices=AccessWay.choices)
    at = models.DateTimeField(_("时间"), db_index=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("联系人信息查阅记录")
        verbose_name_plural = pgettext_lazy("plural", "联系人信息查阅记录")
        indexes = [
            models.Index(fields=["lead", "at"], name="contact_access_lead_at"),
            models.Index(fields=["user", "at"], name="contact_access_user_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(how__in=AccessWay.values), name="contact_access_how_known"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.how} {self.lead_id}"


class ContactErasure(models.Model):
    """One erasure of a lead's contact person: who did it, when and why; never what was erased."""

    Reason = ErasureReason

    lead = models.ForeignKey(
        "crm.Lead", verbose_name=_("线索"), on_delete=models.CASCADE, related_name="contact_erasures"
    )
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    erased_at = models.DateTimeField(_("删除时间"), db_index=True)
    reason = models.CharField(_("原因"), max_length=20, choices=ErasureReason.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    history_rows = models.PositiveIntegerField(_("清除的审计记录数"), default=0)
    texts_scrubbed = models.PositiveIntegerField(_("清除的文字记录数"), default=0)

    class Meta:
        ordering = ["-erased_at", "-id"]
        verbose_name = _("联系人信息删除记录")
        verbose_name_plural = pgettext_lazy("plural", "联系人信息删除记录")
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=ErasureReason.values), name="contact_erasure_reason_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.erased_at:%Y-%m-%d %H:%M} {self.lead_id} ({self.reason})"

"""Agencies' webhooks: the URLs that receive their leads' stage changes, and the log of every delivery."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AgencyWebhook(models.Model):
    """One URL of an agency's system that is sent, signed, every stage change of the agency's leads."""

    agency = models.ForeignKey(
        "crm.Agency", verbose_name=_("中介机构"), on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(_("接收地址"), max_length=500)
    # Kept in clear: the HMAC needs it. It is shown to the agency once, when the webhook is registered.
    secret = models.CharField(_("签名密钥"), max_length=100, editable=False)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("机构回调地址")
        verbose_name_plural = pgettext_lazy("plural", "机构回调地址")

    def __str__(self) -> str:
        return f"{self.agency}: {self.url}"


class WebhookDelivery(models.Model):
    """One event sent (or still to be sent) to one webhook: its body, attempts and the last answer."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已送达")
        FAILED = "failed", _("失败")

    webhook = models.ForeignKey(
        AgencyWebhook, verbose_name=_("回调地址"), on_delete=models.CASCADE, related_name="deliveries"
    )
    lead = models.ForeignKey(
        "crm.Lead", verbose_name=_("线索"), on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    event = models.CharField(_("事件"), max_length=50)
    payload = models.JSONField(_("内容"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    # While a worker sends, this holds others off; a worker that died frees the row when it passes.
    locked_until = models.DateTimeField(_("占用至"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    response_code = models.PositiveSmallIntegerField(_("响应状态码"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("回调投递")
        verbose_name_plural = pgettext_lazy("plural", "回调投递")
        indexes = [models.Index(fields=["status", "created_at"], name="webhook_delivery_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"),
                name="webhook_delivery_sent_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk} → {self.webhook_id} ({self.status})"

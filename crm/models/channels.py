"""Where a person or a street office reads its reminders: e-mail or a DingTalk, WeCom or Feishu group
robot, and the outbox of robot messages with each one's delivery state."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class NotificationChannel(models.Model):
    """One person's chosen channel, or one street office's group robot (its escalations, warnings and
    reminder digests). The robot's URL and secret are credentials: never shown back, never logged."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("电子邮件")
        DINGTALK = "dingtalk", _("钉钉(浙政钉)群机器人")
        WECOM = "wecom", _("企业微信群机器人")
        FEISHU = "feishu", _("飞书群机器人")

    class Language(models.TextChoices):
        CHINESE = "zh-hans", "简体中文"
        ENGLISH = "en", "English"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_channel",
    )
    street = models.OneToOneField(
        "crm.Street",
        verbose_name=_("镇街"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_channel",
    )
    kind = models.CharField(_("渠道"), max_length=20, choices=Kind.choices, default=Kind.EMAIL)
    url = models.URLField(_("机器人地址"), max_length=500, blank=True)
    # Kept in clear, as agencies' webhook secrets are: the HMAC needs it, and the project has no key
    # setting to encrypt it with. Write-only in the pages and the admin, and left out of the history.
    secret = models.CharField(_("签名密钥"), max_length=200, blank=True)
    language = models.CharField(
        _("消息语言"), max_length=10, choices=Language.choices, default=Language.CHINESE
    )
    active = models.BooleanField(_("启用"), default=True)
    # Notifications made before this are not sent to the robot: a new channel starts from now.
    since = models.DateTimeField(_("起始时间"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["secret", "url"])

    class Meta:
        ordering = ["street__name", "user__username"]
        verbose_name = _("通知渠道")
        verbose_name_plural = pgettext_lazy("plural", "通知渠道")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, street__isnull=True)
                | Q(user__isnull=True, street__isnull=False),
                name="notification_channel_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["email", "dingtalk", "wecom", "feishu"]),
                name="notification_channel_kind_known",
            ),
            models.CheckConstraint(
                condition=Q(kind="email", url="") | (~Q(kind="email") & ~Q(url="")),
                name="notification_channel_robot_has_url",
            ),
            models.CheckConstraint(
                condition=Q(street__isnull=True) | ~Q(kind="email"),
                name="notification_channel_street_is_robot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.street or self.user}: {self.get_kind_display()}"

    @property
    def is_robot(self) -> bool:
        return self.kind != self.Kind.EMAIL


class ChannelMessage(models.Model):
    """One robot message: the notifications that fell due together, rendered once (a resend after a
    dead worker is the same text), claimed before it is posted and marked after."""

    class State(models.TextChoices):
        READY = "ready", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("失败")

    channel = models.ForeignKey(
        NotificationChannel, verbose_name=_("通知渠道"), on_delete=models.CASCADE, related_name="messages"
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.READY)
    title = models.CharField(_("标题"), max_length=200)
    markdown = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("创建时间"))
    enqueued_at = models.DateTimeField(_("入队时间"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    # After a retryable failure (or the robot's rate limit) not before this.
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    # The platform's errcode/code, or the HTTP status when it gave none; empty when no answer came.
    error_code = models.IntegerField(_("错误码"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("机器人消息")
        verbose_name_plural = pgettext_lazy("plural", "机器人消息")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["ready", "sending", "sent", "failed"]),
                name="channel_message_state_known",
            ),
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False), name="channel_message_sent_has_time"
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="channel_message_state")]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk} {self.state}"


class ChannelMessageItem(models.Model):
    """One notification carried by one robot message; a channel carries each subject once (two
    officers of one street warned of one building are one line in their street's group)."""

    message = models.ForeignKey(
        ChannelMessage, verbose_name=_("机器人消息"), on_delete=models.CASCADE, related_name="items"
    )
    channel = models.ForeignKey(
        NotificationChannel, verbose_name=_("通知渠道"), on_delete=models.CASCADE, related_name="+"
    )
    notification = models.ForeignKey(
        "crm.Notification", verbose_name=_("站内通知"), on_delete=models.CASCADE, related_name="+"
    )
    dedupe_key = models.CharField(_("去重键"), max_length=200)

    class Meta:
        verbose_name = _("机器人消息条目")
        verbose_name_plural = pgettext_lazy("plural", "机器人消息条目")
        constraints = [
            models.UniqueConstraint(fields=["channel", "dedupe_key"], name="channel_item_once_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.dedupe_key}"

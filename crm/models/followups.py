"""Follow-ups that no lead escapes: stage limits, reminders and their digests, notifications, warnings."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.constants import OPEN_STAGES, LeadStage
from crm.models.fields import dates_within_years


class StageLimit(models.Model):
    """How long a lead of one open stage may go without an activity before its owner is reminded."""

    stage = models.CharField(_("阶段"), max_length=20, choices=LeadStage.choices, unique=True)
    days = models.PositiveSmallIntegerField(_("无跟进天数上限"), help_text=_("超过即提醒 / remind after"))
    escalate_after_days = models.PositiveSmallIntegerField(
        _("升级天数"), default=3, help_text=_("提醒后仍无跟进,再过几天报告团队负责人 / escalate after")
    )

    class Meta:
        ordering = ["days"]
        verbose_name = _("阶段跟进时限")
        verbose_name_plural = pgettext_lazy("plural", "阶段跟进时限")
        constraints = [
            models.CheckConstraint(condition=Q(days__gt=0), name="stage_limit_days_positive"),
            models.CheckConstraint(
                condition=Q(escalate_after_days__gt=0), name="stage_limit_escalate_days_positive"
            ),
            models.CheckConstraint(condition=Q(stage__in=sorted(OPEN_STAGES)), name="stage_limit_open_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.days}"

    def clean(self) -> None:
        errors = {}
        if self.days is not None and self.days <= 0:
            errors["days"] = _("天数须大于0 / the limit must be at least one day")
        if self.escalate_after_days is not None and self.escalate_after_days <= 0:
            errors["escalate_after_days"] = _("升级天数须大于0 / escalation needs at least one day")
        if self.stage and self.stage not in OPEN_STAGES:
            errors["stage"] = _("只有进行中的阶段有时限 / only open stages have a limit")
        if errors:
            raise ValidationError(errors)


class ReminderDigest(models.Model):
    """One e-mail to one promoter listing their due reminders; rendered once, so a resend is identical.

    The Message-ID is fixed when the digest is prepared: if a worker dies after the mail server took
    the message but before the digest was marked sent, the resend carries the same Message-ID.
    """

    class State(models.TextChoices):
        READY = "ready", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        NO_ADDRESS = "no_address", _("无邮箱")

    promoter = models.ForeignKey(
        "crm.Promoter", verbose_name=_("招商人员"), on_delete=models.CASCADE, related_name="reminder_digests"
    )
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.READY)
    message_id = models.CharField(_("邮件ID"), max_length=200, unique=True)
    recipient = models.CharField(_("收件人"), max_length=254, blank=True)
    subject = models.CharField(_("主题"), max_length=300)
    body = models.TextField(_("正文"))
    created_at = models.DateTimeField(_("创建时间"))
    enqueued_at = models.DateTimeField(_("入队时间"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("提醒邮件")
        verbose_name_plural = pgettext_lazy("plural", "提醒邮件")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["ready", "sending", "sent", "no_address"]),
                name="reminder_digest_state_known",
            ),
        ]
        indexes = [models.Index(fields=["state", "enqueued_at"], name="reminder_digest_state")]

    def __str__(self) -> str:
        return f"{self.promoter} {self.created_at:%Y-%m-%d %H:%M} {self.state}"


class Reminder(models.Model):
    """One follow-up due on one lead on one date; a second scan, a retry or a redelivery cannot add another.

    pending → queued (put in a digest) → sent (the digest went out); `resolved` when the owner acted
    before the digest was prepared.
    """

    class Reason(models.TextChoices):
        FOLLOW_UP = "follow_up", _("约定跟进日期已到")
        STALE = "stale", _("超过阶段时限未跟进")

    class State(models.TextChoices):
        PENDING = "pending", _("待处理")
        QUEUED = "queued", _("已排入邮件")
        SENT = "sent", _("已发送")
        RESOLVED = "resolved", _("已跟进,无需提醒")

    lead = models.ForeignKey(
        "crm.Lead", verbose_name=_("线索"), on_delete=models.CASCADE, related_name="reminders"
    )
    promoter = models.ForeignKey(
        "crm.Promoter", verbose_name=_("招商人员"), on_delete=models.CASCADE, related_name="reminders"
    )
    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)
    stage = models.CharField(_("阶段"), max_length=20, choices=LeadStage.choices)
    due_on = models.DateField(_("到期日"))
    due_at = models.DateTimeField(_("到期时间"))
    # "Acted on in time" means an activity between due_at and act_by (two days later).
    act_by = models.DateTimeField(_("应跟进截止"))
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.PENDING)
    digest = models.ForeignKey(
        ReminderDigest,
        verbose_name=_("提醒邮件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reminders",
    )
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)

    class Meta:
        ordering = ["-due_at"]
        verbose_name = _("跟进提醒")
        verbose_name_plural = pgettext_lazy("plural", "跟进提醒")
        constraints = [
            models.UniqueConstraint(fields=["lead", "due_on"], name="reminder_one_per_lead_per_day"),
            dates_within_years(
                "reminder_dates_within_years", dates=("due_on",), instants=("due_at", "act_by")
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "queued", "sent", "resolved"]), name="reminder_state_known"
            ),
            models.CheckConstraint(
                condition=Q(act_by__gt=models.F("due_at")), name="reminder_act_by_after_due"
            ),
        ]
        indexes = [
            models.Index(fields=["promoter", "state"], name="reminder_promoter_state"),
            models.Index(fields=["due_at"], name="reminder_due_at"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.due_on} {self.state}"


class Notification(models.Model):
    """One in-app message to one user: a reminder, an escalation, a warning, a hold about to expire."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("跟进提醒")
        ESCALATION = "escalation", _("逾期升级")
        WARNING = "warning", _("预警任务")
        RESERVATION = "reservation", _("预留到期")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=300)
    body = models.TextField(_("内容"), blank=True)
    lead = models.ForeignKey(
        "crm.Lead", verbose_name=_("线索"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reminder = models.ForeignKey(
        Reminder,
        verbose_name=_("提醒"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    # What the notification is about, so a rerun of the job that made it adds nothing.
    dedupe_key = models.CharField(_("去重键"), max_length=200)
    created_at = models.DateTimeField(_("创建时间"))
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("站内通知")
        verbose_name_plural = pgettext_lazy("plural", "站内通知")
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once_per_user_key"),
            models.CheckConstraint(
                condition=Q(kind__in=["reminder", "escalation", "warning", "reservation"]),
                name="notification_kind_known",
            ),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return f"{self.user} {self.title}"


class EarlyWarning(models.Model):
    """A task for a street officer or a promoter: a tier movement, a tenancy ending, a tax fall (迁出预警)."""

    class Kind(models.TextChoices):
        TIER_ENTERED = "tier_entered", _("楼宇进入税收层级")
        TIER_LEFT = "tier_left", _("楼宇跌出税收层级")
        TENANCY_ENDING = "tenancy_ending", _("租约90天内到期")
        TAX_DROP = "tax_drop", _("企业税收同比下降超30%")
        MOVE_OUT_RISK = "move_out_risk", _("高税收企业迁出风险高")

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        DONE = "done", _("已处理")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        on_delete=models.CASCADE,
        related_name="early_warnings",
    )
    building = models.ForeignKey(
        "crm.Building", verbose_name=_("楼宇"), on_delete=models.CASCADE, related_name="early_warnings"
    )
    enterprise = models.ForeignKey(
        "crm.Enterprise",
        verbose_name=_("企业"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="early_warnings",
    )
    title = models.CharField(_("标题"), max_length=300)
    detail = models.TextField(_("说明"), blank=True)
    due_on = models.DateField(_("处理期限"), null=True, blank=True)
    dedupe_key = models.CharField(_("去重键"), max_length=200)
    created_at = models.DateTimeField(_("创建时间"))
    done_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        ordering = ["state", "-created_at"]
        verbose_name = _("预警任务")
        verbose_name_plural = pgettext_lazy("plural", "预警任务")
        constraints = [
            models.UniqueConstraint(
                fields=["assignee", "dedupe_key"], name="early_warning_once_per_assignee"
            ),
            dates_within_years("early_warning_dates_within_years", dates=("due_on",)),
            models.CheckConstraint(
                condition=Q(
                    kind__in=["tier_entered", "tier_left", "tenancy_ending", "tax_drop", "move_out_risk"]
                ),
                name="early_warning_kind_known",
            ),
        ]
        indexes = [models.Index(fields=["assignee", "state"], name="early_warning_assignee_state")]

    def __str__(self) -> str:
        return self.title

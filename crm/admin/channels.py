"""Notification channels in the admin: street offices' robots (and people's choices) with write-only
secrets, and the read-only robot outbox with every failure's platform code."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.admin.base import ReadOnly, ScopedHistoryAdmin, ScopedModelAdmin, ServiceForm, ServiceFormAdmin
from crm.models import ChannelMessage, NotificationChannel
from crm.notifications.platforms import robot_url_masked
from crm.services.channels import channel_delete, channel_set


class ChannelForm(ServiceForm, forms.ModelForm):
    """Sets a channel through crm.services.channels.channel_set (the robot URL's host checks); the
    secret is never shown back, and left empty it stays as it was."""

    url = forms.URLField(label=_("机器人地址"), max_length=500, required=False, assume_scheme="https")
    secret = forms.CharField(
        label=_("签名密钥"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("留空则保持不变 / leave empty to keep the one stored"),
    )
    clear_secret = forms.BooleanField(label=_("清除签名密钥"), required=False)

    class Meta:
        model = NotificationChannel
        fields = ("street", "user", "kind", "url", "secret", "language", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.url:
            # The URL holds the robot's token: shown masked; typing it again is needed to change it.
            self.fields["url"].help_text = _("当前:%(url)s,留空则保持不变 / now %(url)s; empty keeps it") % {
                "url": robot_url_masked(self.instance.url)
            }
            self.initial["url"] = ""

    def run_service(self):
        data = self.cleaned_data
        instance = self.instance
        url = data.get("url") or (instance.url if instance.pk else "")
        secret = "" if data.get("clear_secret") else (data.get("secret") or None)
        return channel_set(
            kind=data["kind"],
            url=url,
            secret=secret,
            language=data["language"],
            active=data.get("active", True),
            user=data.get("user") if instance.pk is None else instance.user,
            street=data.get("street") if instance.pk is None else instance.street,
            by=self.request.user if self.request else None,
        )


@admin.register(NotificationChannel)
class NotificationChannelAdmin(ServiceFormAdmin, ScopedHistoryAdmin):
    form = ChannelForm
    list_display = ("owner", "kind", "address", "secret_state", "language", "active", "since")
    list_filter = ("kind", "active", "language")
    search_fields = ("street__name", "user__username")
    list_select_related = ("street", "user")
    readonly_fields = ("secret_state", "since", "created_at")

    def get_fields(self, request, obj=None):
        fields = ("street", "user", "kind", "url", "secret", "clear_secret", "language", "active")
        return fields if obj is None else (*fields, *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        # A channel stays with its owner; another owner is another channel.
        return self.readonly_fields if obj is None else ("street", "user", *self.readonly_fields)

    @admin.display(description=_("归属"))
    def owner(self, obj) -> str:
        return str(obj.street or obj.user)

    @admin.display(description=_("机器人地址"))
    def address(self, obj) -> str:
        return robot_url_masked(obj.url) if obj.url else "—"

    @admin.display(description=_("签名密钥"))
    def secret_state(self, obj) -> str:
        return _("已设置(不再显示)/ set (never shown)") if obj.secret else _("未设置 / none")

    def delete_model(self, request, obj):
        channel_delete(channel=obj, by=request.user)


@admin.register(ChannelMessage)
class ChannelMessageAdmin(ReadOnly, ScopedModelAdmin):
    """Every robot message, sent or not: written only by the workers, with the platform's error code
    of the last failure (DingTalk/WeCom errcode, Feishu code, or the HTTP status)."""

    list_display = (
        "id",
        "channel",
        "title",
        "state",
        "attempts",
        "error_code",
        "last_error",
        "created_at",
        "sent_at",
    )
    list_filter = ("state", "channel__kind", "error_code")
    search_fields = ("title", "last_error")
    list_select_related = ("channel__street", "channel__user")
    date_hierarchy = "created_at"
    fields = (
        "channel",
        "title",
        "markdown",
        "state",
        "attempts",
        "error_code",
        "last_error",
        "created_at",
        "enqueued_at",
        "claimed_at",
        "next_attempt_at",
        "sent_at",
    )
    readonly_fields = fields

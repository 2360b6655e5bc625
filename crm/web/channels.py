"""The user's notification settings: e-mail or a DingTalk, WeCom or Feishu robot; the secret write-only."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from crm.constants import Role
from crm.models import NotificationChannel
from crm.notifications.platforms import robot_url_masked
from crm.services.channels import channel_set
from crm.web.access import role_of, scoped
from crm.web.forms import add_service_errors


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=_("接收渠道"), choices=NotificationChannel.Kind.choices)
    url = forms.URLField(
        label=_("机器人 Webhook 地址"), max_length=500, required=False, assume_scheme="https"
    )
    secret = forms.CharField(
        label=_("签名密钥"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("钉钉“加签”或飞书“签名校验”的密钥;保存后不再显示,留空则保持不变"),
    )
    clear_secret = forms.BooleanField(label=_("清除已保存的签名密钥"), required=False)
    language = forms.ChoiceField(label=_("消息语言"), choices=NotificationChannel.Language.choices)


@login_required
def notification_settings(request):
    """Choose where reminders reach this user; a robot's URL and secret are never shown back."""
    channel = scoped(request, NotificationChannel).filter(user=request.user).first()
    initial = (
        {"kind": channel.kind, "language": channel.language}
        if channel
        else {"language": request.LANGUAGE_CODE}
    )
    form = ChannelForm(request.POST or None, initial=initial)
    if channel and channel.url:
        form.fields["url"].help_text = _("当前:%(url)s;留空则保持不变") % {
            "url": robot_url_masked(channel.url)
        }
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        url = data["url"] or (channel.url if channel and data["kind"] == channel.kind else "")
        secret = "" if data["clear_secret"] else (data["secret"] or None)
        try:
            channel_set(
                user=request.user,
                kind=data["kind"],
                url=url,
                secret=secret,
                language=data["language"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("通知设置已保存"))
            return redirect("web:notification_settings")
    streets = None
    if role_of(request) == Role.DISTRICT_ADMIN:
        streets = scoped(request, NotificationChannel).filter(street__isnull=False).select_related("street")
    return render(
        request,
        "web/notification_settings.html",
        {
            "form": form,
            "channel": channel,
            "secret_set": bool(channel and channel.secret),
            "street_channels": streets,
        },
    )

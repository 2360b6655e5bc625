"""`manage.py send_test_notification --channel KIND ...`: send one message as the workers send reminders.

The check an administrator runs when setting up a channel (and CI runs against a local receiver):
the same URL checks, signing and payload builder as the workers (crm.services.channels.robot_send),
the platform's answer printed, and a non-zero exit when the platform answers with an error
(errcode != 0 for DingTalk and WeCom, code != 0 for Feishu) or the request fails.
"""

import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from crm.notifications import platforms
from crm.services.channels import channel_url_problem, robot_send
from crm.services.webhook_hosts import HostRefused

TITLE = "楼宇经济招商管理 · 测试通知 / test notification"


class Command(BaseCommand):
    help = "发送一条测试通知 / send one test notification by e-mail or a group robot, as the workers do"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--channel", required=True, choices=[platforms.EMAIL, *platforms.ROBOTS])
        parser.add_argument("--url", default="", help="机器人 Webhook 地址 / the robot's webhook URL")
        parser.add_argument("--secret", default="", help="签名密钥(钉钉、飞书)/ the signing secret")
        parser.add_argument("--to", default="", help="收件地址(邮件)/ the recipient (email)")
        parser.add_argument("--text", required=True, help="消息内容(markdown)/ the message")

    def handle(self, *args, channel: str, url: str, secret: str, to: str, text: str, **options) -> None:
        if channel == platforms.EMAIL:
            self._mail(to, text)
            return
        if not url:
            raise CommandError("--url 必填 / --url is required for a robot")
        problem = channel_url_problem(url)
        if problem:
            raise CommandError(problem)
        try:
            delivery = robot_send(kind=channel, url=url, secret=secret, title=TITLE, markdown=text)
        except HostRefused as refused:
            raise CommandError(str(refused)) from None
        # The platform's answer as it came (the URL is not printed: its token is a credential).
        self.stdout.write(
            f"HTTP {delivery.status}: {delivery.body}" if delivery.status else delivery.answer.message
        )
        if not delivery.answer.ok:
            answer = delivery.answer
            raise CommandError(f"平台拒绝或未应答 / refused or no answer: {answer.code}: {answer.message}")
        self.stdout.write(self.style.SUCCESS("已送达 / accepted"))

    def _mail(self, to: str, text: str) -> None:
        try:
            validate_email(to)
        except ValidationError:
            raise CommandError(f"--to 不是邮件地址 / not an e-mail address: {to!r}") from None
        message = EmailMessage(subject=TITLE, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
        try:
            message.send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as error:
            raise CommandError(f"发送失败 / not sent: {type(error).__name__}: {error}") from None
        self.stdout.write(self.style.SUCCESS(f"已发送 / sent to {to}"))

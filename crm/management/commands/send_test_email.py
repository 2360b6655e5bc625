"""`manage.py send_test_email ADDRESS`: send one message through the configured mail settings.

The check an installer runs after setting EMAIL_* in .env: it either reaches the server and the
message is accepted, or it prints the server's (or the network's) refusal and exits non-zero.
"""

import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.utils import timezone

from config.mail import mail_summary


class Command(BaseCommand):
    help = "发送一封测试邮件,检查邮件设置 / send one test message to ADDRESS with the mail settings"

    def add_arguments(self, parser) -> None:
        parser.add_argument("address", help="收件地址 / the recipient")

    def handle(self, *args, address: str, **options) -> None:
        try:
            validate_email(address)
        except ValidationError:
            raise CommandError(f"不是邮件地址 / not an e-mail address: {address!r}") from None
        if not settings.MAIL_CONFIGURED:
            raise CommandError(f"邮件未配置 / mail is not configured: {mail_summary(settings)}")
        self.stdout.write(f"经 / via: {mail_summary(settings)}")
        message = EmailMessage(
            subject="楼宇经济招商管理 · 测试邮件 / test message",
            body=(
                f"这是一封测试邮件,发送于 {timezone.localtime():%Y-%m-%d %H:%M:%S %Z}。\n"
                "This is a test message from the district CRM: its mail settings work.\n"
            ),
            to=[address],
        )
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as error:  # OSError: refused, DNS, timeout
            # The class says where it failed (refused login, TLS, DNS, timeout); the text says why.
            raise CommandError(f"发送失败 / not sent: {type(error).__name__}: {error}") from None
        self.stdout.write(self.style.SUCCESS(f"已发送 / sent to {address}"))

"""`manage.py bootstrap_admin --username NAME --email ADDRESS`: the district's first administrator.

After the first `docker compose up` nobody can log in (demo_login refuses in production). This makes
one user in the district_admin group, also a superuser so that it can create the other users and
their roles in the admin. The password is asked twice on a terminal, or read from
DJANGO_SUPERUSER_PASSWORD (Django's createsuperuser convention) when there is none, and must pass
the password validators. Run again, it changes nothing but what is missing (group, staff, active),
and never the password unless --reset-password is given.
"""

import getpass
import logging
import os
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from crm.constants import Role

logger = logging.getLogger(__name__)
PASSWORD_VARIABLE = "DJANGO_SUPERUSER_PASSWORD"


class Command(BaseCommand):
    help = "创建首位区管理员(已存在则补齐权限) / create the first district administrator (idempotent)"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", required=True, help="登录名 / the login name")
        parser.add_argument("--email", required=True, help="邮件地址 / for password resets and notices")
        parser.add_argument(
            "--reset-password", action="store_true", help="为已存在的用户设置新密码 / set a new password"
        )

    def handle(self, *args, username: str, email: str, reset_password: bool, **options) -> None:
        username = username.strip()
        if not username:
            raise CommandError("--username: 不能为空 / must not be empty")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"--email: 不是邮件地址 / not an e-mail address: {email!r}") from None
        try:
            group = Group.objects.get(name=Role.DISTRICT_ADMIN)
        except Group.DoesNotExist:
            raise CommandError(
                "角色组不存在,请先迁移 / no role groups: run `manage.py migrate` first"
            ) from None

        User = get_user_model()
        user = User.objects.filter(username=username).first()
        created = user is None
        if created:
            user = User(username=username, email=email)
        password = self._password(user) if created or reset_password else None

        with transaction.atomic():
            changed = []
            if created:
                changed.append("created")
            for flag in ("is_active", "is_staff", "is_superuser"):
                if not getattr(user, flag):
                    setattr(user, flag, True)
                    changed.append(flag)
            if not user.email:
                user.email = email
                changed.append("email")
            if password is not None:
                user.set_password(password)
                changed.append("password")
            user.save()
            if not user.groups.filter(pk=group.pk).exists():
                user.groups.add(group)
                changed.append(Role.DISTRICT_ADMIN)

        if changed:
            logger.info("bootstrap_admin: %s %s", username, ", ".join(changed))
            verb = "已创建 / created" if created else f"已更新 / updated ({', '.join(changed)})"
            self.stdout.write(self.style.SUCCESS(f"{verb}: {username} · {Role.DISTRICT_ADMIN} · superuser"))
        else:
            self.stdout.write(f"无需更改 / already in place: {username} · {Role.DISTRICT_ADMIN} · superuser")

    def _password(self, user) -> str:
        """A password that passes the validators (length, common, numeric, similar to the user)."""
        password = os.environ.get(PASSWORD_VARIABLE)
        if password is None:
            if not sys.stdin.isatty():
                raise CommandError(
                    f"需要密码 / a password is needed: run on a terminal, or set {PASSWORD_VARIABLE}"
                )
            password = getpass.getpass("密码 / password: ")
            if getpass.getpass("再次输入 / again: ") != password:
                raise CommandError("两次输入不一致 / the passwords differ; nothing was changed")
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(
                "密码太弱,未做任何更改 / password refused, nothing was changed: " + " ".join(error.messages)
            ) from None
        return password

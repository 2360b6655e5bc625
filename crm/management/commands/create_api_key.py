"""`manage.py create_api_key --agency NAME`: issue an agency an API key and print it, once."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crm.api.keys import agency_api_key_create, agency_api_key_revoke


class Command(BaseCommand):
    help = (
        "为中介机构签发API密钥(机构不存在则创建),密钥只显示一次 / "
        "issue an API key for an agency (created if unknown); the key is printed once"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--agency", help="机构名称 / the agency's name")
        parser.add_argument("--name", default="", help="密钥名称,如用途 / a name for the key")
        parser.add_argument("--days", type=int, help="有效天数(默认不过期) / days until it expires")
        parser.add_argument(
            "--revoke", metavar="PREFIX", help="吊销该前缀的密钥 / revoke the key with PREFIX"
        )

    def handle(self, *args, **options) -> None:
        if options["revoke"]:
            api_key = self._run(agency_api_key_revoke, prefix=options["revoke"])
            self.stdout.write(f"已吊销 / revoked: {api_key.prefix} ({api_key.agency.name})")
            return
        if not options["agency"]:
            raise CommandError("请用 --agency 指定机构 / name the agency with --agency")
        days = options["days"]
        if days is not None and days <= 0:
            raise CommandError("--days 须为正数 / --days must be positive")
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        api_key, key, created = self._run(
            agency_api_key_create,
            agency_name=options["agency"],
            key_name=options["name"],
            expires_at=expires_at,
        )
        if created:
            self.stderr.write(f"已创建机构 / created agency: {api_key.agency.name}")
        self.stderr.write(
            f"机构 {api_key.agency.name} 的API密钥(前缀 {api_key.prefix}),只显示这一次,请妥善保存 / "
            f"API key of {api_key.agency.name} (prefix {api_key.prefix}); shown only now, keep it safe:"
        )
        # The key alone on stdout, so that scripts can capture it: KEY=$(manage.py create_api_key ...)
        self.stdout.write(key)

    def _run(self, service, **kwargs):
        try:
            return service(**kwargs)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error

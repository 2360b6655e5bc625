"""`manage.py erase_contact LEAD_ID [...]`: erase leads' contact persons everywhere (docs/privacy.md)."""

import getpass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.services.privacy import contact_erase


class Command(BaseCommand):
    help = (
        "删除线索联系人信息(线索、审计历史、跟进记录),保留业务信息 / Erase the contact person of leads "
        "from the lead, its audit history and its notes, keeping the business facts."
    )

    def add_arguments(self, parser):
        parser.add_argument("lead_ids", nargs="+", type=int, metavar="LEAD_ID")
        parser.add_argument("--by", help="执行删除的用户名 / the username doing it (recorded)")
        parser.add_argument("--note", default="", help="原因,如申请编号 / why, e.g. the request's number")

    def handle(self, *args, lead_ids: list[int], by: str | None, note: str, **options):
        user = None
        if by:
            user = get_user_model().objects.filter(username=by).first()
            if user is None:
                raise CommandError(f"没有用户 {by} / no user {by}")
        # With no user, the OS account is recorded as the operator.
        note = (note or f"manage.py erase_contact ({getpass.getuser()})")[:200]
        try:
            outcome = contact_erase(lead_ids=lead_ids, by=user, note=note)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        for lead_id in outcome.erased:
            self.stdout.write(f"{lead_id}: 已删除 / erased")
        for lead_id in outcome.already_clear:
            self.stdout.write(f"{lead_id}: 无联系人信息 / nothing to erase")

"""`manage.py export_district DIR`: write a district's data as the files import_district reads."""

import getpass

from django.core.management.base import BaseCommand

from crm.district_io import district_export


class Command(BaseCommand):
    help = (
        "导出区级数据为二十一个 CSV 文件,账号不含密码 / "
        "Write the district's data as the twenty-one CSV files of import-format.md, logins without passwords."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--bom",
            action="store_true",
            help="start each file with a UTF-8 byte-order mark, so that Excel reads the Chinese text",
        )

    def handle(self, *args, directory: str, bom: bool, **options):
        # The contacts it writes are recorded as exported; with no user, the OS account is the operator.
        note = f"manage.py export_district ({getpass.getuser()})"
        written = district_export(directory=directory, bom=bom, note=note)
        for name, count in written.items():
            self.stdout.write(f"{name}: {count}")

"""`manage.py import_district SOURCE`: load a district's files, all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.district_io import DistrictImportError, district_import


class Command(BaseCommand):
    help = (
        "导入区级数据:目录、CSV 压缩包或 Excel 工作簿(import-format.md 的二十一个文件),全部成功才写入;"
        "新建的账号没有可用密码,须重设 / "
        "Import a district's files (the twenty-one CSV files of import-format.md) from a directory, a .zip "
        "of CSVs or an .xlsx workbook, all or nothing; logins it creates have no usable password until reset."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="directory, .zip or .xlsx")

    def handle(self, *args, source: str, **options):
        path = Path(source)
        if not path.exists():
            raise CommandError(f"找不到 {source} / {source} does not exist")
        try:
            report = district_import(source=path)
        except DistrictImportError as exc:
            for error in exc.row_errors:
                self.stderr.write(str(error))
            n = len(exc.row_errors)
            raise CommandError(f"{n} 处错误,未写入任何数据 / {n} errors, nothing was written") from None
        for line in report.lines():
            self.stdout.write(line)

"""`manage.py import_industries FILE`: load GB/T 4754-2017 groups and classes from a CSV file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.industries import LEVEL_WORDS, LEVELS, IndustryImportError, industries_import_csv


class Command(BaseCommand):
    help = (
        "从 CSV 文件导入国民经济行业分类的中类和小类(列: code, level, parent, name_zh[, name_en]) / "
        "load groups and classes of GB/T 4754-2017 from a CSV file with columns code, level, parent, "
        "name_zh and optionally name_en; all or nothing"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV 文件 / the CSV file")

    def handle(self, *args, file: Path, **options):
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取 {file} / cannot read {file}: {exc.strerror}") from exc
        try:
            result = industries_import_csv(content=content, file=file.name)
        except IndustryImportError as exc:
            count = len(exc.row_errors)
            lines = [*exc.messages, f"{count} 处错误,未写入任何数据 / {count} errors, nothing written"]
            raise CommandError("\n".join(lines)) from exc
        for level in LEVELS:
            self.stdout.write(
                f"{LEVEL_WORDS[level]} {level}: "
                f"新增 / created {result.created[level]}, "
                f"更新 / updated {result.updated[level]}, "
                f"未变 / unchanged {result.unchanged[level]}"
            )

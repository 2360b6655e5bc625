"""`manage.py white_paper --year 2023 [--html FILE] [--pdf FILE]`: generate the yearly white paper now."""

from pathlib import Path

from django.core.management.base import BaseCommand

from crm.services.white_paper import white_paper_generate, white_paper_request


class Command(BaseCommand):
    help = "生成年度白皮书 / generate the yearly white paper"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--html", type=Path, help="也写入此HTML文件 / also write the HTML here")
        parser.add_argument("--pdf", type=Path, help="也写入此PDF文件 / also write the PDF here")

    def handle(self, *args, year: int, html: Path | None, pdf: Path | None, **options) -> None:
        white_paper_request(year=year)
        paper = white_paper_generate(year=year)
        if html:
            html.write_text(paper.html, encoding="utf-8")
        if pdf and paper.pdf:
            pdf.write_bytes(bytes(paper.pdf))
        self.stdout.write(
            f"white paper {year}: html {len(paper.html)} chars, "
            f"pdf {len(paper.pdf) if paper.pdf else 0} bytes {paper.pdf_note}"
        )

"""`manage.py assess --year 2025`: compute and print every street's assessment for a year."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crm.services.assessment import street_assessment_compute
from crm.validators import REPORT_YEAR_MIN, YEAR_MAX
from policies.engine.amounts import yuan_text


class Command(BaseCommand):
    help = "计算镇街考核 / compute the street assessment of a year (default: this year)"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--year", type=int, default=None, help="2025 (default: this year)")

    def handle(self, *args, year: int | None, **options) -> None:
        year = year or timezone.localdate().year
        if not REPORT_YEAR_MIN <= year <= YEAR_MAX:
            raise CommandError(
                f"年份应在 {REPORT_YEAR_MIN}–{YEAR_MAX} 之间 / the year must be {REPORT_YEAR_MIN}–{YEAR_MAX}"
            )
        snapshots = street_assessment_compute(year=year)
        self.stdout.write(f"{year}: {len(snapshots)} streets")
        for s in sorted(snapshots, key=lambda s: (-s.targets_met, s.street.name)):
            growth = "—" if s.tax_growth is None else f"{s.tax_growth}%"
            self.stdout.write(
                f"{s.street.name:<12} targets met={s.targets_met}/{s.targets_set} signings={s.signings} "
                f"area={s.signed_area_m2}㎡ tax={yuan_text(s.tax_yuan)} 元 growth={growth} {s.note}"
            )

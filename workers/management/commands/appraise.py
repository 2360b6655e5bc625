"""`manage.py appraise --period 2024-Q2`: compute and print every promoter's appraisal for a period."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.models import Promoter
from crm.services.appraisal import Period, appraisal_compute
from policies.engine.amounts import yuan_text


class Command(BaseCommand):
    help = "计算招商人员考核 / compute the promoter appraisal (period: 2024, 2024-Q2 or 2024-05)"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--period", required=True, help="2024 | 2024-Q2 | 2024-05")

    def handle(self, *args, period: str, **options) -> None:
        try:
            parsed = Period.parse(period)
            snapshots = appraisal_compute(period_kind=parsed.kind, period_start=parsed.start)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        rows = sorted(snapshots, key=lambda s: (s.rank_district is None, s.rank_district or 0, s.promoter_id))
        self.stdout.write(f"{parsed}: {len(rows)} promoters")
        names = dict(Promoter.objects.values_list("pk", "name"))
        for s in rows:
            score = "-" if s.score is None else s.score
            tax = yuan_text(s.actual_tax_yuan)
            self.stdout.write(
                f"{s.rank_district or '-':>4} {names[s.promoter_id]:<12} score={score} "
                f"signings={s.signings} area={s.signed_area_m2}㎡ actual_tax={tax} 元 "
                f"pipeline={s.pipeline_signings} {s.note}"
            )

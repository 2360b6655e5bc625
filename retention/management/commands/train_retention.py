"""`manage.py train_retention`: evaluate, store a new version of the move-out model, rescore."""

from django.core.management.base import BaseCommand, CommandError

from crm.services.stored_results import retention_recompute
from retention.core.model import NotEnoughOutcomes
from retention.management.commands.evaluate_retention import format_report
from retention.training import retention_train


class Command(BaseCommand):
    help = (
        "训练并存储迁出风险模型(附评估报告),然后为全部在租企业评分 / "
        "train and store the move-out model with its report, then score every active tenancy"
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-score", action="store_true", help="do not rescore the active tenancies")

    def handle(self, *args, **options):
        try:
            model, report = retention_train()
        except NotEnoughOutcomes as error:
            raise CommandError(f"迁出样本不足 / too few outcomes: {error}") from None
        self.stdout.write(format_report(report))
        self.stdout.write(
            self.style.SUCCESS(
                f"迁出风险模型 v{model.version} / move-out model v{model.version}: "
                f"{model.rows} rows, {model.departures} departures"
            )
        )
        if not options["no_score"]:
            timings = retention_recompute()
            self.stdout.write(f"评分 / scored: {timings}")

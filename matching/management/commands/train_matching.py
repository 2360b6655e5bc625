"""`manage.py train_matching`: learn the ranking weights and the industry classifier, store new versions."""

from django.core.management.base import BaseCommand

from matching.industry_suggest import industry_model_train
from matching.management.commands.evaluate_matching import format_report
from matching.training import train_and_store


class Command(BaseCommand):
    help = (
        "从签约与看房结果学习匹配权重,并从企业经营范围训练行业推荐模型 / "
        "learn the ranking weights from outcomes and the industry classifier from business scopes"
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-evaluate", action="store_true", help="skip the time-split evaluation")
        parser.add_argument("--skip-ranking", action="store_true")
        parser.add_argument("--skip-industry", action="store_true")

    def handle(self, *args, **options):
        if not options["skip_ranking"]:
            model, report = train_and_store(evaluate_first=not options["no_evaluate"])
            if report:
                self.stdout.write(format_report(report))
            if model is None:
                self.stdout.write("排序:训练数据不足,沿用默认权重 / ranking: too few outcomes, defaults stay")
            else:
                weights = ", ".join(f"{k} {v:.3f}" for k, v in model.weights.items())
                self.stdout.write(
                    self.style.SUCCESS(
                        f"排序模型 v{model.version} / ranking model v{model.version}: {weights}"
                    )
                )
        if not options["skip_industry"]:
            row = industry_model_train()
            if row is None:
                self.stdout.write(
                    "行业推荐:企业经营范围不足 / industry: too few business scopes to learn from"
                )
            else:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"行业推荐模型 v{row.version}:{row.samples} 条,{row.classes} 个大类,"
                        f"留出集 {row.accuracy} / "
                        f"industry model v{row.version}: {row.samples} samples, {row.classes} divisions"
                    )
                )

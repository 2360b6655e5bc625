"""`manage.py evaluate_retention`: the move-out model against two heuristics on a time split."""

import json

from django.core.management.base import BaseCommand, CommandError

from retention.core.evaluation import LEASE, MODEL, RANKERS, TAX_FELL
from retention.core.model import NotEnoughOutcomes
from retention.training import retention_evaluate

LABELS = {
    MODEL: "模型 / model",
    LEASE: "租约12个月内到期 / lease ends within 12 months",
    TAX_FELL: "税收降幅超30% / tax fell by more than 30%",
}
METRICS = (("auc", "ROC AUC"), ("precision_at_k", "precision@{k}"), ("tax_captured_at_k", "tax captured@{k}"))


def format_report(report: dict) -> str:
    k = report["k"]
    lines = [
        f"测试日 / test days: {', '.join(report['test_days'])}",
        f"测试样本 / test rows: {report['test_rows']}, 迁出 / departures: {report['departures']}, "
        f"区内迁址(不计流失) / relocations (not losses): {report['relocations']}",
        "",
    ]
    for name in RANKERS:
        lines.append(LABELS[name])
        for key, label in METRICS:
            figure = report["rankers"][name][key]
            low, high = figure["interval"]
            lines.append(f"  {label.format(k=k):<18} {figure['value']:.4f}  [{low:.4f}, {high:.4f}]")
    lines.append("")
    for name, gain in report["auc_gain"].items():
        low, high = gain["interval"]
        verdict = "ahead" if low > 0 else "not clearly ahead"
        lines.append(
            f"AUC 增益 / AUC gain over {name}: {gain['value']:+.4f}  [{low:+.4f}, {high:+.4f}]  ({verdict})"
        )
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "按季度快照时间切分评估迁出风险模型,并与两种经验规则比较 / "
        "evaluate the move-out model on quarterly snapshots against two heuristics"
    )

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=None, help="bootstrap rounds (default 500)")
        parser.add_argument("--format", choices=("table", "json"), default="table")

    def handle(self, *args, **options):
        try:
            evaluated = retention_evaluate(rounds=options["rounds"])
        except NotEnoughOutcomes as error:
            raise CommandError(f"迁出样本不足 / too few outcomes: {error}") from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(evaluated.report, indent=2))
        else:
            self.stdout.write(format_report(evaluated.report))

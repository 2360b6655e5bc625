"""`manage.py evaluate_matching`: time-split evaluation of the learned ranking, defaults and baselines."""

import json

from django.core.management.base import BaseCommand

from matching.training import build_dataset, evaluation_report, train_and_store

METRICS = ("ndcg10", "hit5", "hit10", "mrr")


def format_report(report: dict) -> str:
    """The report as a table a district office can read."""
    lines = [f"评估方式 protocol: {report.get('protocol')}"]
    for fold in report.get("folds", []):
        lines.append(
            f"  {fold['start']} – {fold['end'] or '…'}: 训练 train {fold['train_leads']} 线索 leads, "
            f"评估 test {fold['test_leads']} 签约 signings, α={fold['blend_share']:.2f}"
        )
    if report.get("skipped_leads"):
        lines.append(f"跳过(缺少字段)skipped (missing field): {report['skipped_leads']}")
    if not report.get("rankers"):
        lines.append(report.get("note", "没有可评估的线索 / nothing to evaluate"))
        return "\n".join(lines)
    lines.append(
        f"候选楼宇均数 candidates per lead: {report['candidates_mean']:.1f}   "
        f"签约楼宇在候选中 signed building among candidates: {report['signed_among_candidates']:.1%}"
    )
    lines.append(f"{'ranker':<26}" + "".join(f"{m:>9}" for m in ("NDCG@10", "Hit@5", "Hit@10", "MRR")))
    for name, values in sorted(report["rankers"].items(), key=lambda kv: -kv[1]["ndcg10"]):
        lines.append(f"{name:<26}" + "".join(f"{values[m]:>9.4f}" for m in METRICS))
    for name, gain in report.get("gains", {}).items():
        low, high = gain["ci95"]
        lines.append(f"{name}: NDCG@10 {gain['ndcg10_gain']:+.4f}  95% CI [{low:+.4f}, {high:+.4f}]")
    if report.get("blended_weights"):
        weights = ", ".join(f"{k} {v:.3f}" for k, v in report["blended_weights"].items())
        lines.append(f"学习权重(已混合 α={report['blend_share']:.2f})learned weights, blended: {weights}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "按时间切分评估匹配排序(NDCG@10、Hit@5/10、MRR,与默认权重和基线比较),并保存新模型版本及其报告 / "
        "evaluate the ranking on a time split and store the next model version with its report"
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-store", action="store_true", help="evaluate only; store no model")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, **options):
        if options["no_store"]:
            report, _ = evaluation_report(build_dataset())
            model = None
        else:
            model, report = train_and_store(evaluate_first=True)
        if options["format"] == "json":
            self.stdout.write(
                json.dumps({"model_version": model.version if model else None, **report}, indent=2)
            )
            return
        self.stdout.write(format_report(report))
        if model is not None:
            self.stdout.write(
                self.style.SUCCESS(f"已保存模型 v{model.version} / stored model v{model.version}")
            )
        elif not options["no_store"]:
            self.stdout.write("未保存模型:训练数据不足 / no model stored: too few outcomes")

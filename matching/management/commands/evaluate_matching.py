"""`manage.py evaluate_matching`: time-split evaluation of the learned ranking, defaults and baselines."""

import json

from django.core.management.base import BaseCommand

from matching.core.types import DEFAULT_WEIGHTS
from matching.models import RankingModel
from matching.training import build_dataset, evaluation_report, train_and_store

METRICS = ("ndcg10", "hit5", "hit10", "mrr", "coverage")
HEADERS = ("NDCG@10", "Hit@5", "Hit@10", "MRR", "coverage")


def format_audit(audit: dict) -> list[str]:
    """The filter audit: what each hard filter (and each former one) would have removed."""
    lines = [
        f"硬性条件审计 filter audit (决策日 on the decision day; {audit['signed']} 签约楼宇 signed, "
        f"{audit['toured']} 看房未签 toured buildings):",
        f"  {'filter':<22}{'kept':>6}{'signed removed':>18}{'toured removed':>18}",
    ]
    for name, row in audit["filters"].items():
        kept = "yes" if row["kept"] else "no"
        flag = "" if row["within_limit"] or not row["kept"] else "  > 2% !"
        lines.append(
            f"  {name:<22}{kept:>6}{row['signed_removed']:>7} ({row['signed_removed_share']:>6.1%})"
            f"{row['toured_removed']:>9} ({row['toured_removed_share']:>6.1%}){flag}"
        )
    cutoff = audit.get("budget_cutoff")
    learned = "none (too few signings)" if cutoff is None else f"{cutoff:.3f} × budget"
    lines.append(f"  学习的预算上限 learned budget cut-off (p99 of signed rent / budget): {learned}")
    ratio = audit.get("rent_to_budget") or {}
    if ratio.get("percentiles"):
        cuts = ", ".join(f"{k} {v:.3f}" for k, v in ratio["percentiles"].items())
        lines.append(
            f"  签约租金(扣补贴)/预算 signed rent after relief / budget: {cuts}; "
            f"超预算 above budget {ratio['above_budget_share']:.1%} of {ratio['signed_with_budget']}"
        )
    return lines


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
    if report.get("filter_audit"):
        lines.extend(format_audit(report["filter_audit"]))
    if not report.get("rankers"):
        lines.append(report.get("note", "没有可评估的线索 / nothing to evaluate"))
        return "\n".join(lines)
    lines.append(
        f"候选楼宇均数 candidates per lead: {report['candidates_mean']:.1f} (产品 product), "
        f"{report.get('pool_mean', 0.0):.1f} (基线:面积范围内有空置的在用楼宇 baselines: every in-service "
        "building with a vacancy in the range)"
    )
    lines.append(
        f"覆盖率 coverage (签约楼宇被列出 signed building listed): 产品 product "
        f"{report['signed_among_candidates']:.1%}, 基线 baselines {report.get('signed_in_pool', 0.0):.1%}"
    )
    lines.append("各指标 95% 区间 each figure with its 95% bootstrap interval; a missed signing scores 0")
    lines.append(f"{'ranker':<26}" + "".join(f"{m:>22}" for m in HEADERS))
    intervals = report.get("intervals", {})
    for name, values in sorted(report["rankers"].items(), key=lambda kv: -kv[1]["ndcg10"]):
        cells = []
        for m in METRICS:
            low, high = intervals.get(name, {}).get(m, (values[m], values[m]))
            cells.append(f"{values[m]:.3f} [{low:.3f},{high:.3f}]".rjust(22))
        lines.append(f"{name:<26}" + "".join(cells))
    for name, gain in report.get("gains", {}).items():
        low, high = gain["ci95"]
        lines.append(f"{name}: NDCG@10 {gain['ndcg10_gain']:+.4f}  95% CI [{low:+.4f}, {high:+.4f}]")
    if report.get("boosted_vs_learned"):
        b = report["boosted_vs_learned"]
        verdict = "boosted ranks better" if b["boosted_wins"] else "the linear ranker stays"
        lines.append(
            f"boosted_vs_learned: NDCG@10 {b['ndcg10_gain']:+.4f}  95% CI [{b['ci95'][0]:+.4f}, "
            f"{b['ci95'][1]:+.4f}]: {verdict}"
        )
    # The last block's blended weights are not printed: they are an evaluation fold's, not what
    # ranks; the command prints the stored model's (ranking_model_lines).
    return "\n".join(lines)


def ranking_model_lines(model: RankingModel | None) -> list[str]:
    """What ranks now: the stored model's version, blend share and weights, or the defaults."""
    if model is None:
        weights = ", ".join(f"{k} {v:.3f}" for k, v in sorted(DEFAULT_WEIGHTS.items()))
        return [f"排序使用默认权重(未保存模型)ranking with the default weights (no stored model): {weights}"]
    # By name: JSONB keeps no key order, and a reader compares runs line by line.
    weights = ", ".join(f"{k} {v:.3f}" for k, v in sorted(model.weights.items()))
    return [
        f"排序模型 v{model.version}(α={model.blend_share:.2f},{model.leads} 线索 leads)"
        f"ranking model v{model.version} weights: {weights}"
    ]


class Command(BaseCommand):
    help = (
        "按时间切分评估匹配排序(NDCG@10、Hit@5/10、MRR,与默认权重和基线比较),打印当前排序模型的权重;"
        "--store 另行训练并保存新模型版本及其报告 / evaluate the ranking on a time split and print the "
        "stored model's weights; with --store also train and store the next model version"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--store",
            action="store_true",
            help="also fit on every outcome and store the next model version with this report",
        )
        parser.add_argument("--format", choices=["table", "json"], default="table")
        parser.add_argument(
            "--compare-boosted",
            action="store_true",
            help="also evaluate a gradient-boosted ranker under the same time split (not used to rank)",
        )

    def handle(self, *args, **options):
        stored = None
        if options["store"]:
            stored, report = train_and_store(evaluate_first=True, compare_boosted=options["compare_boosted"])
        else:
            report, _ = evaluation_report(build_dataset(), compare_boosted=options["compare_boosted"])
        # What ranks after this run: the model just stored, else the newest one stored before.
        model = stored or RankingModel.objects.order_by("-version").first()
        if options["format"] == "json":
            payload = {
                "stored_version": stored.version if stored else None,
                "model_version": model.version if model else None,
                "model_weights": model.weights if model else dict(DEFAULT_WEIGHTS),
                **report,
            }
            self.stdout.write(json.dumps(payload, indent=2))
            return
        self.stdout.write(format_report(report))
        for line in ranking_model_lines(model):
            self.stdout.write(line)
        if stored is not None:
            self.stdout.write(
                self.style.SUCCESS(f"已保存模型 v{stored.version} / stored model v{stored.version}")
            )
        elif options["store"]:
            self.stdout.write("未保存模型:训练数据不足 / no model stored: too few outcomes")
        else:
            self.stdout.write("未保存新模型(保存请加 --store)/ nothing stored (add --store to store a model)")

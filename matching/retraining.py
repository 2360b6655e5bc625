"""Nightly retraining: only when outcomes changed, and never replacing a model with a worse one."""

from django.db.models import Count, Max

from crm.constants import ActivityKind
from crm.models import Activity, Enterprise, Signing
from matching.core.evaluation import evaluate, weighted
from matching.core.types import weight_vector
from matching.industry_suggest import industry_model_train
from matching.models import IndustryModel, RankingModel
from matching.training import build_dataset, evaluation_report, time_folds, train_and_store

KEPT, TRAINED, UNCHANGED = "kept_previous", "trained", "unchanged"


def _stamp(queryset) -> list[int]:
    # Count and highest id move on every insert or delete of an outcome: a cheap change detector.
    row = queryset.aggregate(n=Count("pk"), top=Max("pk"))
    return [row["n"], row["top"] or 0]


def ranking_outcome_stamp() -> list[int]:
    return _stamp(Signing.objects.all()) + _stamp(Activity.objects.filter(kind=ActivityKind.SITE_TOUR))


def ranking_retrain_if_changed() -> str:
    """Retrain the ranking weights when signings or site tours changed since the last version.

    The candidate is judged on the same time-split test leads as the weights in use: the rolling-origin
    model's NDCG@10 against the current version's fixed weights. Worse: the current version stays.
    """
    stamp = ranking_outcome_stamp()
    current = RankingModel.objects.order_by("-version").first()
    if current is not None and (current.report or {}).get("outcome_stamp") == stamp:
        return UNCHANGED
    data = build_dataset()
    report, _ = evaluation_report(data)
    if current is not None and "rankers" in report:
        test = [data.cases[i] for fold in time_folds(data) for i in fold.test]
        in_use = evaluate(test, {"current": weighted(weight_vector(current.weights))}, compare="current")
        candidate_ndcg = report["rankers"]["learned"]["ndcg10"]
        current_ndcg = in_use["rankers"]["current"]["ndcg10"]
        if candidate_ndcg < current_ndcg:
            current.report = {**(current.report or {}), "outcome_stamp": stamp, "kept_over": candidate_ndcg}
            current.save(update_fields=["report"])
            return KEPT
    model, _ = train_and_store(evaluate_first=False)
    if model is None:
        return UNCHANGED
    model.report = {
        **report,
        "budget_cutoff": (model.report or {}).get("budget_cutoff"),
        "outcome_stamp": stamp,
    }
    model.save(update_fields=["report"])
    return TRAINED


def industry_retrain_if_changed() -> str:
    """Retrain the industry classifier when enterprises changed; keep the old one if its top-1 was better."""
    stamp = _stamp(Enterprise.objects.exclude(business_scope="").exclude(industry__isnull=True))
    current = IndustryModel.objects.order_by("-version").first()
    if current is not None and current.accuracy.get("stamp") == stamp:
        return UNCHANGED
    candidate = industry_model_train()
    if candidate is None:
        return UNCHANGED
    old, new = (current.accuracy.get("top1") if current else None), candidate.accuracy.get("top1")
    if old is not None and new is not None and new < old:
        candidate.delete()
        current.accuracy = {**current.accuracy, "stamp": stamp}
        current.save(update_fields=["accuracy"])
        return KEPT
    candidate.accuracy = {**candidate.accuracy, "stamp": stamp}
    candidate.save(update_fields=["accuracy"])
    return TRAINED

"""Learning the weights from the district's outcomes, and the offline evaluation that justifies them.

Outcomes are read from the CRM: a signing grades its building 2, a site tour that did not end in a
signing there grades 1, every other candidate of the lead's ranking 0. Each lead's candidates are
rebuilt as of the day before its decision (its signing, or its last site tour), from the tenancy
periods, so a lead is ranked against the market it actually saw.

The evaluation is a time split with a rolling origin: the signings are ordered by date; the first
FIRST_TRAIN_SHARE of them only ever train, and the rest fall into FOLDS consecutive blocks. For each
block, a model is fitted on the leads decided before the block starts and tested on the block's
signed leads, so no lead is on both sides of a split and every test lead is ranked by a model that
knew only the past. Metrics are per lead, pooled over the blocks, with a bootstrap interval.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from crm.constants import ActivityKind
from crm.models import Activity, Lead, Signing, TaxRecord
from matching import adapter
from matching.core.audit import audit_report, constraints_failed, in_range_pool, learned_budget_cutoff
from matching.core.boosted import fit_boosted
from matching.core.evaluation import BASELINES, Case, Pool, evaluate, weighted
from matching.core.features import strengthens_main
from matching.core.incentives import PolicyIncentives
from matching.core.learn import (
    GRADE_SIGNED,
    GRADE_TOURED,
    Outcome,
    blend,
    blend_share,
    fit_weights,
)
from matching.core.rank import rank_buildings
from matching.core.relatedness import relatedness
from matching.core.snapshot import snapshot, tenant_counts
from matching.core.types import DEFAULT_WEIGHTS, MatchingInputError, named_weights, weight_vector
from matching.models import RankingModel

FIRST_TRAIN_SHARE = 0.4  # the earliest 40 % of the signings only ever train
FOLDS = 3  # the other 60 % are tested in three consecutive blocks


@dataclass(frozen=True)
class LeadOutcome:
    lead_id: int
    decided_on: dt.date
    signed_building: int | None  # building id
    toured: frozenset[int]  # building ids


@dataclass
class Dataset:
    """Every lead with an outcome, ranked as of its day: cases for evaluation, outcomes for learning."""

    cases: list[Case] = field(default_factory=list)
    decided_on: list[dt.date] = field(default_factory=list)
    signed: list[bool] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    boundaries: list[dt.date] = field(default_factory=list)  # first day of each test block
    # The filter audit: per signed and per toured (not signed) building, the constraints that removed
    # it on the decision day; the signed offers' rent after relief / budget.
    audit_signed: list[dict[str, bool]] = field(default_factory=list)
    audit_toured: list[dict[str, bool]] = field(default_factory=list)
    rent_to_budget: list[float] = field(default_factory=list)
    toured_rent_to_budget: list[float] = field(default_factory=list)

    def outcomes(self, rows: list[int]) -> list[Outcome]:
        return [Outcome(self.cases[i].features, self.cases[i].grades) for i in rows]


def lead_outcomes() -> list[LeadOutcome]:
    """Every lead that signed or toured, with its decision day (2 queries)."""
    signed: dict[int, tuple[dt.date, int]] = {}
    for lead_id, building_id, day in Signing.objects.order_by("signed_on", "pk").values_list(
        "lead_id", "building_id", "signed_on"
    ):
        signed.setdefault(lead_id, (day, building_id))
    tours: dict[int, set[int]] = defaultdict(set)
    last_tour: dict[int, dt.date] = {}
    for lead_id, building_id, at in Activity.objects.filter(kind=ActivityKind.SITE_TOUR).values_list(
        "lead_id", "building_id", "occurred_at"
    ):
        tours[lead_id].add(building_id)
        day = timezone.localtime(at).date() if timezone.is_aware(at) else at.date()
        last_tour[lead_id] = max(day, last_tour.get(lead_id, day))
    result = []
    for lead_id in sorted(set(signed) | set(tours)):
        if lead_id in signed:
            day, building = signed[lead_id]
        else:
            day, building = last_tour[lead_id], None
        result.append(LeadOutcome(lead_id, day, building, frozenset(tours.get(lead_id, ()))))
    return result


def block_starts(
    days: list[dt.date], *, folds: int = FOLDS, first: float = FIRST_TRAIN_SHARE
) -> list[dt.date]:
    """The first day of each test block: the signings after the first `first` share, in `folds` parts."""
    days = sorted(days)
    if not days:
        return []
    starts = []
    for k in range(folds):
        index = int(np.floor(len(days) * (first + k * (1 - first) / folds)))
        starts.append(days[min(index, len(days) - 1)])
    return sorted(set(starts))


def build_dataset(*, folds: int = FOLDS, first: float = FIRST_TRAIN_SHARE) -> Dataset:
    """Rank every lead with an outcome as of its day and grade its candidates."""
    outcomes = lead_outcomes()
    data = Dataset()
    if not outcomes:
        return data
    s = adapter.loaded()
    industries, buildings = s.industries, s.buildings
    links = adapter.load_links(s.units)
    signed_days = [o.decided_on for o in outcomes if o.signed_building is not None]
    data.boundaries = block_starts(signed_days or [o.decided_on for o in outcomes], folds=folds, first=first)
    cut = data.boundaries[0]
    n_b, n_div = len(buildings.rows), len(industries.divisions)
    _, counts = tenant_counts(s.tenancies, cut.toordinal(), n_b, n_div)
    # Industries' relatedness as known when the first test block starts: nothing tested leaks into it.
    related = relatedness(counts, industries.division_section)
    years = set(TaxRecord.objects.values_list("year", flat=True).distinct())
    tax_cache: dict[int | None, adapter.TaxFigures] = {}
    leads = {
        lead.pk: lead
        for lead in Lead.objects.filter(pk__in=[o.lead_id for o in outcomes]).prefetch_related(
            "preferred_streets"
        )
    }
    weights = weight_vector(DEFAULT_WEIGHTS)
    tolerance = adapter.tolerance_setting()
    by_day: dict[dt.date, list[LeadOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_day[outcome.decided_on - dt.timedelta(days=1)].append(outcome)
    for day in sorted(by_day):
        year = max((y for y in years if y < day.year), default=None)
        if year not in tax_cache:
            tax_cache[year] = adapter.load_tax(buildings, year)
        tax = tax_cache[year]
        snap = snapshot(
            on=day,
            industries=industries,
            buildings=adapter.building_table(buildings, industries, day),
            units=s.units.table,
            tenancies=s.tenancies,
            tax_per_m2=tax.tax_per_m2,
            shortfall=tax.shortfall,
            next_tier=tax.next_tier,
            entry=s.entry,
            links=links,
            related=related,
        )
        incentives = PolicyIncentives(s.book, snap.buildings)
        index_of = {int(building_id): row for row, building_id in enumerate(snap.buildings.id.tolist())}
        for outcome in by_day[day]:
            lead = leads[outcome.lead_id]
            try:
                query = adapter.query_for_lead(
                    lead, industries, preferred=[street.pk for street in lead.preferred_streets.all()]
                )
            except MatchingInputError as error:
                data.skipped[error.field] = data.skipped.get(error.field, 0) + 1
                continue
            scores = rank_buildings(snap, query, weights=weights, incentives=incentives, tolerance=tolerance)
            ids = snap.buildings.id[scores.order]
            grade_of = {building_id: GRADE_TOURED for building_id in outcome.toured}
            if outcome.signed_building is not None:
                grade_of[outcome.signed_building] = GRADE_SIGNED
            graded = np.array(sorted(grade_of), dtype=np.int64)
            graded_rows = np.array([index_of[i] for i in graded.tolist()], dtype=np.int64)
            failed, ratio = constraints_failed(snap, scores, graded_rows, tolerance=tolerance)
            for k, building_id in enumerate(graded.tolist()):
                flags = {name: bool(values[k]) for name, values in failed.items()}
                if grade_of[building_id] == GRADE_SIGNED:
                    data.audit_signed.append(flags)
                    data.rent_to_budget.append(float(ratio[k]))
                else:
                    data.audit_toured.append(flags)
                    data.toured_rent_to_budget.append(float(ratio[k]))
            grades = _grades(ids, grade_of)
            b = snap.buildings
            main_match = strengthens_main(
                lead_division=query.division,
                lead_section=query.section,
                main_kind=b.main_kind[scores.order],
                main_index=b.main_index[scores.order],
            )
            pool = in_range_pool(snap, query)
            pool_main = strengthens_main(
                lead_division=query.division,
                lead_section=query.section,
                main_kind=b.main_kind[pool.rows],
                main_index=b.main_index[pool.rows],
            )
            data.cases.append(
                Case(
                    lead_id=outcome.lead_id,
                    building_ids=ids,
                    features=scores.features,
                    rent=snap.offers.rent[scores.offer[scores.order]],
                    main_match=np.asarray(main_match, dtype=bool),
                    grades=grades,
                    label_grades=np.array(list(grade_of.values()), dtype=np.int64),
                    seed=outcome.lead_id,
                    pool=Pool(
                        building_ids=b.id[pool.rows],
                        rent=pool.rent,
                        main_match=np.asarray(pool_main, dtype=bool),
                        grades=_grades(b.id[pool.rows], grade_of),
                    ),
                )
            )
            data.decided_on.append(outcome.decided_on)
            data.signed.append(outcome.signed_building is not None)
    return data


def _grades(building_ids: np.ndarray, grade_of: dict[int, int]) -> np.ndarray:
    grades = np.zeros(building_ids.size, dtype=np.int64)
    for building_id, grade in grade_of.items():  # a lead's one signing and few tours
        grades[building_ids == building_id] = grade
    return grades


@dataclass(frozen=True)
class Fold:
    start: dt.date
    end: dt.date | None
    train: list[int]
    test: list[int]


def time_folds(data: Dataset) -> list[Fold]:
    """Per test block: the leads decided before it (train) and its signed leads (test)."""
    result = []
    for k, start in enumerate(data.boundaries):
        end = data.boundaries[k + 1] if k + 1 < len(data.boundaries) else None
        train = [i for i, day in enumerate(data.decided_on) if day < start]
        test = [
            i
            for i, day in enumerate(data.decided_on)
            if data.signed[i] and day >= start and (end is None or day < end)
        ]
        result.append(Fold(start, end, train, test))
    return result


def evaluation_report(data: Dataset, *, compare_boosted: bool = False) -> tuple[dict, list[Fold]]:
    """Each block's model, fitted on the past, against the defaults and baselines on the block's signings
    (and, asked for, a gradient-boosted ranker fitted on the same past)."""
    default = weight_vector(DEFAULT_WEIGHTS)
    folds = time_folds(data)
    report: dict = {
        "protocol": f"rolling origin: first {FIRST_TRAIN_SHARE:.0%} of signings train, {FOLDS} blocks test",
        "skipped_leads": dict(data.skipped),
        "filter_audit": audit_report(
            data.audit_signed, data.audit_toured, data.rent_to_budget, data.toured_rent_to_budget
        ),
        "default_weights": named_weights(default),
        "folds": [],
    }
    blended_of: dict[int, np.ndarray] = {}
    learned_of: dict[int, np.ndarray] = {}
    boosted_of: dict[int, Any] = {}
    last = None
    for fold in folds:
        learned = fit_weights(data.outcomes(fold.train))
        if compare_boosted:
            boosted = fit_boosted(data.outcomes(fold.train))
            for i in fold.test:
                boosted_of[data.cases[i].lead_id] = boosted
        # Where the past is too thin to learn from, production would still rank with the defaults.
        raw = default if learned is None else learned.weights
        mixed = default if learned is None else blend(learned.weights, default, learned.leads)
        for i in fold.test:
            blended_of[data.cases[i].lead_id], learned_of[data.cases[i].lead_id] = mixed, raw
        report["folds"].append(
            {
                "start": fold.start.isoformat(),
                "end": fold.end.isoformat() if fold.end else None,
                "train_leads": len(fold.train),
                "test_leads": len(fold.test),
                "learned_from_leads": 0 if learned is None else learned.leads,
                "blend_share": 0.0 if learned is None else round(blend_share(learned.leads), 6),
            }
        )
        last = (learned, mixed) if learned is not None else last
    test = [i for fold in folds for i in fold.test]
    report["train_leads"] = len(folds[0].train) if folds else 0
    report["test_leads"] = len(test)
    if last is None:
        report["note"] = "训练数据不足,沿用默认权重 / too few outcomes to learn from; the defaults stay"
        return report, folds

    def per_lead(weights_of: dict[int, np.ndarray]):
        return lambda case: weighted(weights_of[case.lead_id])(case)

    rankers = {
        "learned": per_lead(blended_of),
        "learned_unblended": per_lead(learned_of),
        "default": weighted(default),
        **BASELINES,
    }
    if compare_boosted and all(model is not None for model in boosted_of.values()):
        rankers["boosted"] = lambda case: _by_boosted(boosted_of[case.lead_id], case)
    report.update(evaluate([data.cases[i] for i in test], rankers, compare="learned"))
    if "learned_vs_boosted" in report["gains"]:
        gain = report["gains"]["learned_vs_boosted"]
        low, high = gain["ci95"]
        # Production switches only on a gain whose interval is above zero (it has not: see docs).
        report["boosted_vs_learned"] = {
            "ndcg10_gain": -gain["ndcg10_gain"],
            "ci95": [-high, -low],
            "boosted_wins": -high > 0,
        }
    learned, mixed = last
    report["learned_weights"] = named_weights(learned.weights)
    report["blended_weights"] = named_weights(mixed)
    report["blend_share"] = round(blend_share(learned.leads), 6)
    return report, folds


def _by_boosted(model: Any, case: Case) -> np.ndarray:
    if case.features.shape[0] == 0:
        return case.grades
    return case.grades[np.lexsort((case.building_ids, -model.predict(case.features)))]


def _json_cutoff(cutoff: float) -> float | None:
    return None if not np.isfinite(cutoff) else round(cutoff, 6)


def train_and_store(
    *, evaluate_first: bool = True, compare_boosted: bool = False
) -> tuple[RankingModel | None, dict]:
    """Evaluate (time split), then fit on every outcome and store the next model version with the report."""
    data = build_dataset()
    report: dict = {}
    if evaluate_first:
        report, _ = evaluation_report(data, compare_boosted=compare_boosted)
    learned = fit_weights(data.outcomes(list(range(len(data.cases)))))
    if learned is None:
        return None, report
    default = weight_vector(DEFAULT_WEIGHTS)
    blended = blend(learned.weights, default, learned.leads)
    with transaction.atomic():
        version = (RankingModel.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0) + 1
        model = RankingModel(
            version=version,
            created_at=timezone.now(),
            learned_weights=named_weights(learned.weights),
            weights=named_weights(blended),
            blend_share=round(blend_share(learned.leads), 6),
            leads=learned.leads,
            pairs=learned.pairs,
            trained_until=max(data.decided_on) if data.decided_on else None,
            # The budget cut-off ranks with these weights (adapter.load_model); JSON has no infinity.
            report={**report, "budget_cutoff": _json_cutoff(learned_budget_cutoff(data.rent_to_budget))},
        )
        model.full_clean()
        model.save()
    return model, report

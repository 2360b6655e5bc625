"""Learning from outcomes on a synthetic district whose companies follow a taste the defaults do not know.

The district's leads choose as the test itself decides, without the ranking code: a firm likes a
building whose tenants share its division, a good star rating and a low rent, a little its
designated main industry. The time-split evaluation (rolling origin) must show the learned weights
ahead of the defaults and of every baseline, and store the report with the new model version.
"""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.core.management import call_command

from crm.constants import ActivityKind, LeadStage
from crm.services.activities import activity_log
from crm.services.signings import signing_complete
from crm.services.tenancies import tenancy_end
from matching import adapter
from matching.core.types import score_scale, weight_vector
from matching.models import RankingModel
from matching.training import build_dataset, evaluation_report, lead_outcomes
from tests.factories import (
    BuildingFactory,
    EnterpriseFactory,
    LeadFactory,
    StreetFactory,
    TenancyFactory,
    UnitFactory,
    industry,
    make_credit_code,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

DIVISIONS = ("72", "65", "51", "67", "70")
START = dt.date(2022, 1, 1)
LEASE_DAYS = 240


def build_synthetic_district(leads: int = 170, seed: int = 7) -> None:
    rng = random.Random(seed)
    streets = [StreetFactory(name="东街"), StreetFactory(name="西街")]
    buildings = []
    for i in range(12):
        main = rng.choice(DIVISIONS + (None,))
        building = BuildingFactory(
            name=f"测试楼{i}",
            street=streets[i % 2],
            main_industry=industry(main) if main else None,
            star_rating=rng.randint(0, 5),
            in_service_since=dt.date(2015, 1, 1),
        )
        rent = round(rng.uniform(1.8, 3.2), 2)
        units = [
            UnitFactory(
                building=building,
                floor=1 + k // 4,
                number=f"{1 + k // 4}{k % 4:02d}",
                area_m2=Decimal(rng.choice((120, 160, 200, 240, 300))),
                asking_rent=Decimal(str(rent)),
            )
            for k in range(24)
        ]
        # Tenants cluster: most share one division, which is not always the designated one.
        cluster = rng.choice(DIVISIONS)
        share = {}
        for _ in range(8):
            division = cluster if rng.random() < 0.75 else rng.choice(DIVISIONS)
            share[division] = share.get(division, 0) + 1
            TenancyFactory(
                enterprise=EnterpriseFactory(industry=industry(division)),
                building=building,
                area_m2=Decimal("100"),
                start=dt.date(2018, 1, 1),
            )
        buildings.append({"row": building, "rent": rent, "units": units, "share": share, "main": main})
    busy: dict[int, dt.date] = {}  # unit id -> first free day
    for n in range(leads):
        division = rng.choice(DIVISIONS)
        low = rng.choice((100, 140, 180, 220))
        decided = START + dt.timedelta(days=int(n * 730 / leads))
        lead = LeadFactory(
            industry=industry(division),
            area_min_m2=low,
            area_max_m2=low + 120,
            budget_rent=Decimal("3.50"),
            stage=LeadStage.NEGOTIATING,
            credit_code=make_credit_code(50_000 + n),
        )
        middle = low + 60
        options = []
        for b in buildings:
            free = [
                u for u in b["units"] if low <= u.area_m2 <= low + 120 and busy.get(u.pk, START) <= decided
            ]
            if not free:
                continue
            unit = min(free, key=lambda u: (abs(float(u.area_m2) - middle), u.pk))
            tenants = b["share"].get(division, 0) / 8
            taste = (
                2.5 * tenants
                + 0.5 * (b["main"] == division)
                + 0.35 * b["row"].star_rating
                - 1.5 * b["rent"]
                + rng.gauss(0, 0.25)
            )
            options.append((taste, b, unit))
        if len(options) < 4:
            continue
        options.sort(key=lambda o: -o[0])
        for k, (_, b, _) in enumerate(options[:3]):
            activity_log(
                lead=lead,
                kind=ActivityKind.SITE_TOUR,
                building=b["row"],
                occurred_at=dt.datetime.combine(decided - dt.timedelta(days=10 - k), dt.time(10), dt.UTC),
            )
        _, chosen, unit = options[0]
        signing = signing_complete(lead=lead, building=chosen["row"], units=[unit], signed_on=decided)
        # The firm moves out after a while (long before today), so the unit is let again later.
        tenancy_end(tenancy=signing.tenancy, end=decided + dt.timedelta(days=LEASE_DAYS))
        busy[unit.pk] = decided + dt.timedelta(days=LEASE_DAYS + 1)


def test_outcomes_grade_signings_2_and_other_tours_1():
    # given
    build_synthetic_district(leads=12)
    # when
    outcomes = lead_outcomes()
    data = build_dataset()
    # then: every lead toured three buildings and signed the first
    assert len(outcomes) == len(data.cases) > 0
    for case in data.cases:
        assert sorted(case.label_grades.tolist()) == [1, 1, 2]


def test_the_learned_model_beats_the_defaults_and_every_baseline_on_held_out_leads():
    # given
    build_synthetic_district()
    # when
    data = build_dataset()
    report, folds = evaluation_report(data)
    # then: three blocks, each tested by a model fitted only on leads decided before the block
    assert len(folds) == 3
    for fold in folds:
        assert set(fold.train).isdisjoint(fold.test)
        assert max(data.decided_on[i] for i in fold.train) < min(data.decided_on[i] for i in fold.test)
    assert report["test_leads"] >= 90 and report["train_leads"] >= 60
    ndcg = {name: values["ndcg10"] for name, values in report["rankers"].items()}
    for other in ("default", "random", "cheapest_first", "same_main_then_cheapest"):
        assert ndcg["learned"] > ndcg[other], (other, ndcg)
    assert report["gains"]["learned_vs_default"]["ci95"][0] > 0
    # the taste weighs tenants, stars and rent; the learned weights move there from the defaults
    learned = report["learned_weights"]
    assert learned["price.within_budget"] + learned["price.saving"] > 0.15 and learned["quality.stars"] > 0.10


def test_evaluate_matching_stores_the_next_model_with_its_report_and_the_ranking_uses_it(capsys):
    # given
    build_synthetic_district()
    # when
    call_command("evaluate_matching", "--store")
    # then
    model = RankingModel.objects.get()
    assert model.version == 1
    assert model.report["rankers"]["learned"]["ndcg10"] > model.report["rankers"]["default"]["ndcg10"]
    assert model.blend_share == pytest.approx(model.leads / (model.leads + 30), abs=1e-6)
    # scaled like the defaults: the best possible score is 1
    assert score_scale(weight_vector(model.weights)) == pytest.approx(1.0, abs=1e-5)
    out = capsys.readouterr().out
    assert "NDCG@10" in out and "stored model v1" in out
    # the weights printed are the stored model's, not the last evaluation block's
    shown = ", ".join(f"{k} {v:.3f}" for k, v in sorted(model.weights.items()))
    assert f"ranking model v1 weights: {shown}" in out
    assert "filter audit" in out and "over_budget" in out and "coverage" in out
    lead = LeadFactory(industry=industry("72"), area_min_m2=100, area_max_m2=300)
    assert adapter.match_buildings(lead).model_version == 1

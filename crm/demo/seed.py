"""Seeds the demo: plans each district from one seeded random.Random and writes it in one transaction."""

import datetime as dt
import random
from collections.abc import Callable

from django.db import transaction

from crm.demo.appraisal import demo_appraisal_seed
from crm.demo.district import DistrictPlanner, PlanError
from crm.demo.names import CreditCodes, NameMaker
from crm.demo.pipeline import PipelinePlanner, expected_signings
from crm.demo.profiles import CITY_BLOCK_NAMES, CITY_BLOCKS, DISTRICT, OFFICE_DIVISIONS, city_block
from crm.demo.writer import DemoWriter
from crm.models import Building, Industry, Signing
from matching.industry_suggest import industry_model_train
from matching.models import IndustryModel, RankingModel
from matching.training import train_and_store
from policies.demo import seed_demo_policies
from policies.models import Commitment
from policies.services import commitment_record

SCALES = ("district", "city")
EARLIEST_AS_OF = dt.date(2024, 1, 1)


class DemoError(Exception):
    """The demo cannot be seeded here (a non-empty database, missing industries, a bad as-of date)."""


def seed_demo(
    *, scale: str, seed: int, as_of: dt.date, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Plan and write the demo district (or city); returns the rows written per table.

    Deterministic: the same scale, seed and as-of date give the same rows (ids aside).
    """
    if scale not in SCALES:
        raise DemoError(f"未知规模 {scale} / unknown scale {scale!r}: {' | '.join(SCALES)}")
    if as_of < EARLIEST_AS_OF:
        # Leads are worked around the as-of date and must not change the plan years' figures.
        raise DemoError(
            f"基准日期须不早于 {EARLIEST_AS_OF} / --as-of must be on or after {EARLIEST_AS_OF}: "
            "the plan years 2021–2023 must be over"
        )
    if Building.objects.exists():
        raise DemoError("数据库中已有楼宇 / the database already has buildings: use a fresh database")
    divisions = set(Industry.objects.filter(level="division").values_list("code", flat=True))
    missing = sorted(code for code, _, _ in OFFICE_DIVISIONS if code not in divisions)
    if missing:
        raise DemoError(f"行业数据缺失 {missing} / industries missing: run `manage.py migrate` first")
    rng = random.Random(seed)
    names, codes = NameMaker(rng), CreditCodes()
    profiles = [DISTRICT] if scale == "district" else [city_block(i) for i in range(CITY_BLOCKS)]
    first_lead = 1
    with transaction.atomic():
        writer = DemoWriter(rng=random.Random(rng.getrandbits(64)))
        for index, profile in enumerate(profiles):
            planner = DistrictPlanner(
                profile=profile, rng=rng, names=names, codes=codes, as_of=as_of, industries=divisions
            )
            try:
                plan = planner.run(expected_signings=expected_signings(profile))
            except PlanError as error:
                raise DemoError(str(error)) from error
            usernames = "promoter{n:02d}" if scale == "district" else f"c{index:02d}p{{n:02d}}"
            home = "绍兴" if scale == "district" else CITY_BLOCK_NAMES[index]
            pipeline = PipelinePlanner(
                plan=plan,
                rng=rng,
                names=names,
                codes=codes,
                usernames=usernames,
                first_lead=first_lead,
                agency_home=home,
            ).run()
            first_lead += len(pipeline.leads)
            writer.write(plan, pipeline)
            if progress is not None:
                progress(
                    f"{profile.code_prefix} {len(plan.buildings)} buildings, {len(pipeline.leads)} leads"
                )
        writer.finish()
        counts = dict(writer.counts)
        # Policies come after the buildings they name; the demo's signings then get the
        # commitments signing_complete would have stored, so the promise totals are real.
        for scope, n in seed_demo_policies(rng=random.Random(rng.getrandbits(64)), as_of=as_of).items():
            counts[f"policies.Policy ({scope})"] = n
        if scale == "district":
            # One evaluation per signing; at city scale (thousands of signings) that would spend the
            # load budget on promises no benchmark reads, so the city has policies but no commitments.
            signings = Signing.objects.select_related("building").order_by("pk")
            for signing in signings.iterator(chunk_size=500):
                commitment_record(signing=signing)
        counts["policies.Commitment"] = Commitment.objects.count()
        # Last, over the finished data: targets, then the appraisal and the street assessment the
        # leaderboard and the assessment page read (otherwise empty until the nightly run).
        counts.update(demo_appraisal_seed(as_of=as_of))
    return counts


def demo_models_train() -> tuple[IndustryModel, RankingModel | None]:
    """Train the industry classifier and the ranking weights on the freshly seeded demo.

    So that a fresh `make run` suggests industries in quick add and ranks with weights learned from
    the demo's signings, without a separate `manage.py train_matching`. The ranking's time-split
    evaluation is left to `evaluate_matching`: it is a report, not something the demo needs to start.
    """
    industry = industry_model_train()
    ranking, _ = train_and_store(evaluate_first=False)
    return industry, ranking

"""`manage.py seed_demo [--scale district|city] [--seed N] [--as-of DATE] [--if-empty]`: generate the demo."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crm.demo.seed import SCALES, DemoError, demo_models_train, seed_demo
from crm.models import Building
from crm.services.stored_results import retention_recompute
from retention.core.model import NotEnoughOutcomes
from retention.training import retention_train


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD: {value!r}") from error


class Command(BaseCommand):
    help = "生成演示数据（越城区楼宇经济）/ generate the demo district (or the city-scale data set)"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--scale", choices=SCALES, default="district", help="district (≈90 楼宇) | city")
        parser.add_argument("--seed", type=int, default=2021, help="随机种子 / random seed (default 2021)")
        parser.add_argument(
            "--as-of",
            type=iso_date,
            default=None,
            help="线索与跟进的基准日期 / the day leads are worked up to (default today)",
        )
        parser.add_argument(
            "--no-train",
            action="store_true",
            help="不训练行业推荐与排序模型 / do not train the industry classifier and the ranking weights",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="已有楼宇时不做任何事 / do nothing when the database already has buildings",
        )

    def handle(
        self, *args, scale: str, seed: int, as_of: dt.date | None, if_empty: bool, no_train: bool, **options
    ) -> None:
        if if_empty and Building.objects.exists():
            self.stdout.write(
                "数据库中已有楼宇，跳过演示数据 / the database already has buildings: demo not seeded"
            )
            return
        as_of = as_of or timezone.localdate()
        started = time.perf_counter()
        try:
            counts = seed_demo(
                scale=scale,
                seed=seed,
                as_of=as_of,
                progress=lambda line: self.stdout.write(f"  {line}") if options["verbosity"] > 1 else None,
            )
        except DemoError as error:
            raise CommandError(str(error)) from error
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"演示数据已生成 / demo seeded: scale={scale} seed={seed} as-of={as_of}")
        )
        for table, count in counts.items():
            self.stdout.write(f"  {table:28} {count:>9,}")
        self.stdout.write(f"  elapsed {elapsed:.1f} s")
        if not no_train:
            started = time.perf_counter()
            industry, ranking = demo_models_train()
            self.stdout.write(
                f"行业推荐模型 / industry model v{industry.version}: {industry.classes} divisions, "
                f"{industry.samples} enterprises, held out {industry.accuracy}"
            )
            if ranking is None:
                self.stdout.write("排序:训练数据不足,沿用默认权重 / ranking: too few outcomes, defaults stay")
            else:
                self.stdout.write(f"排序模型 / ranking model v{ranking.version}: {ranking.leads} leads")
            # The 稳商 list reads stored move-out scores: a fresh demo shows them without a separate
            # `train_retention`.
            try:
                retention, _report = retention_train(today=as_of)
            except NotEnoughOutcomes as error:
                self.stdout.write(f"迁出风险:样本不足 / move-out model: too few outcomes ({error})")
            else:
                retention_recompute()
                self.stdout.write(f"迁出风险模型 / move-out model v{retention.version}")
            self.stdout.write(f"  trained in {time.perf_counter() - started:.1f} s")

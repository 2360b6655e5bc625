"""`manage.py indicators --year Y [--street NAME] [--format table|json]`: the plan's indicators vs targets."""

import json
from decimal import ROUND_HALF_UP, Decimal

from django.core.management.base import BaseCommand, CommandError

from crm.indicators import district_indicators
from crm.models import Street

DISPLAY = Decimal("0.01")


def _two_places(value: Decimal) -> Decimal:
    # `+ 0` turns a rounded -0.00 into 0.00, which is what a reader expects to see.
    return value.quantize(DISPLAY, rounding=ROUND_HALF_UP) + 0


def _exact(value: Decimal | None) -> str | None:
    """A machine's copy: the exact decimal as a string (a JSON number would round through a float)."""
    return None if value is None else f"{value:f}"


def _shown(value: Decimal | None) -> str:
    return "—" if value is None else f"{_two_places(value):,}"


class Command(BaseCommand):
    help = "打印规划指标的实际值、目标与差距 / print the plan indicators with target and gap"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--year", type=int, required=True, help="年度 / year, measured on 31 December")
        parser.add_argument("--street", help="镇街名称 / street name (default: the whole district)")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, year: int, street: str | None, format: str, **options) -> None:
        scope = None
        if street is not None:
            scope = Street.objects.filter(name=street.strip()).first()
            if scope is None:
                known = "、".join(Street.objects.values_list("name", flat=True)) or "—"
                raise CommandError(f"未知镇街「{street}」/ unknown street {street!r}; 已有 / known: {known}")
        indicators = district_indicators(year=year, street=scope)
        if format == "json":
            payload = {
                item.key: {
                    "value": _exact(item.value),
                    "target": _exact(item.target),
                    "gap": _exact(item.gap),
                }
                for item in indicators
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        title = f"{year}年 {scope.name if scope else '全区 / district'}"
        self.stdout.write(title)
        header = f"{'key':<26}{'value':>16}{'target':>14}{'gap':>14}  unit  indicator"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for item in indicators:
            self.stdout.write(
                f"{item.key:<26}{_shown(item.value):>16}{_shown(item.target):>14}{_shown(item.gap):>14}"
                f"  {item.unit:<4}  {item.label}"
            )
        self.stdout.write("所有指标越高越好 / every indicator: higher is better")

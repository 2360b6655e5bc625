"""Nightly indicator snapshots and the warnings drawn from them: tiers, leases ending, tax falls, and
high-tax tenants the move-out model finds likely to leave (迁出预警).

Each warning is a task for the building's street officers (or, where the street has none, the
building's managers, else the district office) and the promoter who owns it; a rerun of the same
night adds nothing, because a task is unique per assignee and what it is about.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import DecimalField, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import override

from crm.constants import Role, TaxTier
from crm.indicators import building_indicators, district_values, street_values
from crm.models import (
    Building,
    EarlyWarning,
    IndicatorSnapshot,
    Notification,
    Promoter,
    Signing,
    Street,
    TaxRecord,
    Tenancy,
)
from crm.tax_tiers import tax_tier, tier_thresholds
from crm.web.templatetags.web import num, percent
from policies.engine.amounts import yuan_text

TENANCY_WARNING_DAYS = 90
TAX_DROP_SHARE = Decimal("0.3")  # a fall of more than 30% year on year
# A tenant escalated by its move-out risk: at least this likely to leave within 12 months, and
# paying at least this much tax a year (docs/retention.md).
RISK_WARNING_PROBABILITY = 0.5
RISK_WARNING_TAX_YUAN = Decimal("1000000")
TIER_ORDER = [
    TaxTier.NONE,
    TaxTier.NEAR_TEN_MILLION,
    TaxTier.TEN_MILLION,
    TaxTier.NEAR_BILLION,
    TaxTier.BILLION,
]


@dataclass(frozen=True)
class WarningRun:
    """What one nightly run produced."""

    snapshots: int
    tier_warnings: int
    tenancy_warnings: int
    tax_warnings: int
    risk_warnings: int = 0


def _json(values: dict) -> dict[str, str | None]:
    """Indicator values as exact strings (JSON has no decimals)."""
    return {str(k): (None if v is None else str(v)) for k, v in values.items()}


@transaction.atomic
def indicator_snapshots_take(*, year: int, today: dt.date | None = None) -> int:
    """Store today's indicators of year Y for the district, each street and each building (with its tax
    tier); a second run on the same day replaces the first. Returns the number of rows stored."""
    today = today or timezone.localdate()
    thresholds = tier_thresholds()
    rows = [
        IndicatorSnapshot(
            taken_on=today,
            year=year,
            scope=IndicatorSnapshot.Scope.DISTRICT,
            values=_json(district_values(year=year)),
        )
    ]
    street_ids = list(Street.objects.order_by("pk").values_list("pk", flat=True))
    for street_id, values in street_values(year=year, street_ids=street_ids).items():
        rows.append(
            IndicatorSnapshot(
                taken_on=today,
                year=year,
                scope=IndicatorSnapshot.Scope.STREET,
                street_id=street_id,
                values=_json(values),
            )
        )
    streets = dict(Building.objects.values_list("pk", "street_id"))
    for building_id, values in building_indicators(year=year).items():
        tax = values["building_tax"] * Decimal(100_000_000)
        rows.append(
            IndicatorSnapshot(
                taken_on=today,
                year=year,
                scope=IndicatorSnapshot.Scope.BUILDING,
                street_id=streets.get(building_id),
                building_id=building_id,
                values=_json(values),
                tax_yuan=tax.quantize(Decimal("0.01")),
                tier=tax_tier(tax, thresholds),
            )
        )
    IndicatorSnapshot.objects.filter(taken_on=today, year=year).delete()
    IndicatorSnapshot.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def street_officer_ids(street_ids: Iterable[int]) -> dict[int, list[int]]:
    """The active street officers' user ids of each street."""
    result: dict[int, list[int]] = {}
    officers = (
        get_user_model()
        .objects.filter(
            groups__name=Role.STREET_OFFICER, is_active=True, scope__street_id__in=list(street_ids)
        )
        .values_list("scope__street_id", "pk")
    )
    for street_id, user_id in officers:
        result.setdefault(street_id, []).append(user_id)
    return result


def warning_recipients(buildings: dict[int, int]) -> dict[int, set[int]]:
    """Who answers for each building's warnings, given {building id: street id}.

    The street's active officers; a street with none (an unstaffed 镇街) falls back to the building's
    managers, and a building with no manager either to the district office, so that no warning is
    left without someone to act on it.
    """
    officers = street_officer_ids(set(buildings.values()))
    users = get_user_model().objects.filter(is_active=True)
    managers: dict[int, set[int]] = {}
    for building_id, user_id in users.filter(
        groups__name=Role.BUILDING_MANAGER, scope__building_id__in=list(buildings)
    ).values_list("scope__building_id", "pk"):
        managers.setdefault(building_id, set()).add(user_id)
    office: set[int] | None = None
    result = {}
    for building_id, street_id in buildings.items():
        chosen = set(officers.get(street_id, [])) or managers.get(building_id, set())
        if not chosen:
            if office is None:
                office = set(users.filter(groups__name=Role.DISTRICT_ADMIN).values_list("pk", flat=True))
            chosen = office
        result[building_id] = chosen
    return result


def _street_promoter_ids(street_ids: Iterable[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {}
    for street_id, user_id in Promoter.objects.filter(
        active=True, street_id__in=list(street_ids)
    ).values_list("street_id", "user_id"):
        result.setdefault(street_id, []).append(user_id)
    return result


def _tenant_warnings(
    row: dict, responders: set[int], *, kind, title, detail, due_on, dedupe_key, now
) -> list[EarlyWarning]:
    """One warning about a tenant for each who answers for its building and the promoter who brought
    it (a user who is both gets one)."""
    return [
        EarlyWarning(
            kind=kind,
            assignee_id=user_id,
            building_id=row["building_id"],
            enterprise_id=row["enterprise_id"],
            title=title,
            detail=detail,
            due_on=due_on,
            dedupe_key=dedupe_key,
            created_at=now,
        )
        for user_id in {*responders, row["owner_user"]} - {None}
    ]


def _create(warnings: list[EarlyWarning], now: dt.datetime) -> int:
    """Insert the warnings that are new, each with an in-app notification; returns how many were new."""
    if not warnings:
        return 0
    keys = {(w.assignee_id, w.dedupe_key) for w in warnings}
    existing = set(
        EarlyWarning.objects.filter(dedupe_key__in={k for _, k in keys}).values_list(
            "assignee_id", "dedupe_key"
        )
    )
    fresh = [w for w in warnings if (w.assignee_id, w.dedupe_key) not in existing]
    EarlyWarning.objects.bulk_create(fresh, ignore_conflicts=True)
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=w.assignee_id,
                kind=Notification.Kind.WARNING,
                title=w.title,
                body=w.detail,
                dedupe_key=f"warning:{w.dedupe_key}",
                created_at=now,
            )
            for w in fresh
        ],
        ignore_conflicts=True,
    )
    return len(fresh)


@transaction.atomic
def tier_warnings(*, year: int, today: dt.date | None = None) -> int:
    """A task for each building whose tier in today's snapshot of Y differs from its previous one of Y."""
    today = today or timezone.localdate()
    now = timezone.now()
    previous = IndicatorSnapshot.objects.filter(
        scope=IndicatorSnapshot.Scope.BUILDING, building=OuterRef("building"), year=year, taken_on__lt=today
    ).order_by("-taken_on")
    moves = [
        row
        for row in IndicatorSnapshot.objects.filter(
            scope=IndicatorSnapshot.Scope.BUILDING, year=year, taken_on=today
        )
        .annotate(previous_tier=Subquery(previous.values("tier")[:1]))
        .exclude(previous_tier__isnull=True)
        .values("building_id", "building__name", "street_id", "tier", "previous_tier", "tax_yuan")
        if row["tier"] != row["previous_tier"]
    ]
    street_ids = {row["street_id"] for row in moves}
    responders = warning_recipients({row["building_id"]: row["street_id"] for row in moves})
    promoters = _street_promoter_ids(street_ids)
    warnings = []
    for row in moves:
        old, new = TaxTier(row["previous_tier"]), TaxTier(row["tier"])
        entered = TIER_ORDER.index(new) > TIER_ORDER.index(old)
        kind = EarlyWarning.Kind.TIER_ENTERED if entered else EarlyWarning.Kind.TIER_LEFT
        # The title's first half is Chinese whatever language the thread last served a page in.
        with override("zh-hans"):
            labels = f"{old.label} → {new.label}"
        title = (
            f"{row['building__name']} {'进入' if entered else '跌出'}税收层级:{labels} / "
            f"{'entered' if entered else 'left'} a tax tier: {old.value} → {new.value}"
        )
        tax = yuan_text(row["tax_yuan"])
        detail = f"{year} 年楼宇税收 {tax} 元 / building tax of {year}: {tax} yuan"
        for user_id in {*responders[row["building_id"]], *promoters.get(row["street_id"], [])}:
            warnings.append(
                EarlyWarning(
                    kind=kind,
                    assignee_id=user_id,
                    building_id=row["building_id"],
                    title=title,
                    detail=detail,
                    due_on=today + dt.timedelta(days=14),
                    dedupe_key=f"tier:{row['building_id']}:{year}:{old.value}>{new.value}:{today}",
                    created_at=now,
                )
            )
    return _create(warnings, now)


def _owning_promoter_user():
    """The user of the promoter who brought an enterprise into a building (its latest signing there)."""
    return Subquery(
        Signing.objects.filter(enterprise=OuterRef("enterprise_id"), building=OuterRef("building_id"))
        .order_by("-signed_on", "-pk")
        .values("lead__owner__user_id")[:1]
    )


@transaction.atomic
def tenancy_ending_warnings(*, today: dt.date | None = None) -> int:
    """A task for every tenancy that ends within 90 days, unless the enterprise already renewed there."""
    today = today or timezone.localdate()
    now = timezone.now()
    horizon = today + dt.timedelta(days=TENANCY_WARNING_DAYS)
    renewed = Tenancy.objects.filter(
        enterprise=OuterRef("enterprise_id"), building=OuterRef("building_id"), start__gt=OuterRef("end")
    )
    ending = list(
        Tenancy.objects.filter(end__gte=today, end__lte=horizon)
        .filter(~Exists(renewed))
        .annotate(owner_user=_owning_promoter_user())
        .values(
            "pk",
            "building_id",
            "building__name",
            "building__street_id",
            "enterprise_id",
            "enterprise__name",
            "end",
            "owner_user",
        )
    )
    responders = warning_recipients({row["building_id"]: row["building__street_id"] for row in ending})
    warnings = []
    for row in ending:
        title = (
            f"租约将于 {row['end']:%Y-%m-%d} 到期:{row['enterprise__name']}({row['building__name']})/ "
            f"tenancy ends within {TENANCY_WARNING_DAYS} days"
        )
        warnings += _tenant_warnings(
            row,
            responders[row["building_id"]],
            kind=EarlyWarning.Kind.TENANCY_ENDING,
            title=title,
            detail="请走访企业了解续租意向 / visit the tenant about renewing",
            due_on=row["end"],
            dedupe_key=f"tenancy_ending:{row['pk']}:{row['end']}",
            now=now,
        )
    return _create(warnings, now)


@transaction.atomic
def tax_drop_warnings(*, year: int, today: dt.date | None = None) -> int:
    """A task for every tenant settled today whose tax of Y fell by more than 30% from Y−1."""
    today = today or timezone.localdate()
    now = timezone.now()
    money = DecimalField(max_digits=16, decimal_places=2)
    falling = (
        TaxRecord.objects.filter(year__in=[year - 1, year])
        .values("enterprise_id")
        .annotate(
            current=Coalesce(Sum("amount_yuan", filter=Q(year=year)), Decimal(0), output_field=money),
            previous=Coalesce(Sum("amount_yuan", filter=Q(year=year - 1)), Decimal(0), output_field=money),
        )
        .filter(previous__gt=0, current__lt=F("previous") * (1 - TAX_DROP_SHARE))
        .order_by()
    )
    tax = {row["enterprise_id"]: (row["previous"], row["current"]) for row in falling}
    settled = list(
        Tenancy.objects.filter(enterprise_id__in=list(tax), start__lte=today)
        .filter(Q(end__isnull=True) | Q(end__gte=today))
        .annotate(owner_user=_owning_promoter_user())
        .values(
            "building_id",
            "building__name",
            "building__street_id",
            "enterprise_id",
            "enterprise__name",
            "owner_user",
        )
        .distinct()
    )
    responders = warning_recipients({row["building_id"]: row["building__street_id"] for row in settled})
    warnings = []
    for row in settled:
        previous, current = tax[row["enterprise_id"]]
        fall = (Decimal(1) - Decimal(current) / Decimal(previous)) * 100
        shown = num(fall, 1)
        title = (
            f"迁出预警:{row['enterprise__name']}({row['building__name']}){year} 年税收同比下降 {shown}% / "
            f"move-out warning: tax fell {shown}% year on year"
        )
        before, after = yuan_text(previous), yuan_text(current)
        detail = f"{year - 1} 年 {before} 元 → {year} 年 {after} 元 / {before} → {after} yuan"
        warnings += _tenant_warnings(
            row,
            responders[row["building_id"]],
            kind=EarlyWarning.Kind.TAX_DROP,
            title=title,
            detail=detail,
            due_on=today + dt.timedelta(days=30),
            dedupe_key=f"tax_drop:{row['enterprise_id']}:{row['building_id']}:{year}",
            now=now,
        )
    return _create(warnings, now)


@transaction.atomic
def move_out_risk_warnings(*, today: dt.date | None = None) -> int:
    """A task for each high-tax tenant the move-out model scores likely to leave, for the street
    officers (else the building's managers, else the office) and the promoter who brought it; once a
    quarter per tenancy while it stays at risk."""
    from retention.models import RetentionScore

    today = today or timezone.localdate()
    now = timezone.now()
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    risky = list(
        RetentionScore.objects.filter(
            probability__gte=RISK_WARNING_PROBABILITY, tax_last_year_yuan__gte=RISK_WARNING_TAX_YUAN
        )
        .annotate(owner_user=_owning_promoter_user())
        .values(
            "tenancy_id",
            "building_id",
            "building__name",
            "building__street_id",
            "enterprise_id",
            "enterprise__name",
            "probability",
            "tax_last_year_yuan",
            "expected_tax_at_risk_yuan",
            "owner_user",
        )
    )
    responders = warning_recipients({row["building_id"]: row["building__street_id"] for row in risky})
    warnings = []
    for row in risky:
        share = percent(row["probability"])
        title = (
            f"迁出风险:{row['enterprise__name']}({row['building__name']})12个月内迁出概率 {share} / "
            f"move-out risk: {share} within 12 months"
        )
        tax, at_risk = yuan_text(row["tax_last_year_yuan"]), yuan_text(row["expected_tax_at_risk_yuan"])
        detail = (
            f"近一年税收 {tax} 元,预期流失 {at_risk} 元;请安排稳商走访 / "
            f"last year's tax {tax} yuan, expected at risk {at_risk} yuan: plan a retention visit"
        )
        warnings += _tenant_warnings(
            row,
            responders[row["building_id"]],
            kind=EarlyWarning.Kind.MOVE_OUT_RISK,
            title=title,
            detail=detail,
            due_on=today + dt.timedelta(days=30),
            dedupe_key=f"move_out_risk:{row['tenancy_id']}:{quarter}",
            now=now,
        )
    return _create(warnings, now)


def warnings_nightly(*, today: dt.date | None = None) -> WarningRun:
    """The night's run: snapshots of this year and last (whose records may still be amended), tier
    movements since the previous snapshots, tenancies ending, and last year's tax falls."""
    today = today or timezone.localdate()
    snapshots = tiers = 0
    for year in (today.year - 1, today.year):
        snapshots += indicator_snapshots_take(year=year, today=today)
        tiers += tier_warnings(year=year, today=today)
    return WarningRun(
        snapshots=snapshots,
        tier_warnings=tiers,
        tenancy_warnings=tenancy_ending_warnings(today=today),
        tax_warnings=tax_drop_warnings(year=today.year - 1, today=today),
        risk_warnings=move_out_risk_warnings(today=today),
    )

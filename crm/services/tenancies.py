"""Tenancies: who occupies which units when; no unit is ever in two overlapping tenancies."""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from crm.constants import UnitStatus
from crm.models import Building, Enterprise, Tenancy, TenancyUnit, Unit
from crm.services.common import attribute_to, invalid, lock_rows


def unit_overlapping_links(
    *, unit_ids: Sequence[int], start: dt.date, end: dt.date | None, exclude_tenancy: Tenancy | None = None
):
    """Tenancy links on these units whose period meets [start, end] (end blank: open-ended)."""
    links = TenancyUnit.objects.filter(unit_id__in=unit_ids).filter(Q(end__isnull=True) | Q(end__gte=start))
    if end is not None:
        links = links.filter(start__lte=end)
    if exclude_tenancy is not None:
        links = links.exclude(tenancy=exclude_tenancy)
    return links.select_related("unit", "tenancy__enterprise")


def _refuse_overlaps(units: Sequence[Unit], start: dt.date, end: dt.date | None, exclude=None) -> None:
    clash = unit_overlapping_links(
        unit_ids=[u.pk for u in units], start=start, end=end, exclude_tenancy=exclude
    ).first()
    if clash is not None:
        raise invalid(
            "units",
            f"房源 {clash.unit.number} 已由 {clash.tenancy.enterprise.name} "
            f"在 {clash.start}–{clash.end or '至今'} 租用,时间重叠 / "
            f"unit {clash.unit.number} is already let to {clash.tenancy.enterprise.name} "
            f"from {clash.start} to {clash.end or 'open-ended'}: the periods overlap",
        )


@transaction.atomic
def tenancy_create(
    *,
    enterprise: Enterprise,
    building: Building,
    start: dt.date,
    end: dt.date | None = None,
    units: Sequence[Unit] = (),
    area_m2: Decimal | None = None,
    by=None,
) -> Tenancy:
    """Settle an enterprise in a building; the units are locked, checked free and marked leased."""
    locked = lock_rows(Unit, [u.pk for u in units])
    foreign = [u.number for u in locked if u.building_id != building.pk]
    if foreign:
        raise invalid(
            "units", f"房源 {', '.join(foreign)} 不在楼宇 {building.name} / units not in {building}"
        )
    if area_m2 is None:
        if not locked:
            raise invalid("area_m2", "未选房源时须填写面积 / give the area when no units are named")
        area_m2 = sum((u.area_m2 for u in locked), Decimal("0"))
    tenancy = Tenancy(enterprise=enterprise, building=building, start=start, end=end, area_m2=area_m2)
    tenancy.full_clean()
    _refuse_overlaps(locked, start, end)
    attribute_to(tenancy, by)
    tenancy.save()
    try:
        with transaction.atomic():
            TenancyUnit.objects.bulk_create(
                [TenancyUnit(tenancy=tenancy, unit=u, start=start, end=end) for u in locked]
            )
    except IntegrityError as exc:  # the PostgreSQL exclusion constraint caught a race the lock missed
        raise invalid("units", "房源租期重叠 / a unit's tenancy periods overlap") from exc
    for unit in locked:
        unit.status = UnitStatus.LEASED
        attribute_to(unit, by)
        unit.save(update_fields=["status"])
    return tenancy


@transaction.atomic
def tenancy_end(*, tenancy: Tenancy, end: dt.date, by=None) -> Tenancy:
    """Record a move-out: the tenancy and its unit links end on `end`; units past it become vacant."""
    tenancy = Tenancy.objects.select_for_update().get(pk=tenancy.pk)
    if end < tenancy.start:
        raise invalid(
            "end", f"到期日期 {end} 早于起租日期 {tenancy.start} / end {end} is before start {tenancy.start}"
        )
    locked = lock_rows(Unit, tenancy.unit_links.values_list("unit_id", flat=True))
    tenancy.end = end
    attribute_to(tenancy, by)
    tenancy.save(update_fields=["end"])
    tenancy.unit_links.update(end=end)
    today = timezone.localdate()
    if end < today:
        still_let = set(
            TenancyUnit.objects.filter(unit__in=locked, start__lte=today)
            .filter(Q(end__isnull=True) | Q(end__gte=today))
            .values_list("unit_id", flat=True)
        )
        for unit in locked:
            if unit.status == UnitStatus.LEASED and unit.pk not in still_let:
                unit.status = UnitStatus.VACANT
                attribute_to(unit, by)
                unit.save(update_fields=["status"])
    return tenancy

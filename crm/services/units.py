"""Changing a unit's own facts from the pages: the status a manager sets and the availability date."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from crm.constants import UnitStatus
from crm.models import Unit
from crm.selectors.reservations import reservations_lapsed, reservations_live
from crm.services.common import attribute_to, invalid, lock_rows
from crm.services.reservations import reservation_mark_released
from crm.services.tenancies import unit_overlapping_links

# Reserved and leased are the results of unit_reserve and tenancy_create/signing_complete: set by
# hand they would leave a unit held or let with no hold or tenancy behind it.
SETTABLE_STATUSES = (UnitStatus.VACANT, UnitStatus.SELF_USED, UnitStatus.UNAVAILABLE)


def unit_status_check(*, before: str | None, status: str) -> None:
    """Refuse setting a status by hand that only holds and signings produce; `before` is the unit's
    status until now (None for a new unit). The one rule of the pages' unit_update and the admin's form."""
    if status != before and status not in SETTABLE_STATUSES:
        raise invalid(
            "status",
            "预留与已租状态由房源预留和签约登记产生,不能直接设置 / "
            "reserved and leased come from holds and signings and cannot be set here",
        )


@transaction.atomic
def unit_update(*, unit: Unit, status: str, available_from: dt.date | None, by=None) -> Unit:
    """Set a unit's status (vacant, self-used, unavailable) and the date it can be moved into.

    A unit under a live hold is given back by releasing the hold, and a unit let under a tenancy
    running today or later by ending the tenancy: neither is overwritten here.
    """
    (unit,) = lock_rows(Unit, [unit.pk])
    today = timezone.localdate()
    if status != unit.status:
        unit_status_check(before=unit.status, status=status)
        if unit.status == UnitStatus.RESERVED:
            live = reservations_live(today=today).filter(unit=unit).first()
            if live is not None:
                raise invalid(
                    "status",
                    f"房源 {unit.number} 预留至 {live.expires_on:%Y-%m-%d},请先释放预留 / "
                    f"unit {unit.number} is held until {live.expires_on:%Y-%m-%d}: release the hold first",
                )
            # A hold past its expiry blocks nothing: close it, as the nightly release would.
            for lapsed in reservations_lapsed(today=today).filter(unit=unit):
                reservation_mark_released(lapsed, unit, by)
        if unit.status == UnitStatus.LEASED:
            running = unit_overlapping_links(unit_ids=[unit.pk], start=today, end=None).first()
            if running is not None:
                until = f"{running.end:%Y-%m-%d}" if running.end else "—"
                raise invalid(
                    "status",
                    f"房源 {unit.number} 由 {running.tenancy.enterprise.name} 租用(至 {until}),"
                    "租约结束后才能改为其他状态 / the unit is let under a running tenancy "
                    f"(until {until}): its status changes when the tenancy ends",
                )
    unit.status = status
    unit.available_from = available_from
    unit.full_clean()
    attribute_to(unit, by)
    unit.save(update_fields=["status", "available_from"])
    return unit

"""Holding vacant units for a lead in negotiation (预留房源) until an expiry date."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from crm.constants import LeadStage, UnitStatus
from crm.models import Lead, Promoter, Reservation, Unit
from crm.selectors.reservations import reservations_lapsed, reservations_live
from crm.services.common import attribute_to, invalid, lock_rows

EXPIRY_BATCH = 500
# A hold keeps a unit off the market for everyone else: a quarter is long for a negotiation, and an
# expiry years ahead is a typing mistake that would hide the unit from every other promoter.
LONGEST_HOLD = dt.timedelta(days=90)


def reservation_mark_released(reservation: Reservation, unit: Unit, by=None) -> None:
    """Close a hold and free its unit; the caller holds the unit's row lock."""
    reservation.released_at = timezone.now()
    attribute_to(reservation, by)
    reservation.save(update_fields=["released_at"])
    if unit.status == UnitStatus.RESERVED:
        unit.status = UnitStatus.VACANT
        attribute_to(unit, by)
        unit.save(update_fields=["status"])


@transaction.atomic
def unit_reserve(
    *, lead: Lead, unit: Unit, expires_on: dt.date, promoter: Promoter | None = None, by=None
) -> Reservation:
    """Hold one vacant unit for a negotiating lead; an expired hold on it is released first."""
    if lead.stage != LeadStage.NEGOTIATING:
        raise invalid("lead", "只有谈判中的线索可以预留房源 / only a lead in negotiation can hold units")
    today = timezone.localdate()
    if expires_on < today:
        raise invalid("expires_on", f"到期日 {expires_on} 已过 / expiry {expires_on} is in the past")
    if expires_on > today + LONGEST_HOLD:
        latest = today + LONGEST_HOLD
        raise invalid(
            "expires_on",
            f"预留最长 {LONGEST_HOLD.days} 天,到期日最晚 {latest} / "
            f"a hold lasts at most {LONGEST_HOLD.days} days: expiry on {latest} at the latest",
        )
    (unit,) = lock_rows(Unit, [unit.pk])
    # A lapsed hold blocks nothing but still holds the one-open-hold-per-unit slot: close it first.
    for lapsed in reservations_lapsed(today=today).filter(unit=unit):
        reservation_mark_released(lapsed, unit, by)
    live = reservations_live(today=today).filter(unit=unit).select_related("lead").first()
    if live is not None:
        who = "本线索" if live.lead_id == lead.pk else f"线索 {live.lead.ref}"
        raise invalid(
            "unit",
            f"房源 {unit.number} 已为{who}预留至 {live.expires_on} / "
            f"unit {unit.number} is already held for lead {live.lead.ref} until {live.expires_on}",
        )
    if unit.status != UnitStatus.VACANT:
        raise invalid(
            "unit", f"房源 {unit.number} 不是空置状态({unit.get_status_display()})/ unit is not vacant"
        )
    reservation = Reservation(
        lead=lead,
        unit=unit,
        promoter=promoter or lead.owner,
        created_at=timezone.now(),
        expires_on=expires_on,
    )
    attribute_to(reservation, by)
    reservation.save()
    unit.status = UnitStatus.RESERVED
    attribute_to(unit, by)
    unit.save(update_fields=["status"])
    return reservation


@transaction.atomic
def units_reserve(
    *, lead: Lead, units: list[Unit], expires_on: dt.date, promoter: Promoter | None = None, by=None
) -> list[Reservation]:
    """Hold several units of an offer for one lead until one expiry: all of them, or none."""
    if not units:
        raise invalid("units", "请选择要预留的房源 / choose the units to hold")
    # In primary-key order, as every writer locks units, so two offers never wait on each other.
    return [
        unit_reserve(lead=lead, unit=unit, expires_on=expires_on, promoter=promoter, by=by)
        for unit in sorted(units, key=lambda u: u.pk)
    ]


@transaction.atomic
def reservation_release(*, reservation: Reservation, by=None) -> None:
    """Give a held unit back to the market."""
    (unit,) = lock_rows(Unit, [reservation.unit_id])
    reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if reservation.released_at is None:
        reservation_mark_released(reservation, unit, by)


def reservations_expire(*, today: dt.date | None = None, batch_size: int = EXPIRY_BATCH) -> int:
    """Release up to batch_size holds whose expiry date has passed; returns how many."""
    today = today or timezone.localdate()
    due = list(
        reservations_lapsed(today=today)
        .order_by("expires_on", "pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    for reservation in Reservation.objects.filter(pk__in=due):
        reservation_release(reservation=reservation)
    return len(due)

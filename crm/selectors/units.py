"""Which units can be offered: vacant, or held for this very lead; never another lead's live hold."""

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet

from crm.constants import UnitStatus
from crm.models import Lead, Unit
from crm.selectors.reservations import reservations_live


def units_offerable(*, lead: Lead | None = None, today: dt.date | None = None) -> QuerySet[Unit]:
    """Units a promoter may offer to `lead` (or to any lead when None).

    A unit reserved under a hold that has expired is offerable again, even before the nightly
    release has run; a unit under another lead's live hold is not. With a lead, `held_for_lead` tells the
    units it holds live from those merely still marked reserved by a lapsed hold (vacant in truth).
    """
    live_holds = reservations_live(today=today).filter(unit=OuterRef("pk"))
    held_by_others = live_holds.exclude(lead=lead) if lead is not None else live_holds
    units = Unit.objects.filter(Q(status=UnitStatus.VACANT) | Q(status=UnitStatus.RESERVED)).exclude(
        Exists(held_by_others)
    )
    if lead is not None:
        units = units.annotate(held_for_lead=Exists(live_holds.filter(lead=lead)))
    return units.select_related("building")


def read_lapsed_hold_as_vacant(unit: Unit, *, offerable: bool) -> Unit:
    """Show a unit as it stands today: one still marked reserved but offerable to anyone (its hold ran
    out and the nightly release has not closed it yet) is vacant in truth. For display only; the
    next writer that touches the unit, or the nightly release, makes the row say so."""
    if unit.status == UnitStatus.RESERVED and offerable:
        unit.status = UnitStatus.VACANT
    return unit

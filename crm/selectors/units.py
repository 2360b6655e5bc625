"""Which units can be offered: vacant, or held for this very lead; never another lead's live hold."""

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet

from crm.constants import UnitStatus
from crm.models import Lead, Unit
from crm.selectors.reservations import reservations_live


def units_offerable(*, lead: Lead | None = None, today: dt.date | None = None) -> QuerySet[Unit]:
    """Units a promoter may offer to `lead` (or to any lead when None).

    A unit reserved under a hold that has expired is offerable again, even before the nightly
    release has run; a unit under another lead's live hold is not.
    """
    live_holds = reservations_live(today=today).filter(unit=OuterRef("pk"))
    held_by_others = live_holds.exclude(lead=lead) if lead is not None else live_holds
    return (
        Unit.objects.filter(Q(status=UnitStatus.VACANT) | Q(status=UnitStatus.RESERVED))
        .exclude(Exists(held_by_others))
        .select_related("building")
    )

"""Which holds are live: not released and not past their expiry (the district's date).

A hold stops blocking at the end of its `expires_on` day, not when the nightly release gets to it, so
every reader (services, pages, admin, matching) asks here instead of filtering on `released_at` alone.
"""

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.models import Reservation


def live_condition(*, today: dt.date | None = None) -> Q:
    """The rule itself, for a filter or an annotation (the admin's state column)."""
    today = today or timezone.localdate()
    return Q(released_at__isnull=True, expires_on__gte=today)


def reservations_live(*, today: dt.date | None = None) -> QuerySet[Reservation]:
    """Holds that still keep their unit for their lead on `today` (the district's date by default)."""
    return Reservation.objects.filter(live_condition(today=today))


def reservations_lapsed(*, today: dt.date | None = None) -> QuerySet[Reservation]:
    """Holds past their expiry that nobody has released yet: they block nothing, and the next writer
    that touches their unit (or the nightly job) closes them."""
    today = today or timezone.localdate()
    return Reservation.objects.filter(released_at__isnull=True, expires_on__lt=today)

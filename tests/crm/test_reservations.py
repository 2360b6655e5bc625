"""Holding units for a negotiating lead: one live hold per unit, expiry, release."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.constants import LeadStage, UnitStatus
from crm.models import Reservation
from crm.services.reservations import reservation_release, reservations_expire, unit_reserve
from tests.factories import LeadFactory, UnitFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


def test_a_hold_reserves_the_unit_and_a_second_lead_is_refused():
    unit = UnitFactory()
    first, second = LeadFactory(stage=LeadStage.NEGOTIATING), LeadFactory(stage=LeadStage.NEGOTIATING)

    unit_reserve(lead=first, unit=unit, expires_on=TODAY + dt.timedelta(days=7))
    with pytest.raises(ValidationError) as exc:
        unit_reserve(lead=second, unit=unit, expires_on=TODAY + dt.timedelta(days=7))

    assert first.ref in " ".join(exc.value.message_dict["unit"])
    unit.refresh_from_db()
    assert unit.status == UnitStatus.RESERVED


def test_an_expired_hold_gives_way_to_a_new_one():
    unit = UnitFactory()
    first, second = LeadFactory(stage=LeadStage.NEGOTIATING), LeadFactory(stage=LeadStage.NEGOTIATING)
    unit_reserve(lead=first, unit=unit, expires_on=TODAY)
    Reservation.objects.filter(lead=first).update(expires_on=TODAY - dt.timedelta(days=1))

    unit_reserve(lead=second, unit=unit, expires_on=TODAY + dt.timedelta(days=3))

    assert Reservation.objects.get(lead=first).released_at is not None
    assert Reservation.objects.get(lead=second).released_at is None


def test_only_negotiating_leads_hold_units():
    with pytest.raises(ValidationError) as exc:
        unit_reserve(lead=LeadFactory(stage=LeadStage.CONTACTED), unit=UnitFactory(), expires_on=TODAY)

    assert "lead" in exc.value.message_dict


def test_release_and_the_expiry_scan_return_units_to_vacant():
    kept, released, expired = UnitFactory(), UnitFactory(), UnitFactory()
    lead = LeadFactory(stage=LeadStage.NEGOTIATING)
    unit_reserve(lead=lead, unit=kept, expires_on=TODAY + dt.timedelta(days=5))
    hold = unit_reserve(lead=lead, unit=released, expires_on=TODAY + dt.timedelta(days=5))
    unit_reserve(lead=lead, unit=expired, expires_on=TODAY)
    Reservation.objects.filter(unit=expired).update(expires_on=TODAY - dt.timedelta(days=2))

    reservation_release(reservation=hold)
    count = reservations_expire(today=TODAY)

    assert count == 1
    statuses = {u.pk: u.status for u in type(kept).objects.all()}
    assert statuses == {kept.pk: "reserved", released.pk: "vacant", expired.pk: "vacant"}


def test_the_database_allows_one_live_hold_per_unit():
    unit = UnitFactory()
    lead = LeadFactory()
    Reservation.objects.create(lead=lead, unit=unit, created_at=timezone.now(), expires_on=TODAY)

    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.create(lead=LeadFactory(), unit=unit, created_at=timezone.now(), expires_on=TODAY)


def test_a_hold_may_last_ninety_days_and_not_a_day_more():
    lead, unit = LeadFactory(stage=LeadStage.NEGOTIATING), UnitFactory()
    today = timezone.localdate()

    # a hold to a date years ahead (a typo for this year) is refused, naming the latest allowed date
    with pytest.raises(ValidationError) as exc:
        unit_reserve(lead=lead, unit=unit, expires_on=today + dt.timedelta(days=91))
    assert str(today + dt.timedelta(days=90)) in " ".join(exc.value.message_dict["expires_on"])
    assert not Reservation.objects.exists()

    # and ninety days is allowed
    held = unit_reserve(lead=lead, unit=unit, expires_on=today + dt.timedelta(days=90))
    assert held.expires_on == today + dt.timedelta(days=90)

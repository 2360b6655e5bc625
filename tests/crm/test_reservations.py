"""Holding units for a negotiating lead: one live hold per unit, expiry (at read time), release."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.constants import LeadStage, UnitStatus
from crm.models import Reservation, Signing
from crm.selectors.reservations import reservations_lapsed, reservations_live
from crm.services.reservations import reservation_release, reservations_expire, unit_reserve
from crm.services.signings import signing_complete
from tests.factories import LeadFactory, UnitFactory, make_credit_code

pytestmark = pytest.mark.django_db
# The district's date (Asia/Shanghai), which the services compare expiries with; the machine's own
# date is a day behind it for eight hours of every UTC day.
TODAY = timezone.localdate()


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

    # the stale row is still "live" for the one-live-hold constraint until it is released
    unit_reserve(lead=second, unit=unit, expires_on=TODAY + dt.timedelta(days=3))

    assert Reservation.objects.get(lead=first).released_at is not None
    assert Reservation.objects.get(lead=second).released_at is None
    unit.refresh_from_db()
    assert unit.status == UnitStatus.RESERVED


def _negotiating(n: int):
    return LeadFactory(stage=LeadStage.NEGOTIATING, credit_code=make_credit_code(n))


def test_a_unit_whose_hold_expired_yesterday_can_be_signed_before_the_nightly_release():
    # given another promoter's hold on the unit that ran out yesterday, not yet released by the job
    unit = UnitFactory()
    holder, signer = _negotiating(1), _negotiating(2)
    stale = unit_reserve(lead=holder, unit=unit, expires_on=TODAY)
    Reservation.objects.filter(pk=stale.pk).update(expires_on=TODAY - dt.timedelta(days=1))

    signing = signing_complete(lead=signer, building=unit.building, units=[unit], signed_on=TODAY)

    # then the signing holds the unit, and the stale hold was closed in the same transaction
    assert list(signing.units.all()) == [unit]
    unit.refresh_from_db()
    stale.refresh_from_db()
    assert unit.status == UnitStatus.LEASED
    assert stale.released_at is not None
    assert reservations_expire(today=TODAY) == 0  # nothing left for the nightly job


def test_a_hold_expiring_today_still_blocks_another_promoters_signing():
    # a hold runs to the end of its expiry date; the unit is offered to others from the next day
    unit = UnitFactory()
    holder, signer = _negotiating(3), _negotiating(4)
    hold = unit_reserve(lead=holder, unit=unit, expires_on=TODAY)

    with pytest.raises(ValidationError) as exc:
        signing_complete(lead=signer, building=unit.building, units=[unit], signed_on=TODAY)

    assert unit.number in " ".join(exc.value.message_dict["units"])
    hold.refresh_from_db()
    unit.refresh_from_db()
    assert (hold.released_at, unit.status) == (None, UnitStatus.RESERVED)
    assert not Signing.objects.exists()
    signer.refresh_from_db()
    assert signer.stage == LeadStage.NEGOTIATING


def test_the_holder_signs_its_own_held_unit():
    unit = UnitFactory()
    holder = _negotiating(5)
    hold = unit_reserve(lead=holder, unit=unit, expires_on=TODAY + dt.timedelta(days=5))

    signing_complete(lead=holder, building=unit.building, units=[unit], signed_on=TODAY)

    hold.refresh_from_db()
    unit.refresh_from_db()
    assert hold.released_at is not None and unit.status == UnitStatus.LEASED


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


def test_a_hold_is_live_through_its_expiry_day_and_not_after_or_once_released():
    # given holds on three units: expiring today, expired yesterday (not yet released), released
    lead = LeadFactory(stage=LeadStage.NEGOTIATING)
    today_, yesterday, released = (
        unit_reserve(lead=lead, unit=UnitFactory(), expires_on=TODAY) for _ in "abc"
    )
    Reservation.objects.filter(pk=yesterday.pk).update(expires_on=TODAY - dt.timedelta(days=1))
    reservation_release(reservation=released)
    # then only today's is live; yesterday's is lapsed, awaiting release
    assert list(reservations_live().values_list("pk", flat=True)) == [today_.pk]
    assert list(reservations_lapsed().values_list("pk", flat=True)) == [yesterday.pk]
    # and on the day after, today's has lapsed as well
    tomorrow = TODAY + dt.timedelta(days=1)
    assert not reservations_live(today=tomorrow).exists()

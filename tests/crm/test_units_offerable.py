"""A held unit is not offered to other leads; the holder still sees it; an expired hold frees it."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.constants import LeadStage, UnitStatus
from crm.models import Reservation
from crm.selectors.units import units_offerable
from crm.services.reservations import unit_reserve
from tests.factories import LeadFactory, UnitFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()  # the district's date, as the selector's


def test_held_units_are_offered_only_to_their_holder():
    vacant, held = UnitFactory(), UnitFactory()
    UnitFactory(status=UnitStatus.LEASED)
    holder, other = LeadFactory(stage=LeadStage.NEGOTIATING), LeadFactory(stage=LeadStage.NEGOTIATING)
    unit_reserve(lead=holder, unit=held, expires_on=TODAY + dt.timedelta(days=3))

    assert set(units_offerable(lead=other)) == {vacant}
    assert set(units_offerable(lead=holder)) == {vacant, held}
    assert set(units_offerable()) == {vacant}


def test_an_expired_hold_is_offered_again_before_it_is_released():
    held = UnitFactory()
    holder = LeadFactory(stage=LeadStage.NEGOTIATING)
    unit_reserve(lead=holder, unit=held, expires_on=TODAY)
    Reservation.objects.update(expires_on=TODAY - dt.timedelta(days=1))

    assert set(units_offerable(lead=LeadFactory())) == {held}


def test_a_hold_is_live_through_its_expiry_date_and_not_a_day_more():
    held = UnitFactory()
    unit_reserve(lead=LeadFactory(stage=LeadStage.NEGOTIATING), unit=held, expires_on=TODAY)
    other = LeadFactory()

    assert set(units_offerable(lead=other, today=TODAY)) == set()
    assert set(units_offerable(lead=other, today=TODAY + dt.timedelta(days=1))) == {held}


def test_only_a_live_hold_of_the_lead_itself_reads_as_held_for_it():
    # given one unit the lead holds until tomorrow, one its own hold left yesterday, one another
    # lead's lapsed hold left, all three still marked reserved, and a vacant one
    lead, other = LeadFactory(stage=LeadStage.NEGOTIATING), LeadFactory(stage=LeadStage.NEGOTIATING)
    live, own_lapsed, others_lapsed, vacant = UnitFactory(), UnitFactory(), UnitFactory(), UnitFactory()
    unit_reserve(lead=lead, unit=live, expires_on=TODAY + dt.timedelta(days=1))
    unit_reserve(lead=lead, unit=own_lapsed, expires_on=TODAY)
    unit_reserve(lead=other, unit=others_lapsed, expires_on=TODAY)
    Reservation.objects.filter(unit__in=[own_lapsed, others_lapsed]).update(
        expires_on=TODAY - dt.timedelta(days=1)
    )

    # when
    held = dict(units_offerable(lead=lead).values_list("pk", "held_for_lead"))

    # then all four are offered, and only the live one is held for the lead
    assert held == {live.pk: True, own_lapsed.pk: False, others_lapsed.pk: False, vacant.pk: False}

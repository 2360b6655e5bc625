"""A unit's status and availability set by hand, and holding an offer's units together."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.constants import LeadStage, UnitStatus
from crm.models import Reservation, Unit
from crm.services.reservations import unit_reserve, units_reserve
from crm.services.tenancies import tenancy_create
from crm.services.units import unit_update
from tests.factories import BuildingFactory, EnterpriseFactory, LeadFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def test_a_vacant_unit_becomes_self_used_with_its_date_and_the_change_is_audited():
    # given
    unit = UnitFactory()
    manager = UserFactory(role="building_manager")

    # when
    unit_update(unit=unit, status=UnitStatus.SELF_USED, available_from=dt.date(2027, 3, 1), by=manager)

    # then
    unit.refresh_from_db()
    assert (unit.status, unit.available_from) == (UnitStatus.SELF_USED, dt.date(2027, 3, 1))
    assert unit.history.latest().history_user == manager


@pytest.mark.parametrize("status", [UnitStatus.RESERVED, UnitStatus.LEASED])
def test_reserved_and_leased_cannot_be_set_by_hand(status):
    # given
    unit = UnitFactory()

    # when
    with pytest.raises(ValidationError) as exc:
        unit_update(unit=unit, status=status, available_from=None)

    # then
    assert "status" in exc.value.message_dict
    unit.refresh_from_db()
    assert unit.status == UnitStatus.VACANT


def test_a_unit_under_a_live_hold_is_given_back_by_releasing_the_hold():
    # given
    unit = UnitFactory()
    unit_reserve(
        lead=LeadFactory(stage=LeadStage.NEGOTIATING), unit=unit, expires_on=TODAY + dt.timedelta(days=5)
    )

    # when
    with pytest.raises(ValidationError) as exc:
        unit_update(unit=unit, status=UnitStatus.VACANT, available_from=None)

    # then
    assert "释放" in " ".join(exc.value.message_dict["status"])
    unit.refresh_from_db()
    assert unit.status == UnitStatus.RESERVED


def test_a_unit_whose_hold_lapsed_can_be_set_and_the_hold_is_closed():
    # given: a hold that ran out yesterday, not yet released by the nightly job
    unit = UnitFactory()
    hold = unit_reserve(lead=LeadFactory(stage=LeadStage.NEGOTIATING), unit=unit, expires_on=TODAY)
    Reservation.objects.filter(pk=hold.pk).update(expires_on=TODAY - dt.timedelta(days=1))

    # when
    unit_update(unit=unit, status=UnitStatus.UNAVAILABLE, available_from=None)

    # then
    hold.refresh_from_db()
    unit.refresh_from_db()
    assert hold.released_at is not None
    assert unit.status == UnitStatus.UNAVAILABLE


def test_a_unit_let_under_a_running_tenancy_keeps_its_status():
    # given
    building = BuildingFactory()
    unit = UnitFactory(building=building)
    tenancy_create(enterprise=EnterpriseFactory(), building=building, start=dt.date(2024, 1, 1), units=[unit])

    # when
    with pytest.raises(ValidationError) as exc:
        unit_update(unit=unit, status=UnitStatus.VACANT, available_from=None)

    # then
    assert "status" in exc.value.message_dict
    assert Unit.objects.get(pk=unit.pk).status == UnitStatus.LEASED


def test_a_unit_whose_tenancy_ended_can_be_let_again():
    # given: a tenancy that ended last year
    building = BuildingFactory()
    unit = UnitFactory(building=building)
    tenancy_create(
        enterprise=EnterpriseFactory(),
        building=building,
        start=dt.date(2020, 1, 1),
        end=TODAY - dt.timedelta(days=365),
        units=[unit],
    )

    # when
    unit_update(unit=unit, status=UnitStatus.VACANT, available_from=TODAY)

    # then
    assert Unit.objects.get(pk=unit.pk).status == UnitStatus.VACANT


def test_an_offers_units_are_held_together_or_not_at_all():
    # given: of two units, the second is already held for another lead
    building = BuildingFactory()
    free, taken = UnitFactory(building=building), UnitFactory(building=building)
    other = LeadFactory(stage=LeadStage.NEGOTIATING)
    unit_reserve(lead=other, unit=taken, expires_on=TODAY + dt.timedelta(days=3))
    lead = LeadFactory(stage=LeadStage.NEGOTIATING)

    # when
    with pytest.raises(ValidationError):
        units_reserve(lead=lead, units=[free, taken], expires_on=TODAY + dt.timedelta(days=7))

    # then: the free unit was not held either
    assert not Reservation.objects.filter(lead=lead).exists()
    assert Unit.objects.get(pk=free.pk).status == UnitStatus.VACANT


def test_an_offers_units_are_held_until_one_expiry():
    # given
    building = BuildingFactory()
    first, second = UnitFactory(building=building), UnitFactory(building=building)
    lead = LeadFactory(stage=LeadStage.NEGOTIATING)
    expiry = TODAY + dt.timedelta(days=7)

    # when
    held = units_reserve(lead=lead, units=[second, first], expires_on=expiry)

    # then
    assert [h.unit_id for h in held] == sorted([first.pk, second.pk])
    assert {h.expires_on for h in held} == {expiry}

"""Signing a lead: enterprise, tenancy, leased units, stage; never two tenancies on one unit at once."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from crm.constants import LeadStage, UnitStatus
from crm.models import Enterprise, Lead, Signing, Tenancy, TenancyUnit
from crm.services.leads import lead_entry_exception_approve, lead_update
from crm.services.reservations import unit_reserve
from crm.services.signings import signing_complete
from crm.services.tenancies import tenancy_create, tenancy_end
from tests.factories import (
    BuildingFactory,
    EnterpriseFactory,
    LeadFactory,
    TenancyFactory,
    UnitFactory,
    UserFactory,
    make_credit_code,
)


def _negotiating_lead(n: int) -> Lead:
    return LeadFactory(stage=LeadStage.NEGOTIATING, credit_code=make_credit_code(900 + n))


@pytest.mark.django_db
def test_signing_creates_the_enterprise_and_tenancy_leases_the_units_and_signs_the_lead():
    # given a negotiating lead and two vacant units of 120 and 80 m²
    building = BuildingFactory()
    units = [
        UnitFactory(building=building, area_m2=Decimal("120")),
        UnitFactory(building=building, area_m2=80),
    ]
    lead = _negotiating_lead(1)

    # when
    signing = signing_complete(
        lead=lead, building=building, units=units, signed_on=dt.date(2026, 3, 1), rent=Decimal("2.80")
    )

    # then the tenancy covers 120 + 80 = 200 m² from the signing date
    tenancy = signing.tenancy
    assert (tenancy.area_m2, tenancy.start, tenancy.end) == (Decimal("200"), dt.date(2026, 3, 1), None)
    assert tenancy.enterprise.credit_code == lead.credit_code
    assert tenancy.enterprise.name == lead.company_name
    assert {u.status for u in type(units[0]).objects.filter(pk__in=[u.pk for u in units])} == {
        UnitStatus.LEASED
    }
    lead.refresh_from_db()
    assert lead.stage == LeadStage.SIGNED
    assert lead.version == 2


@pytest.mark.django_db
def test_signing_links_an_existing_enterprise_by_credit_code():
    lead = _negotiating_lead(2)
    existing = EnterpriseFactory(credit_code=lead.credit_code, name="老企业")
    unit = UnitFactory()

    signing = signing_complete(lead=lead, building=unit.building, units=[unit], signed_on=dt.date(2026, 1, 5))

    assert signing.enterprise == existing
    assert Enterprise.objects.count() == 1


@pytest.mark.django_db
def test_a_leased_unit_cannot_be_signed_and_nothing_is_written():
    unit = UnitFactory(status=UnitStatus.LEASED)
    lead = _negotiating_lead(3)

    with pytest.raises(ValidationError) as exc:
        signing_complete(lead=lead, building=unit.building, units=[unit], signed_on=dt.date(2026, 1, 5))

    assert "units" in exc.value.message_dict
    lead.refresh_from_db()
    assert lead.stage == LeadStage.NEGOTIATING
    assert not Enterprise.objects.exists() and not Tenancy.objects.exists() and not Signing.objects.exists()


@pytest.mark.django_db
def test_a_unit_held_for_another_lead_cannot_be_signed_but_the_holder_can_sign_it():
    unit = UnitFactory()
    holder, other = _negotiating_lead(4), _negotiating_lead(5)
    unit_reserve(lead=holder, unit=unit, expires_on=dt.date.today() + dt.timedelta(days=14))
    unit.refresh_from_db()

    with pytest.raises(ValidationError):
        signing_complete(lead=other, building=unit.building, units=[unit], signed_on=dt.date.today())
    signing = signing_complete(lead=holder, building=unit.building, units=[unit], signed_on=dt.date.today())

    assert signing.lead == holder
    assert holder.reservations.get().released_at is not None


@pytest.mark.django_db
def test_only_a_negotiating_lead_signs():
    unit = UnitFactory()
    lead = LeadFactory(stage=LeadStage.VISITING, credit_code=make_credit_code(6))

    with pytest.raises(ValidationError) as exc:
        signing_complete(lead=lead, building=unit.building, units=[unit], signed_on=dt.date.today())

    assert "only a lead in negotiation can sign" in " ".join(exc.value.message_dict["stage"])


@pytest.mark.django_db
def test_signing_needs_a_credit_code():
    unit = UnitFactory()
    lead = LeadFactory(stage=LeadStage.NEGOTIATING, credit_code="")

    with pytest.raises(ValidationError) as exc:
        signing_complete(lead=lead, building=unit.building, units=[unit], signed_on=dt.date.today())

    assert "credit_code" in exc.value.message_dict


@pytest.mark.django_db
def test_an_overlapping_tenancy_on_a_unit_is_refused_with_the_tenant_named():
    # given the unit is let to 甲 from 2024-01-01 to 2025-12-31
    unit = UnitFactory()
    tenancy_create(
        enterprise=EnterpriseFactory(name="甲公司"),
        building=unit.building,
        units=[unit],
        start=dt.date(2024, 1, 1),
        end=dt.date(2025, 12, 31),
    )

    # when 乙 wants it from 2025-12-31 (one day of overlap)
    with pytest.raises(ValidationError) as exc:
        tenancy_create(
            enterprise=EnterpriseFactory(), building=unit.building, units=[unit], start=dt.date(2025, 12, 31)
        )

    # then refused; from 2026-01-01 on it is free
    assert "甲公司" in " ".join(exc.value.message_dict["units"])
    later = tenancy_create(
        enterprise=EnterpriseFactory(), building=unit.building, units=[unit], start=dt.date(2026, 1, 1)
    )
    assert later.area_m2 == unit.area_m2


@pytest.mark.django_db
def test_a_unit_of_another_building_is_refused():
    unit = UnitFactory()

    with pytest.raises(ValidationError) as exc:
        tenancy_create(
            enterprise=EnterpriseFactory(),
            building=BuildingFactory(),
            units=[unit],
            start=dt.date(2026, 1, 1),
        )

    assert "units" in exc.value.message_dict


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_itself_refuses_overlapping_unit_links():
    unit = UnitFactory()
    first = TenancyFactory(building=unit.building, start=dt.date(2024, 1, 1), end=None)
    second = TenancyFactory(building=unit.building, start=dt.date(2025, 1, 1), end=None)
    TenancyUnit.objects.create(tenancy=first, unit=unit, start=first.start, end=None)

    with pytest.raises(IntegrityError), transaction.atomic():
        TenancyUnit.objects.create(tenancy=second, unit=unit, start=second.start, end=None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_signings_of_one_unit_exactly_one_wins():
    # given two negotiating leads and one vacant unit
    unit = UnitFactory()
    leads = [_negotiating_lead(10), _negotiating_lead(11)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sign(lead: Lead) -> None:
        try:
            barrier.wait(timeout=10)
            signing_complete(lead=lead, building=unit.building, units=[unit], signed_on=dt.date(2026, 2, 1))
            outcomes.append("signed")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    # when both sign at the same moment in two threads (two database connections)
    threads = [threading.Thread(target=sign, args=(lead,)) for lead in leads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then exactly one wins and the unit has exactly one tenancy
    assert sorted(outcomes) == ["refused", "signed"]
    assert TenancyUnit.objects.filter(unit=unit).count() == 1
    assert Lead.objects.filter(stage=LeadStage.SIGNED).count() == 1


@pytest.mark.django_db
def test_ending_a_tenancy_frees_its_units_after_the_end_and_allows_a_new_one():
    # given a unit let from 2024-01-01, open-ended
    unit = UnitFactory()
    tenancy = tenancy_create(
        enterprise=EnterpriseFactory(), building=unit.building, units=[unit], start=dt.date(2024, 1, 1)
    )

    # when the tenant moves out on 2025-06-30
    tenancy_end(tenancy=tenancy, end=dt.date(2025, 6, 30))

    # then the unit is vacant and can be let from 2025-07-01 but not from 2025-06-30
    unit.refresh_from_db()
    assert unit.status == UnitStatus.VACANT
    assert TenancyUnit.objects.get(tenancy=tenancy).end == dt.date(2025, 6, 30)
    with pytest.raises(ValidationError):
        tenancy_create(
            enterprise=EnterpriseFactory(), building=unit.building, units=[unit], start=dt.date(2025, 6, 30)
        )
    tenancy_create(
        enterprise=EnterpriseFactory(), building=unit.building, units=[unit], start=dt.date(2025, 7, 1)
    )


@pytest.mark.django_db
def test_a_tenancy_cannot_end_before_it_starts():
    tenancy = TenancyFactory(start=dt.date(2024, 5, 1))

    with pytest.raises(ValidationError) as exc:
        tenancy_end(tenancy=tenancy, end=dt.date(2024, 4, 30))

    assert "end" in exc.value.message_dict


# ---------------------------------------------------------------------------- the entry threshold


@pytest.mark.django_db
def test_a_lead_that_will_not_pay_tax_here_signs_only_with_the_districts_approval():
    # given a lead that will register and settle here but pay its tax elsewhere
    unit = UnitFactory()
    lead = _negotiating_lead(40)
    Lead.objects.filter(pk=lead.pk).update(pays_tax_in_district=False)
    lead.refresh_from_db()

    # when it signs without approval
    with pytest.raises(ValidationError) as exc:
        signing_complete(lead=lead, building=unit.building, units=[unit], signed_on=dt.date(2026, 1, 5))

    # then: a field-level refusal, and nothing written
    assert list(exc.value.message_dict) == ["pays_tax_in_district"]
    assert "区内纳税" in exc.value.message_dict["pays_tax_in_district"][0]
    assert not Signing.objects.exists() and not Enterprise.objects.exists()
    lead.refresh_from_db()
    assert lead.stage == LeadStage.NEGOTIATING

    # when the district office approves the exception, then it signs
    office = UserFactory(role="district_admin")
    approved = lead_entry_exception_approve(lead=lead, by=office)
    assert approved.entry_exception_approved_by == office
    signing = signing_complete(
        lead=approved, building=unit.building, units=[unit], signed_on=dt.date(2026, 1, 5)
    )
    # the enterprise settles here as the lead said; it is registered only once the records say so
    assert (signing.enterprise.registered_in_district, signing.enterprise.settles_in_district) == (
        False,
        True,
    )


@pytest.mark.django_db
def test_a_lead_meeting_the_threshold_has_nothing_to_approve():
    lead = _negotiating_lead(41)

    with pytest.raises(ValidationError) as exc:
        lead_entry_exception_approve(lead=lead, by=UserFactory(role="district_admin"))

    assert "registers_in_district" in exc.value.message_dict
    lead.refresh_from_db()
    assert lead.entry_exception_approved_at is None


@pytest.mark.django_db
def test_changing_the_intentions_asks_for_approval_again():
    # given an approved exception for a lead that will not register here
    lead = _negotiating_lead(42)
    lead = lead_update(lead=lead, registers_in_district=False)
    lead = lead_entry_exception_approve(lead=lead, by=UserFactory(role="district_admin"))
    assert not lead.entry_needs_approval

    # when it now will not settle accounts here either
    lead = lead_update(lead=lead, settles_in_district=False)

    # then the approval is gone, and the audit history holds each step
    assert lead.entry_needs_approval
    steps = [
        (h.registers_in_district, h.settles_in_district, h.entry_exception_approved_at is not None)
        for h in lead.history.order_by("history_date", "history_id")
    ]
    assert steps[-3:] == [(False, True, False), (False, True, True), (False, False, False)]

"""Signing a lead: enterprise, tenancy, leased units and the lead's stage in one transaction."""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from crm.constants import LeadStage, UnitStatus
from crm.credit_code import credit_code_error
from crm.models import Building, Enterprise, Lead, Promoter, Reservation, Signing, Unit
from crm.selectors.reservations import reservations_lapsed, reservations_live
from crm.services.common import attribute_to, invalid, lock_rows
from crm.services.dispatch import SIGNING_COMPLETED, dispatch
from crm.services.leads import ENTRY_INTENTIONS, lead_claim_version, lead_record_stage
from crm.services.reservations import reservation_mark_released
from crm.services.tenancies import tenancy_create
from policies.services import commitment_record


def missing_field(lead: Lead) -> str:
    """The first of the entry intentions the lead lacks, for a field-level error."""
    return next(f for f in ENTRY_INTENTIONS if not getattr(lead, f))


def _enterprise_for(lead: Lead, by) -> Enterprise:
    if not lead.credit_code:
        raise invalid("credit_code", "签约须有统一社会信用代码 / signing needs the company's credit code")
    error = credit_code_error(lead.credit_code)
    if error:
        raise invalid("credit_code", error)
    enterprise = Enterprise.objects.filter(credit_code=lead.credit_code).first()
    if enterprise is None:
        enterprise = Enterprise(
            credit_code=lead.credit_code,
            name=lead.company_name,
            industry=lead.industry,
            is_headquarters=lead.is_headquarters,
            employees=lead.employees,
            business_scope=lead.business_scope,
            # What the lead said it would do, until the district's records say otherwise.
            registered_in_district=lead.registers_in_district,
            settles_in_district=lead.settles_in_district,
        )
        enterprise.full_clean()
        attribute_to(enterprise, by)
        enterprise.save()
    return enterprise


def _live_holds(locked: Sequence[Unit], by) -> dict[int, int]:
    """The lead holding each locked unit under a live hold.

    A hold stops blocking at its expiry, not when the nightly job gets to it: an expired one is
    released here, under the units' locks, so the unit is vacant again for this signing.
    """
    today = timezone.localdate()
    units = {unit.pk: unit for unit in locked}
    for reservation in reservations_lapsed(today=today).select_for_update().filter(unit__in=list(units)):
        reservation_mark_released(reservation, units[reservation.unit_id], by)
    live = reservations_live(today=today).filter(unit__in=list(units))
    return dict(live.values_list("unit_id", "lead_id"))


@transaction.atomic
def signing_complete(
    *,
    lead: Lead,
    building: Building,
    units: Sequence[Unit],
    signed_on: dt.date,
    rent: Decimal | None = None,
    area_m2: Decimal | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    signed_by: Promoter | None = None,
    by=None,
) -> Signing:
    """Sign a negotiating lead into units of one building.

    Exactly one of two concurrent signings of the same unit wins: the units are locked in pk
    order and re-checked under the lock, and PostgreSQL's exclusion constraint backs it up.
    """
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.stage != LeadStage.NEGOTIATING:
        raise invalid(
            "stage",
            f"只有谈判中的线索可以签约(当前:{LeadStage(lead.stage).label})/ "
            f"only a lead in negotiation can sign (it is {lead.stage})",
        )
    if lead.entry_needs_approval:
        missing = [
            label
            for field, label in (
                ("registers_in_district", "区内注册 register"),
                ("settles_in_district", "区内结算 settle accounts"),
                ("pays_tax_in_district", "区内纳税 pay tax"),
            )
            if not getattr(lead, field)
        ]
        raise invalid(
            missing_field(lead),
            f"该企业不拟{'、'.join(missing)},签约须经区楼宇办批准准入例外 / "
            f"the company does not intend to {', '.join(missing)} here: signing needs the district's "
            "approval of the exception",
        )
    if not units and area_m2 is None:
        raise invalid("units", "请选择签约房源 / choose the units signed")
    if rent is not None and rent < 0:
        raise invalid("rent", f"租金不能为负数,实为 {rent} / the rent must not be negative, got {rent}")
    locked = lock_rows(Unit, [u.pk for u in units])
    held = _live_holds(locked, by)
    for unit in locked:
        free = unit.status == UnitStatus.VACANT and unit.pk not in held
        held_for_us = unit.status == UnitStatus.RESERVED and held.get(unit.pk) == lead.pk
        if not (free or held_for_us):
            raise invalid(
                "units",
                f"房源 {unit.number} 不可签约(状态:{unit.get_status_display()})/ "
                f"unit {unit.number} cannot be signed: it is {unit.status}",
            )
    enterprise = _enterprise_for(lead, by)
    tenancy = tenancy_create(
        enterprise=enterprise,
        building=building,
        start=start or signed_on,
        end=end,
        units=locked,
        area_m2=area_m2,
        by=by,
    )
    signing = Signing(
        lead=lead,
        building=building,
        enterprise=enterprise,
        tenancy=tenancy,
        area_m2=tenancy.area_m2,
        rent=rent,
        signed_on=signed_on,
        signed_by=signed_by or lead.owner,
    )
    signing.full_clean()
    attribute_to(signing, by)
    signing.save()
    signing.units.set(locked)
    # The lead's other holds go back to the market.
    for reservation in Reservation.objects.filter(lead=lead, released_at__isnull=True).select_related("unit"):
        reservation_mark_released(reservation, reservation.unit, by)
    lead_claim_version(lead, None)
    lead_record_stage(lead=lead, to_stage=LeadStage.SIGNED, by=by, at=timezone.now())
    commitment_record(signing=signing, by=by)
    dispatch(SIGNING_COMPLETED, signing_id=signing.pk)
    return signing

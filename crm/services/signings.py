"""Signing a lead (enterprise, tenancy, leased units and the lead's stage in one transaction), then
verifying it settled or cancelling it."""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.constants import LeadStage, Role, UnitStatus
from crm.credit_code import credit_code_error
from crm.models import Building, Enterprise, Lead, Promoter, Reservation, Signing, TaxRecord, Tenancy, Unit
from crm.roles import user_role
from crm.selectors.reservations import reservations_lapsed, reservations_live
from crm.services.common import attribute_to, invalid, lock_rows
from crm.services.dispatch import SIGNING_COMPLETED, dispatch
from crm.services.leads import ENTRY_INTENTIONS, lead_claim_version, lead_record_stage
from crm.services.reservations import reservation_mark_released
from crm.services.tenancies import tenancy_create, tenancy_end
from crm.validators import unsafe_text_error
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
            # Registration is a record, not an intention: the company is marked registered in the
            # district when the records say so (an import, the admin), and only then can the signing
            # be verified settled (settlement_gaps). Settling accounts is taken as intended.
            registered_in_district=False,
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


# ------------------------------------------------------------------ verified outcome and cancellation

REASON_MAX_LENGTH = 300  # Signing.settle_override_reason and Signing.cancel_reason


def _month_number(day: dt.date) -> int:
    return day.year * 12 + day.month


def settlement_gaps(signing: Signing) -> list[str]:
    """What the district's records still lack for the signing to count as settled (已入驻).

    The enterprise must be marked registered in the district under the signing's credit code, and a
    tax record of a month from the tenancy's start on must have arrived (a yearly total counts as
    December's, as in the appraisal's first-year tax): the tax the district had before the move does
    not prove this signing.
    """
    gaps = []
    enterprise = Enterprise.objects.get(pk=signing.enterprise_id)
    if not enterprise.registered_in_district:
        gaps.append(
            f"企业 {enterprise.credit_code} 尚未登记为区内注册 / "
            f"enterprise {enterprise.credit_code} is not registered in the district"
        )
    start = _month_number(signing.tenancy.start)
    months = TaxRecord.objects.filter(enterprise=enterprise).values_list("year", "month")
    if not any(year * 12 + (month or 12) >= start for year, month in months):
        since = f"{signing.tenancy.start:%Y-%m}"
        gaps.append(f"自 {since} 起尚无税收记录 / no tax record since {since}")
    return gaps


def _reason(text: str, field: str) -> str:
    text = (text or "").strip()
    error = unsafe_text_error(text, max_length=REASON_MAX_LENGTH)
    if error:
        raise invalid(field, error)
    return text


def _lock_signing(signing: Signing, *, settled_ok: bool = False) -> Signing:
    signing = Signing.objects.select_for_update().select_related("tenancy").get(pk=signing.pk)
    if signing.cancelled_at is not None:
        raise invalid("signing", "该签约已取消 / this signing was cancelled")
    if signing.settled_at is not None and not settled_ok:
        raise invalid("signing", "该签约已核验入驻 / this signing is already settled")
    return signing


def _is_district_admin(user) -> bool:
    return getattr(user, "is_authenticated", False) and user_role(user) == Role.DISTRICT_ADMIN


@transaction.atomic
def signing_settle(
    *, signing: Signing, by=None, override_reason: str = "", at: dt.datetime | None = None
) -> Signing:
    """Mark a signing settled: verified by the district's records, or a district admin's override.

    Without a reason the records decide (any user who may work the lead may ask); with one, only a
    district admin may settle despite the gaps, and the reason is kept on the row. `at` backdates
    the verification (records of past periods); the pages and the API leave it to now.
    """
    reason = _reason(override_reason, "override_reason")
    if reason and not _is_district_admin(by):
        raise invalid("override_reason", "仅区楼宇办可以人工核定入驻 / only the district office may override")
    lead = Lead.objects.select_for_update().get(pk=signing.lead_id)
    signing = _lock_signing(signing)
    gaps = settlement_gaps(signing)
    if gaps and not reason:
        # One message a gap: each is bilingual, and the API and pages pick each one's language.
        raise ValidationError({"settled": gaps})
    signing.settled_at = at or timezone.now()
    signing.settled_by = by if getattr(by, "is_authenticated", False) else None
    signing.settle_override_reason = reason if gaps else ""
    attribute_to(signing, by)
    signing.save(update_fields=["settled_at", "settled_by", "settle_override_reason"])
    if lead.stage == LeadStage.SIGNED:
        lead_claim_version(lead, None)
        lead_record_stage(lead=lead, to_stage=LeadStage.SETTLED, by=by, reason=reason, at=signing.settled_at)
    dispatch(SIGNING_COMPLETED, signing_id=signing.pk)
    return signing


def _release_units(tenancy: Tenancy, by) -> None:
    """End the tenancy now: one already begun ends yesterday, one not yet begun gives its units back."""
    today = timezone.localdate()
    if tenancy.start < today:
        tenancy_end(tenancy=tenancy, end=today - dt.timedelta(days=1), by=by)
        return
    locked = lock_rows(Unit, tenancy.unit_links.values_list("unit_id", flat=True))
    tenancy.end = tenancy.start
    attribute_to(tenancy, by)
    tenancy.save(update_fields=["end"])
    # The company never moved in: its unit periods go, so the units can be let from the same day.
    tenancy.unit_links.all().delete()
    for unit in locked:
        if (
            unit.status == UnitStatus.LEASED
            and not unit.tenancy_links.filter(Q(end__isnull=True) | Q(end__gte=today)).exists()
        ):
            unit.status = UnitStatus.VACANT
            attribute_to(unit, by)
            unit.save(update_fields=["status"])


@transaction.atomic
def signing_cancel(*, signing: Signing, reason: str, by=None) -> Signing:
    """A district admin cancels a signing that fell through, settled or not.

    Its units are released (the tenancy ends), the lead is lost with the reason, and the signing
    leaves the appraisal and the commitment schedule (both read only signings that are not
    cancelled). A settled signing loses its verification as well, so the periods it counted in as a
    result are reversed too; the signing's history keeps when and by whom it had been verified.
    """
    if not _is_district_admin(by):
        raise invalid("reason", "仅区楼宇办可以取消签约 / only the district office may cancel a signing")
    reason = _reason(reason, "reason")
    if not reason:
        raise invalid("reason", "取消签约须填写原因 / cancelling a signing needs a reason")
    lead = Lead.objects.select_for_update().get(pk=signing.lead_id)
    signing = _lock_signing(signing, settled_ok=True)
    was_settled_at = signing.settled_at
    signing.cancelled_at = timezone.now()
    signing.cancelled_by = by if getattr(by, "is_authenticated", False) else None
    signing.cancel_reason = reason
    # A verified outcome is never also a cancelled one (signing_not_settled_and_cancelled).
    signing.settled_at = None
    signing.settled_by = None
    signing.settle_override_reason = ""
    attribute_to(signing, by)
    signing.save(
        update_fields=[
            "cancelled_at",
            "cancelled_by",
            "cancel_reason",
            "settled_at",
            "settled_by",
            "settle_override_reason",
        ]
    )
    _release_units(signing.tenancy, by)
    others = Signing.objects.filter(lead=lead, cancelled_at__isnull=True).exclude(pk=signing.pk)
    if lead.stage in (LeadStage.SIGNED, LeadStage.SETTLED) and not others.exists():
        lead_claim_version(lead, None)
        prefix = "已入驻签约取消" if was_settled_at else "签约取消"
        lead_record_stage(
            lead=lead,
            to_stage=LeadStage.LOST,
            by=by,
            reason=f"{prefix}:{reason}"[:REASON_MAX_LENGTH],
            at=signing.cancelled_at,
        )
    if was_settled_at is not None:
        unsettled_on = timezone.localdate(was_settled_at).isoformat()
        dispatch(SIGNING_COMPLETED, signing_id=signing.pk, unsettled_on=unsettled_on)
    else:
        dispatch(SIGNING_COMPLETED, signing_id=signing.pk)
    return signing

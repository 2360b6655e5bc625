"""The only writers of policies: create and edit with validation, case-by-case approval,
commitments recorded at signing; and the what-if calculator the API and pages expose."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm.constants import Role
from crm.models import Building, BusinessCircle, Industry, Lead, Signing, Street
from crm.roles import user_role
from crm.services.common import attribute_to, invalid
from crm.validators import unsafe_text_error
from policies.adapter import evaluate_building, offer_for_lead, profile_from_lead
from policies.engine import Evaluation, Offer, Profile, Scope
from policies.engine.amounts import yuan_text
from policies.engine.schedule import agreement_period
from policies.engine.terms import PARAMETERS, REFERRER
from policies.models import (
    ApprovalStatus,
    Benefit,
    Commitment,
    CommitmentLine,
    CommitmentPayment,
    DistrictPolicySettings,
    Policy,
)

# What policy_update may change; approval has its own services.
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "description",
        "scope",
        "street",
        "business_circle",
        "building",
        "valid_from",
        "valid_to",
        "active",
        "priority",
        "stacking_group",
        "condition",
        "calendar_years",
    }
)
# A change to any of these alters what an approved case-by-case package promises: approve it again.
TERMS_FIELDS = frozenset(
    {
        "scope",
        "street",
        "business_circle",
        "building",
        "valid_from",
        "valid_to",
        "condition",
        "stacking_group",
        "calendar_years",
    }
)
BENEFIT_KEYS = frozenset({"kind", *PARAMETERS})


def _benefit_rows(policy: Policy, benefits: Sequence[Mapping[str, Any]]) -> list[Benefit]:
    """Benefit rows checked one by one; every problem of every benefit in one error."""
    if not benefits:
        raise invalid("benefits", "政策至少须有一项福利 / a policy needs at least one benefit")
    rows, messages = [], []
    for number, data in enumerate(benefits, start=1):
        unknown = sorted(set(data) - BENEFIT_KEYS)
        if unknown:
            messages.append(
                f"第{number}项福利:未知参数 {', '.join(unknown)} / benefit {number}: unknown parameter "
                f"{', '.join(unknown)} (allowed: {', '.join(sorted(BENEFIT_KEYS))})"
            )
            continue
        values = {}
        for name in PARAMETERS:
            value = data.get(name)
            if value is not None and name not in ("months", "years"):
                try:
                    value = Decimal(str(value))
                except InvalidOperation:
                    messages.append(
                        f"第{number}项福利:{name} 不是数字 / benefit {number}: {name} is not a number"
                    )
                    continue
            values[name] = value
        # str(): an enum member is stored as its value whatever the database driver makes of enums.
        benefit = Benefit(policy=policy, kind=str(data.get("kind", "")), **values)
        try:
            benefit.full_clean(exclude=["policy"])
        except ValidationError as error:
            for field, field_messages in error.message_dict.items():
                for message in field_messages:
                    messages.append(
                        f"第{number}项福利 {field}:{message} / benefit {number} {field}: {message}"
                    )
        rows.append(benefit)
    if messages:
        raise ValidationError({"benefits": messages})
    return rows


def _save_benefits(policy: Policy, rows: list[Benefit], by) -> None:
    for row in rows:
        row.policy = policy
        attribute_to(row, by)
        row.save()


def _policy_save_new(policy: Policy, benefits: Sequence[Mapping[str, Any]], by) -> Policy:
    """Check the policy and its benefits together, so one refusal lists every problem and stores nothing."""
    errors: dict[str, list[str]] = {}
    try:
        policy.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        rows = _benefit_rows(policy, benefits)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    attribute_to(policy, by)
    policy.save()
    _save_benefits(policy, rows, by)
    return policy


@transaction.atomic
def policy_create(
    *,
    name: str,
    valid_from: dt.date,
    benefits: Sequence[Mapping[str, Any]],
    scope: str = Scope.DISTRICT.value,
    street: Street | None = None,
    business_circle: BusinessCircle | None = None,
    building: Building | None = None,
    valid_to: dt.date | None = None,
    condition: str = "",
    active: bool = True,
    priority: int = 0,
    stacking_group: str = "",
    description: str = "",
    calendar_years: bool = False,
    by=None,
) -> Policy:
    """A new policy with its benefits; everything is checked first, so a refusal stores nothing."""
    policy = Policy(
        name=name,
        description=description,
        scope=str(scope),
        street=street,
        business_circle=business_circle,
        building=building,
        valid_from=valid_from,
        valid_to=valid_to,
        condition=condition.strip(),
        active=active,
        priority=priority,
        stacking_group=stacking_group.strip(),
        calendar_years=calendar_years,
    )
    return _policy_save_new(policy, benefits, by)


@transaction.atomic
def policy_update(
    *, policy: Policy, benefits: Sequence[Mapping[str, Any]] | None = None, by=None, **changes: Any
) -> Policy:
    """Change a policy's fields and, when given, replace its benefits.

    Changing the terms of an approved case-by-case package sends it back for approval: what the
    district approved is not what it would now promise.
    """
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    if unknown:
        raise invalid(
            unknown[0], f"不可修改的字段 {', '.join(unknown)} / fields that cannot be changed: {unknown}"
        )
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    terms_changed = False
    for field, value in changes.items():
        if field in ("condition", "stacking_group", "scope") and isinstance(value, str):
            value = str(value).strip()
        if getattr(policy, field) != value:
            terms_changed |= field in TERMS_FIELDS
            setattr(policy, field, value)
    errors: dict[str, list[str]] = {}
    try:
        policy.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    rows = None
    if benefits is not None:
        try:
            rows = _benefit_rows(policy, benefits)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    # Rows are replaced only when they differ, so that the history shows real changes only.
    benefits_changed = rows is not None and sorted(map(benefit_key, policy.benefits.all())) != sorted(
        map(benefit_key, rows)
    )
    terms_changed |= benefits_changed
    if terms_changed:
        _reopen_approval(policy)
    attribute_to(policy, by)
    policy.save()
    if benefits_changed:
        for old in policy.benefits.all():
            attribute_to(old, by)
            old.delete()
        _save_benefits(policy, rows, by)
    return policy


def benefit_key(benefit: Benefit) -> tuple:
    """A benefit's kind and parameters, comparable whatever the decimals' trailing zeros."""
    values = [getattr(benefit, name) for name in PARAMETERS]
    return (str(benefit.kind), *("" if v is None else str(Decimal(v).normalize()) for v in values))


def _reopen_approval(policy: Policy) -> None:
    if policy.needs_approval and policy.approval_status != ApprovalStatus.PENDING:
        policy.approval_status = ApprovalStatus.PENDING
        policy.reviewed_by = None
        policy.reviewed_at = None
        policy.review_note = ""


def case_by_case_refusal(lead: Lead) -> str | None:
    """Why `lead` cannot get a negotiated package, or None when it can."""
    if not lead.case_by_case:
        return f"线索 {lead.ref} 未标记为一事一议 / lead {lead.ref} is not flagged case-by-case"
    return None


@transaction.atomic
def case_by_case_propose(
    *,
    lead: Lead,
    building: Building,
    name: str,
    benefits: Sequence[Mapping[str, Any]],
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    condition: str = "",
    description: str = "",
    priority: int = 100,
    stacking_group: str = "",
    by,
) -> Policy:
    """Negotiated terms (一事一议) for one lead in one building, waiting for a district admin's approval."""
    refusal = case_by_case_refusal(lead)
    if refusal:
        raise invalid("lead", refusal)
    if by is None or not getattr(by, "is_authenticated", False):
        raise invalid("proposed_by", "须记录提议人 / the proposer must be recorded")
    policy = Policy(
        name=name,
        description=description,
        scope=Scope.BUILDING.value,
        building=building,
        valid_from=valid_from,
        valid_to=valid_to,
        condition=condition.strip(),
        priority=priority,
        stacking_group=stacking_group.strip(),
        needs_approval=True,
        approval_status=ApprovalStatus.PENDING,
        lead=lead,
        proposed_by=by,
        proposed_at=timezone.now(),
    )
    return _policy_save_new(policy, benefits, by)


def _review(policy: Policy, by, status: str, note: str) -> Policy:
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if not policy.needs_approval:
        raise invalid("approval_status", "此政策无需审批 / this policy needs no approval")
    if policy.approval_status != ApprovalStatus.PENDING:
        raise invalid(
            "approval_status",
            f"只能审批待审批的政策(当前:{policy.get_approval_status_display()})/ "
            f"only a pending policy can be reviewed (it is {policy.approval_status})",
        )
    if user_role(by) != Role.DISTRICT_ADMIN:
        raise invalid("reviewed_by", "只有区楼宇办管理员可以审批 / only a district admin can review")
    if policy.proposed_by_id is not None and policy.proposed_by_id == by.pk:
        raise invalid(
            "reviewed_by", "提议人不能审批自己的提议 / the proposer cannot review their own proposal"
        )
    policy.approval_status = status
    policy.reviewed_by = by
    policy.reviewed_at = timezone.now()
    policy.review_note = note
    policy.full_clean()
    attribute_to(policy, by)
    policy.save()
    return policy


@transaction.atomic
def policy_approve(*, policy: Policy, by, note: str = "") -> Policy:
    """A district admin approves a pending case-by-case package; from now on it applies to its lead."""
    return _review(policy, by, ApprovalStatus.APPROVED, note)


@transaction.atomic
def policy_reject(*, policy: Policy, by, note: str) -> Policy:
    """A district admin turns a pending package down, saying why."""
    if not note.strip():
        raise invalid("review_note", "驳回须说明理由 / a rejection needs a reason")
    return _review(policy, by, ApprovalStatus.REJECTED, note.strip())


@transaction.atomic
def district_settings_update(*, tax_retained_share: Decimal, by=None):
    """Set the district-retained share of tax that tax rewards are computed on."""
    row = DistrictPolicySettings.objects.select_for_update().filter(pk=1).first() or DistrictPolicySettings(
        pk=1
    )
    row.tax_retained_share = Decimal(str(tax_retained_share))
    row.full_clean()
    attribute_to(row, by)
    row.save()
    return row


def _signing_offer(signing: Signing) -> Offer:
    rent = signing.rent
    if rent is None:
        rents = [u.asking_rent for u in signing.units.all() if u.asking_rent is not None]
        rent = sum(rents) / len(rents) if rents else None
    return Offer(
        area_m2=float(signing.area_m2),
        on=signing.signed_on,
        rent_per_m2_day=None if rent is None else float(rent),
    )


@transaction.atomic
def commitment_record(*, signing: Signing, by=None) -> Commitment:  # noqa: ARG001 - uniform signature
    """Store what the district promises for a completed signing, as evaluated on the signing date.

    The snapshot and its yearly lines are copies: editing or deleting a policy later leaves them
    as they were, so the district can total its promises per year, per building and per policy.
    """
    lead = Lead.objects.select_related("industry", "referred_by").get(pk=signing.lead_id)
    offer = _signing_offer(signing)
    profile = profile_from_lead(lead)
    evaluation = evaluate_building(profile=profile, offer=offer, building=signing.building)
    snapshot = {
        "profile": {
            "industry_section": profile.industry_section,
            "industry_division": profile.industry_division,
            "expected_annual_tax": profile.expected_annual_tax,
            "employees": profile.employees,
            "is_headquarters": profile.is_headquarters,
            "registers_in_district": profile.registers_in_district,
            "settles_in_district": profile.settles_in_district,
            "pays_tax_in_district": profile.pays_tax_in_district,
            "lead_id": profile.lead_id,
            "referred": profile.referred,
        },
        "referred_by": lead.referred_by.credit_code if lead.referred_by_id else None,
        "evaluation": evaluation.to_dict(),
    }
    commitment = Commitment.objects.create(
        signing=signing,
        building_id=signing.building_id,
        evaluated_on=offer.on,
        total_yuan=evaluation.total,
        tax_retained_share=Decimal(str(evaluation.tax_retained_share)),
        snapshot=snapshot,
    )
    # The schedule runs by year of the agreement, from the day the tenancy starts (the signing's
    # date unless a later start was agreed), or by calendar year where the policy says so.
    start = signing.tenancy.start if signing.tenancy_id else signing.signed_on
    calendar_policies = set(
        Policy.objects.filter(
            pk__in=[outcome.policy_id for outcome in evaluation.applied], calendar_years=True
        ).values_list("pk", flat=True)
    )
    lines = []
    for outcome in evaluation.applied:
        for benefit in outcome.benefits:
            for index, amount in enumerate(benefit.all_years, start=1):
                if amount <= 0:
                    continue
                first, last = agreement_period(
                    start, index, calendar_years=outcome.policy_id in calendar_policies
                )
                lines.append(
                    CommitmentLine(
                        commitment=commitment,
                        policy_id=outcome.policy_id,
                        policy_name=outcome.name,
                        benefit_kind=benefit.kind,
                        beneficiary=benefit.beneficiary,
                        # A referral reward pays only with a referrer (the engine gives 0 without).
                        referrer=lead.referred_by if benefit.beneficiary == REFERRER else None,
                        year_index=index,
                        year=first.year,
                        period_start=first,
                        period_end=last,
                        amount_yuan=amount,
                    )
                )
    CommitmentLine.objects.bulk_create(lines)
    return commitment


# ------------------------------------------------------------------ the schedule: payments and withholding

NOTE_MAX_LENGTH = 300  # CommitmentPayment.note and CommitmentLine.withheld_reason


def _office_only(by, field: str) -> None:
    if not (getattr(by, "is_authenticated", False) and user_role(by) == Role.DISTRICT_ADMIN):
        raise invalid(field, "仅区楼宇办可以登记兑现 / only the district office records what is paid")


def _text(value: str, field: str) -> str:
    value = (value or "").strip()
    error = unsafe_text_error(value, max_length=NOTE_MAX_LENGTH)
    if error:
        raise invalid(field, error)
    return value


def _lock_line(line: CommitmentLine) -> CommitmentLine:
    return CommitmentLine.objects.select_for_update().select_related("commitment__signing").get(pk=line.pk)


def commitment_line_paid(line: CommitmentLine) -> Decimal:
    """What has been paid against one period so far."""
    return sum(line.payments.values_list("amount_yuan", flat=True), Decimal(0))


@transaction.atomic
def commitment_payment_record(
    *,
    line: CommitmentLine,
    amount_yuan: Decimal,
    paid_on: dt.date,
    note: str = "",
    by=None,
) -> CommitmentPayment:
    """Record that the district paid `amount_yuan` on `paid_on` against one period of a schedule.

    Only the district office records payments; a period of a cancelled signing, a withheld one, one
    not yet begun, a payment dated in the future or more than is still owed are refused field by
    field. The period's row is locked, so two payments recorded at once cannot overpay it.
    """
    _office_only(by, "amount_yuan")
    note = _text(note, "note")
    line = _lock_line(line)
    if line.commitment.signing.cancelled_at is not None:
        raise invalid("line", "该签约已取消,承诺不再兑现 / the signing was cancelled: nothing more is owed")
    if line.withheld_at is not None:
        raise invalid("line", "该期承诺已暂缓兑现 / this period is withheld")
    try:
        amount = Decimal(str(amount_yuan))
    except (InvalidOperation, ValueError):
        raise invalid("amount_yuan", f"不是金额: {amount_yuan} / not an amount: {amount_yuan}") from None
    if not amount.is_finite() or amount <= 0:
        raise invalid("amount_yuan", f"金额须大于0: {amount_yuan} / the amount must be greater than 0")
    if amount != amount.quantize(Decimal("0.01")):
        raise invalid("amount_yuan", f"最多 2 位小数: {amount_yuan} / at most 2 decimal places")
    owed = line.amount_yuan - commitment_line_paid(line)
    if amount > owed:
        shown = yuan_text(owed)
        raise invalid(
            "amount_yuan",
            f"超过该期尚未兑现的 {shown} 元 / more than the {shown} yuan still owed for this period",
        )
    if paid_on > timezone.localdate():
        raise invalid("paid_on", "支付日期不能晚于今天 / the payment date cannot be in the future")
    if paid_on < line.period_start:
        raise invalid(
            "paid_on",
            f"该期自 {line.period_start} 开始,不能提前兑现 / the period begins on {line.period_start}",
        )
    payment = CommitmentPayment(
        line=line,
        paid_on=paid_on,
        amount_yuan=amount,
        note=note,
        recorded_by=by,
        recorded_at=timezone.now(),
    )
    payment.full_clean()
    attribute_to(payment, by)
    payment.save()
    return payment


@transaction.atomic
def commitment_line_withhold(*, line: CommitmentLine, reason: str, by=None) -> CommitmentLine:
    """The district withholds one period (the company did not meet the policy's terms), with a reason.

    What was already paid stays recorded; a fully paid period cannot be withheld.
    """
    _office_only(by, "reason")
    reason = _text(reason, "reason")
    if not reason:
        raise invalid("reason", "暂缓兑现须填写原因 / withholding needs a reason")
    line = _lock_line(line)
    if line.withheld_at is not None:
        raise invalid("line", "该期承诺已暂缓兑现 / this period is withheld already")
    if commitment_line_paid(line) >= line.amount_yuan:
        raise invalid("line", "该期承诺已全部兑现 / this period is paid in full")
    line.withheld_at = timezone.now()
    line.withheld_by = by
    line.withheld_reason = reason
    line.full_clean()
    attribute_to(line, by)
    line.save(update_fields=["withheld_at", "withheld_by", "withheld_reason"])
    return line


def profile_build(
    *,
    industry_code: str = "",
    expected_annual_tax: Decimal | float = 0,
    employees: int = 0,
    is_headquarters: bool = False,
    registers_in_district: bool = True,
    settles_in_district: bool = True,
    pays_tax_in_district: bool = True,
    referred: bool = False,
    lead: Lead | None = None,
) -> Profile:
    """An applicant profile from plain input (the what-if form); industry: a section or a division code;
    `referred`: a tenant referred the applicant (以商招商), so referral rewards count."""
    section = division = ""
    if industry_code:
        industry = Industry.objects.filter(
            code=industry_code.strip().upper(), level__in=["section", "division"]
        ).first()
        if industry is None:
            raise invalid(
                "industry_code",
                f"未知行业代码 {industry_code}(应为门类字母或两位大类代码)/ "
                f"unknown industry code {industry_code}",
            )
        section = industry.section
        division = industry.code if industry.level == "division" else ""
    if Decimal(str(expected_annual_tax)) < 0:
        raise invalid("expected_annual_tax", "预计年纳税不能为负 / expected annual tax cannot be negative")
    if employees < 0:
        raise invalid("employees", "员工人数不能为负 / headcount cannot be negative")
    return Profile(
        industry_section=section,
        industry_division=division,
        expected_annual_tax=float(expected_annual_tax),
        employees=float(employees),
        is_headquarters=is_headquarters,
        registers_in_district=registers_in_district,
        settles_in_district=settles_in_district,
        pays_tax_in_district=pays_tax_in_district,
        lead_id=lead.pk if lead is not None else None,
        referred=referred,
    )


def policy_what_if(*, profile: Profile, building: Building, offer: Offer) -> Evaluation:
    """The what-if calculator: what this applicant would get in this building for this offer."""
    if offer.area_m2 <= 0:
        raise invalid("area_m2", "面积必须大于0 / area must be greater than 0")
    if offer.rent_per_m2_day is not None and offer.rent_per_m2_day < 0:
        raise invalid("rent_per_m2_day", "租金不能为负 / rent cannot be negative")
    return evaluate_building(profile=profile, offer=offer, building=building)


def lead_what_if(
    *,
    lead: Lead,
    building: Building,
    on: dt.date | None = None,
    area_m2: float | None = None,
    rent_per_m2_day: float | None = None,
) -> Evaluation:
    """What a lead would get in a building: its profile, its area (or the one given), today by default."""
    on = on or timezone.localdate()
    offer = offer_for_lead(lead, on=on, rent_per_m2_day=rent_per_m2_day)
    if area_m2 is not None:
        offer = Offer(area_m2=float(area_m2), on=on, rent_per_m2_day=rent_per_m2_day)
    return policy_what_if(profile=profile_from_lead(lead), building=building, offer=offer)

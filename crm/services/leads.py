"""Creating and changing leads: the 撞单 protection rule, stage edges, optimistic versions."""

import datetime as dt
import secrets
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from crm.constants import LEAD_TRANSITIONS, OPEN_STAGES, LeadChannel, LeadStage, Role
from crm.credit_code import normalise_credit_code
from crm.models import Agency, Enterprise, Industry, Lead, Promoter, StageChange, Street
from crm.names import normalise_company_name
from crm.roles import user_role
from crm.services.common import attribute_to, invalid, lock_key
from crm.services.webhooks import webhooks_lead_stage_changed
from crm.validators import unsafe_text_error

REASON_MAX_LENGTH = 300  # Lead.lost_reason and StageChange.reason
# A company's facts as a promoter or agency gives them, in leads.csv's order (docs/import-format.md).
LEAD_FACTS = (
    "company_name",
    "credit_code",
    "industry",
    "business_scope",
    "contact_name",
    "contact_phone",
    "lawful_basis",
    "area_min_m2",
    "area_max_m2",
    "budget_rent",
    "expected_annual_tax",
    "employees",
    "is_headquarters",
    "preferred_streets",
    "desired_move_in",
    "registers_in_district",
    "settles_in_district",
    "pays_tax_in_district",
)
# The plan's entry threshold (四(1)): a lead intends to register, settle accounts and pay tax here.
ENTRY_INTENTIONS = ("registers_in_district", "settles_in_district", "pays_tax_in_district")
# Fields a lead_update may change (the preferred streets apart: a set, not a column); stage and owner
# history have their own services.
EDITABLE_FIELDS = (frozenset(LEAD_FACTS) - {"preferred_streets"}) | {
    "channel",
    "owner",
    "case_by_case",
    "referred_by",
}


def _new_ref(now: dt.datetime) -> str:
    return f"L{now:%y%m%d}-{secrets.token_hex(3).upper()}"


def _same_company(credit_code: str, company_name: str) -> Q:
    same_company = Q(normalised_name=normalise_company_name(company_name))
    if credit_code:
        same_company |= Q(credit_code=credit_code)
    return same_company


def protection_until(lead: Lead) -> dt.date:
    """The last day of the lead's protection: LEAD_PROTECTION_DAYS from its last activity."""
    return timezone.localtime(lead.last_activity_at).date() + dt.timedelta(days=settings.LEAD_PROTECTION_DAYS)


def lead_protection_conflict(
    *, credit_code: str, company_name: str, exclude: Lead | None = None
) -> Lead | None:
    """The open lead that holds this company inside its protection period, if any (撞单).

    One rule for every channel: whoever holds the open lead (a promoter, an agency's claim not yet
    assigned, an imported row) holds the company for LEAD_PROTECTION_DAYS from the lead's last
    activity, and no company is twice in the open pipeline, so the same promoter registering it
    again is refused too.
    """
    since = timezone.now() - dt.timedelta(days=settings.LEAD_PROTECTION_DAYS)
    candidates = Lead.objects.filter(
        _same_company(credit_code, company_name), stage__in=OPEN_STAGES, last_activity_at__gte=since
    ).select_related("owner", "agency")
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    return candidates.order_by("last_activity_at").first()


def lapsed_leads(*, credit_code: str, company_name: str, exclude: Lead | None = None) -> list[Lead]:
    """Open leads for this company whose protection has run out: a new registration takes them over."""
    since = timezone.now() - dt.timedelta(days=settings.LEAD_PROTECTION_DAYS)
    rows = Lead.objects.filter(
        _same_company(credit_code, company_name), stage__in=OPEN_STAGES, last_activity_at__lt=since
    )
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    return list(rows.select_for_update().order_by("pk"))


def holder_description(holder: Lead) -> tuple[str, str]:
    """Who holds a company, in Chinese and English: a promoter by name; an agency's claim never by
    whose (agencies' referrals are confidential among them)."""
    if holder.owner_id:
        return f"招商人员 {holder.owner.name} 跟进", f"worked by promoter {holder.owner.name}"
    return "中介机构报备", "claimed by an agency"


def _refuse_if_protected(lead: Lead, exclude: Lead | None) -> list[Lead]:
    """Refuse the company while another open lead's protection holds it; return the open leads whose
    protection lapsed, for the caller to close once this lead is saved."""
    # Serialise checks for one company so two registrations of it at once cannot both pass.
    lock_key("lead-company", lead.normalised_name)
    if lead.credit_code:
        lock_key("lead-company", lead.credit_code)
    holder = lead_protection_conflict(
        credit_code=lead.credit_code, company_name=lead.company_name, exclude=exclude
    )
    if holder is None:
        return lapsed_leads(credit_code=lead.credit_code, company_name=lead.company_name, exclude=exclude)
    until = protection_until(holder)
    field = "credit_code" if lead.credit_code and holder.credit_code == lead.credit_code else "company_name"
    zh, en = holder_description(holder)
    raise invalid(
        field,
        f"该企业已由{zh}(线索 {holder.ref}),保护期至 {until:%Y-%m-%d}"
        f"({settings.LEAD_PROTECTION_DAYS} 天自最近跟进起算) / "
        f"this company is already {en} (lead {holder.ref}), "
        f"protected until {until:%Y-%m-%d} ({settings.LEAD_PROTECTION_DAYS} days from their last activity)",
    )


def _close_lapsed(lapsed: list[Lead], taken_by: Lead, by) -> None:
    """Lose each lapsed lead to the new registration, so the company is open only once."""
    for old in lapsed:
        lead_claim_version(old, None)
        lead_record_stage(
            lead=old,
            to_stage=LeadStage.LOST,
            by=by,
            reason=f"保护期已过,由线索 {taken_by.ref} 重新登记 / protection lapsed: now lead {taken_by.ref}",
        )


def _industry(code: str | None) -> Industry | None:
    if not code:
        return None
    industry = Industry.objects.filter(code=code, level="division").first()
    if industry is None:
        raise invalid("industry", f"未知行业代码 {code}(应为两位大类代码)/ unknown industry code {code}")
    return industry


@transaction.atomic
def lead_create(
    *,
    company_name: str,
    channel: str,
    by=None,
    owner: Promoter | None = None,
    agency: Agency | None = None,
    credit_code: str = "",
    industry: str | None = None,
    business_scope: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    lawful_basis: str = "",
    area_min_m2: Decimal | None = None,
    area_max_m2: Decimal | None = None,
    budget_rent: Decimal | None = None,
    expected_annual_tax: Decimal | None = None,
    employees: int | None = None,
    is_headquarters: bool = False,
    preferred_streets: Iterable[Street] = (),
    desired_move_in: dt.date | None = None,
    registers_in_district: bool = True,
    settles_in_district: bool = True,
    pays_tax_in_district: bool = True,
    case_by_case: bool = False,
    referred_by: Enterprise | None = None,
    ref: str | None = None,
    created_at: dt.datetime | None = None,
) -> Lead:
    """Register a prospective company, refusing it while another promoter's protection holds it."""
    now = created_at or timezone.now()
    lead = Lead(
        ref=ref or _new_ref(now),
        company_name=(company_name or "").strip(),
        normalised_name=normalise_company_name(company_name),
        credit_code=normalise_credit_code(credit_code),
        industry=_industry(industry),
        business_scope=business_scope,
        contact_name=contact_name,
        contact_phone=contact_phone,
        lawful_basis=lawful_basis,
        lawful_basis_recorded_at=now if lawful_basis else None,
        area_min_m2=area_min_m2,
        area_max_m2=area_max_m2,
        budget_rent=budget_rent,
        expected_annual_tax=expected_annual_tax,
        employees=employees,
        is_headquarters=is_headquarters,
        desired_move_in=desired_move_in,
        registers_in_district=registers_in_district,
        settles_in_district=settles_in_district,
        pays_tax_in_district=pays_tax_in_district,
        channel=channel,
        owner=owner,
        agency=agency,
        case_by_case=case_by_case,
        referred_by=referred_by,
        stage=LeadStage.NEW,
        created_at=now,
        last_activity_at=now,
    )
    errors = _problems(lead, _check_area_range, _check_lawful_basis, _check_channel, _check_referrer)
    lapsed = []
    try:
        lapsed = _refuse_if_protected(lead, exclude=None)
    except ValidationError as error:
        _gather(errors, error)
    if errors:
        raise ValidationError(errors)
    attribute_to(lead, by)
    lead.save()
    lead.preferred_streets.set(list(preferred_streets))
    _close_lapsed(lapsed, lead, by)
    return lead


def _problems(lead: Lead, *checks) -> dict[str, list[str]]:
    """Every check's and the model's own validation's problems, to refuse with all of them at once
    (a form then shows the area range and the credit code together, not one per submit). A field a
    check already reported is left out of full_clean, which would only repeat it by constraint name."""
    errors: dict[str, list[str]] = {}
    for check in checks:
        try:
            check(lead)
        except ValidationError as error:
            _gather(errors, error)
    try:
        lead.full_clean(exclude=["normalised_name", *errors])
    except ValidationError as error:
        _gather(errors, error)
    return errors


def _gather(errors: dict[str, list[str]], error: ValidationError) -> None:
    for field, messages in error.message_dict.items():
        known = errors.setdefault(field, [])
        known.extend(m for m in messages if m not in known)


def _check_channel(lead: Lead) -> None:
    # "Through an agency" names the agency: without one the lead would count for no agency's referrals
    # and for no promoter's own work, a way to claim the agency channel's credit in the appraisal.
    if lead.channel == LeadChannel.AGENCY and not lead.agency_id:
        raise invalid(
            "channel",
            "渠道为中介机构时须有提交的机构 / the agency channel needs the agency that referred the lead",
        )


def _check_referrer(lead: Lead) -> None:
    # 以商招商: a tenant refers a company, and the referral may earn it a reward at signing, so the
    # referrer is named only on a tenant-referral lead, and a company cannot refer itself.
    referrer = lead.referred_by
    if referrer is None:
        return
    if lead.channel != LeadChannel.TENANT_REFERRAL:
        raise invalid(
            "referred_by",
            "只有以商招商渠道的线索有推荐企业 / only a tenant-referral lead names a referring tenant",
        )
    if lead.credit_code and referrer.credit_code == lead.credit_code:
        raise invalid("referred_by", "企业不能推荐自己 / a company cannot refer itself")
    if not referrer.tenancies.exists():
        raise invalid(
            "referred_by",
            f"{referrer.name} 不是区内楼宇的租户 / {referrer.name} is no tenant of the district's buildings",
        )


def referrer_by_credit_code(credit_code: str) -> Enterprise:
    """The tenant a promoter names as the referrer of a lead, by its credit code (pages, API, import).

    Promoters see no enterprise rows (crm.selectors.scope); naming one by the code they were given
    reveals nothing the code does not, so this lookup answers only "which tenant has this code".
    """
    code = normalise_credit_code(credit_code)
    referrer = Enterprise.objects.filter(credit_code=code).first() if code else None
    if referrer is None:
        raise invalid(
            "referred_by",
            f"没有统一社会信用代码为 {credit_code} 的企业 / no enterprise with credit code {credit_code}",
        )
    return referrer


LAWFUL_BASIS_NEEDED = "填写联系人信息须注明个人信息处理依据 / a contact person's data needs its lawful basis"


def contact_lacks_lawful_basis(*, contact_name: str, contact_phone: str, lawful_basis: str) -> bool:
    """Whether a contact person is entered without the basis for processing their data (PIPL;
    docs/privacy.md): the one rule of the pages, the API, the admin and the district import."""
    return bool((contact_name or "").strip() or (contact_phone or "").strip()) and not lawful_basis


def _check_lawful_basis(lead: Lead) -> None:
    if contact_lacks_lawful_basis(
        contact_name=lead.contact_name, contact_phone=lead.contact_phone, lawful_basis=lead.lawful_basis
    ):
        raise invalid("lawful_basis", LAWFUL_BASIS_NEEDED)


def _check_area_range(lead: Lead) -> None:
    # full_clean reports constraint names; promoters need the field and the numbers. Every problem
    # is reported, each under its own field.
    errors: dict[str, list[str]] = {}
    for field in ("area_min_m2", "area_max_m2"):
        value = getattr(lead, field)
        if value is not None and value <= 0:
            errors[field] = [f"面积必须大于0,实为 {value} / the area must be greater than 0, not {value}"]
    low, high = lead.area_min_m2, lead.area_max_m2
    if not errors and low is not None and high is not None and low > high:
        errors["area_max_m2"] = [
            f"最大面积 {high}㎡ 小于最小面积 {low}㎡ / "
            f"the largest area, {high} m², is below the smallest, {low} m²"
        ]
    # A negative budget or tax would rank and forecast as if it were a real figure.
    for field in ("budget_rent", "expected_annual_tax"):
        value = getattr(lead, field)
        if value is not None and value < 0:
            errors[field] = [f"不能为负数,实为 {value} / must not be negative, got {value}"]
    if errors:
        raise ValidationError(errors)


def lead_claim_version(lead: Lead, expected_version: int | None) -> None:
    """Bump the version only if nobody else wrote since the caller read it (optimistic concurrency)."""
    rows = Lead.objects.filter(pk=lead.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    if rows.update(version=F("version") + 1) == 0:
        raise LeadVersionConflict(lead.pk, expected_version)
    lead.refresh_from_db(fields=["version"])


class LeadVersionConflict(Exception):
    """The lead changed since the caller read it; the API answers 409/412."""

    def __init__(self, lead_id: int, expected: int | None):
        super().__init__(f"lead {lead_id} is no longer at version {expected}")
        self.lead_id = lead_id
        self.expected = expected


@transaction.atomic
def lead_update(*, lead: Lead, by=None, expected_version: int | None = None, **changes) -> Lead:
    """Change a lead's facts; company identity changes are re-checked against the protection rule."""
    unknown = set(changes) - EDITABLE_FIELDS - {"preferred_streets"}
    if unknown:
        raise invalid(sorted(unknown)[0], "该字段不可修改 / this field cannot be changed here")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    streets = changes.pop("preferred_streets", None)
    if "industry" in changes and not isinstance(changes["industry"], Industry | None):
        changes["industry"] = _industry(changes["industry"])
    if "credit_code" in changes:
        changes["credit_code"] = normalise_credit_code(changes["credit_code"])
    identity_changed = any(
        changes.get(f, getattr(lead, f)) != getattr(lead, f) for f in ("company_name", "credit_code")
    )
    if lead.owner_id and changes.get("owner", lead.owner) != lead.owner:
        # Assigning an unowned lead (an agency's claim) is an edit; taking it from its owner is not.
        raise invalid(
            "owner", "改派须由区楼宇办说明原因 / reassigning an owned lead needs the office and a reason"
        )
    if "lawful_basis" in changes and changes["lawful_basis"] != lead.lawful_basis:
        lead.lawful_basis_recorded_at = timezone.now() if changes["lawful_basis"] else None
    intentions_changed = any(changes.get(f, getattr(lead, f)) != getattr(lead, f) for f in ENTRY_INTENTIONS)
    for field, value in changes.items():
        setattr(lead, field, value)
    if intentions_changed:
        # An approved exception was for the intentions as they stood; changed ones are asked again.
        lead.entry_exception_approved_at = None
        lead.entry_exception_approved_by = None
    lead.normalised_name = normalise_company_name(lead.company_name)
    _check_area_range(lead)
    if "channel" in changes:
        _check_channel(lead)
    if changes.keys() & {"channel", "referred_by", "credit_code"}:
        _check_referrer(lead)
    if changes.keys() & {"contact_name", "contact_phone", "lawful_basis"}:
        _check_lawful_basis(lead)
    lead.full_clean(exclude=["normalised_name"])
    lapsed = []
    if identity_changed and lead.is_open:
        lapsed = _refuse_if_protected(lead, exclude=lead)
    lead_claim_version(lead, expected_version)
    attribute_to(lead, by)
    lead.save()
    _close_lapsed(lapsed, lead, by)
    if streets is not None:
        lead.preferred_streets.set(list(streets))
    return lead


def _stage_error(lead: Lead, to_stage: str) -> str | None:
    if to_stage not in LeadStage.values:
        return f"未知阶段 {to_stage} / unknown stage {to_stage}"
    allowed = LEAD_TRANSITIONS[lead.stage]
    if to_stage not in allowed:
        names = ", ".join(sorted(allowed)) or "—"
        return (
            f"不能从 {LeadStage(lead.stage).label} 变更为 {LeadStage(to_stage).label} / "
            f"cannot move from {lead.stage} to {to_stage}; allowed: {names}"
        )
    return None


@transaction.atomic
def lead_transition(
    *,
    lead: Lead,
    to_stage: str,
    by=None,
    reason: str = "",
    expected_version: int | None = None,
    at: dt.datetime | None = None,
) -> Lead:
    """Move a lead along one allowed edge; losing it needs a reason, signing goes through signing_complete."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    error = _stage_error(lead, to_stage)
    if error:
        raise invalid("stage", error)
    if to_stage == LeadStage.SIGNED:
        raise invalid("stage", "签约请通过签约登记完成 / a lead is signed by recording its signing")
    if to_stage == LeadStage.SETTLED:
        raise invalid(
            "stage",
            "入驻须经核验(区内注册且首笔税收已到账,或区楼宇办说明理由核定)/ "
            "a signing settles once verified (registered here, first tax in) or by the office's override",
        )
    if lead.stage in (LeadStage.SIGNED, LeadStage.SETTLED):
        raise invalid(
            "stage", "已签约的线索请通过取消签约并说明原因 / a signed lead is lost by cancelling its signing"
        )
    reason = (reason or "").strip()
    # The pages' board sends the reason without a form: the service holds the rule for every caller.
    reason_error = unsafe_text_error(reason, max_length=REASON_MAX_LENGTH)
    if reason_error:
        raise invalid("reason", reason_error)
    if to_stage == LeadStage.LOST and not reason:
        raise invalid("reason", "流失须填写原因 / a lost lead needs a reason")
    lapsed = []
    if lead.stage == LeadStage.LOST:
        # Reopening is registering the company again: another lead's protection may hold it now.
        lapsed = _refuse_if_protected(lead, exclude=lead)
    lead_claim_version(lead, expected_version)
    lead_record_stage(lead=lead, to_stage=to_stage, by=by, reason=reason, at=at)
    _close_lapsed(lapsed, lead, by)
    return lead


def lead_record_stage(*, lead: Lead, to_stage: str, by=None, reason: str = "", at=None) -> None:
    """Write a stage change and its log row; callers hold the lead's row lock and have checked the edge."""
    change = StageChange.objects.create(
        lead=lead,
        from_stage=Lead.objects.values_list("stage", flat=True).get(pk=lead.pk),
        to_stage=to_stage,
        reason=reason,
        changed_by=by if getattr(by, "is_authenticated", False) else None,
        changed_at=at or timezone.now(),
    )
    lead.stage = to_stage
    lead.lost_reason = reason if to_stage == LeadStage.LOST else ""
    attribute_to(lead, by)
    lead.save(update_fields=["stage", "lost_reason", "updated_at"])
    webhooks_lead_stage_changed(lead=lead, change=change)


@transaction.atomic
def lead_entry_exception_approve(*, lead: Lead, by) -> Lead:
    """The district approves signing a lead that does not intend all three of register, settle
    accounts and pay tax here (the plan's entry threshold), as it approves a case-by-case term."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.meets_entry_threshold:
        raise invalid(
            "registers_in_district",
            "该线索已满足准入门槛(区内注册、结算、纳税),无需批准 / "
            "this lead meets the entry threshold (register, settle, pay tax here): nothing to approve",
        )
    if not lead.is_open:
        raise invalid(
            "stage", "只有未结束的线索可以批准准入例外 / only an open lead's exception can be approved"
        )
    lead.entry_exception_approved_at = timezone.now()
    lead.entry_exception_approved_by = by if getattr(by, "is_authenticated", False) else None
    lead_claim_version(lead, None)
    attribute_to(lead, by)
    lead.save(update_fields=["entry_exception_approved_at", "entry_exception_approved_by", "updated_at"])
    return lead


@transaction.atomic
def lead_reassign(*, lead: Lead, owner: Promoter, reason: str, by) -> Lead:
    """The district office gives a lead to another promoter, saying why (audited in its history).

    The office's decision is not a new registration: the protection rule does not apply to it.
    """
    if not (getattr(by, "is_authenticated", False) and user_role(by) == Role.DISTRICT_ADMIN):
        raise invalid("owner", "仅区楼宇办可以改派线索 / only the district office reassigns leads")
    reason = (reason or "").strip()
    reason_error = unsafe_text_error(reason, max_length=REASON_MAX_LENGTH)
    if reason_error:
        raise invalid("reason", reason_error)
    if not reason:
        raise invalid("reason", "改派须填写原因 / reassigning needs a reason")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if not lead.is_open:
        raise invalid("owner", "只有未结束的线索可以改派 / only an open lead can be reassigned")
    if not owner.active:
        raise invalid("owner", f"招商人员 {owner.name} 已停用 / promoter {owner.name} is inactive")
    if owner.pk == lead.owner_id:
        raise invalid("owner", f"线索已由 {owner.name} 负责 / {owner.name} already owns this lead")
    lead.owner = owner
    # The new owner's protection starts now, as if they had just worked the lead.
    lead.last_activity_at = timezone.now()
    lead_claim_version(lead, None)
    attribute_to(lead, by)
    lead._change_reason = f"改派 / reassigned: {reason}"
    lead.save(update_fields=["owner", "last_activity_at", "updated_at"])
    return lead

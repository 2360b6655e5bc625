"""Between the database and the pure evaluator: load policies, buildings and applicants as plain data.

Loading is a constant number of queries however many buildings are asked about: the buildings (1),
the district setting (1), the policies in force for them (1) and those policies' benefits (1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from crm.models import Building, Lead
from policies.engine import (
    BatchEvaluation,
    BenefitKind,
    BenefitTerms,
    BuildingFacts,
    Evaluation,
    Offer,
    PolicyBook,
    PolicyTerms,
    Profile,
    Scope,
)
from policies.models import (
    DEFAULT_TAX_RETAINED_SHARE,
    ApprovalStatus,
    Benefit,
    DistrictPolicySettings,
    Policy,
)


def tax_retained_share() -> float:
    """The district-retained share of a company's tax (one query; 0.4 until the office sets it)."""
    share = DistrictPolicySettings.objects.filter(pk=1).values_list("tax_retained_share", flat=True).first()
    return float(share if share is not None else DEFAULT_TAX_RETAINED_SHARE)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def benefit_terms(benefit: Benefit) -> BenefitTerms:
    return BenefitTerms(
        kind=BenefitKind(benefit.kind),
        percent=_float(benefit.percent),
        months=benefit.months,
        years=benefit.years,
        yuan_per_m2=_float(benefit.yuan_per_m2),
        amount_yuan=_float(benefit.amount_yuan),
        cap_yuan=_float(benefit.cap_yuan),
        yearly_cap_yuan=_float(benefit.yearly_cap_yuan),
        id=benefit.pk,
    )


def policy_terms(policy: Policy) -> PolicyTerms:
    """A policy row (with its benefits prefetched) as the evaluator's plain terms."""
    scope = Scope(policy.scope)
    scope_id = {
        Scope.DISTRICT: None,
        Scope.STREET: policy.street_id,
        Scope.BUSINESS_CIRCLE: policy.business_circle_id,
        Scope.BUILDING: policy.building_id,
    }[scope]
    return PolicyTerms(
        id=policy.pk,
        name=policy.name,
        scope=scope,
        scope_id=scope_id,
        valid_from=policy.valid_from,
        valid_to=policy.valid_to,
        benefits=tuple(benefit_terms(b) for b in policy.benefits.all()),
        condition=policy.condition,
        active=policy.active,
        priority=policy.priority,
        stacking_group=policy.stacking_group,
        needs_approval=policy.needs_approval,
        approved=policy.approval_status == ApprovalStatus.APPROVED,
        lead_id=policy.lead_id,
    )


def policies_in_force(
    *, on: dt.date, buildings: QuerySet | None = None, lead_id: int | None = None
) -> QuerySet:
    """Policies that may apply on `on` to any of `buildings` (all buildings when None).

    District-wide ones, and those of the buildings' streets, circles or the buildings themselves;
    a case-by-case package only for its own lead (pending ones too, so that the lead's evaluation
    can say it awaits approval). The scope test is a subquery: one statement for any number of buildings.
    """
    in_force = Q(active=True, valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    approved = Q(needs_approval=False) | Q(approval_status=ApprovalStatus.APPROVED)
    if lead_id is not None:
        approved |= Q(lead_id=lead_id, approval_status=ApprovalStatus.PENDING)
    bound = Q(lead__isnull=True) | Q(lead_id=lead_id) if lead_id is not None else Q(lead__isnull=True)
    policies = Policy.objects.filter(in_force, approved, bound)
    if buildings is not None:
        policies = policies.filter(
            Q(scope=Scope.DISTRICT.value)
            | Q(scope=Scope.STREET.value, street_id__in=buildings.values("street_id"))
            | Q(
                scope=Scope.BUSINESS_CIRCLE.value,
                business_circle_id__in=buildings.values("business_circle_id"),
            )
            | Q(scope=Scope.BUILDING.value, building_id__in=buildings.values("pk"))
        )
    return policies.prefetch_related(Prefetch("benefits", queryset=Benefit.objects.order_by("id"))).order_by(
        "id"
    )


def policy_book(*, on: dt.date, buildings: QuerySet | None = None, lead_id: int | None = None) -> PolicyBook:
    """The policies that may apply to `buildings` on `on`, compiled for the evaluator (3 queries)."""
    policies = [policy_terms(p) for p in policies_in_force(on=on, buildings=buildings, lead_id=lead_id)]
    return PolicyBook(policies, tax_retained_share=tax_retained_share())


_BUILDING_COLUMNS = (
    "pk",
    "name",
    "street_id",
    "street__name",
    "business_circle_id",
    "business_circle__name",
    "star_rating",
    "star_since",
    "featured_type",
    "featured_since",
    "rent_min",
    "rent_max",
)


def _reference_rent(rent_min: Decimal | None, rent_max: Decimal | None) -> float | None:
    known = [float(r) for r in (rent_min, rent_max) if r is not None]
    return sum(known) / len(known) if known else None


def building_facts(buildings: Iterable[Building] | QuerySet, *, on: dt.date) -> list[BuildingFacts]:
    """Buildings as the evaluator reads them on `on` (one query for a queryset).

    A star rating or featured type counts from its since-date on (blank: it has always held), as the
    plan's indicators count them (domain.md); the reference rent is the middle of the asking range.
    """
    if isinstance(buildings, QuerySet):
        rows = list(buildings.order_by("pk").values_list(*_BUILDING_COLUMNS))
    else:
        rows = [
            (
                b.pk,
                b.name,
                b.street_id,
                b.street.name,
                b.business_circle_id,
                b.business_circle.name if b.business_circle_id else "",
                b.star_rating,
                b.star_since,
                b.featured_type,
                b.featured_since,
                b.rent_min,
                b.rent_max,
            )
            for b in buildings
        ]
    facts = []
    for (
        pk,
        name,
        street_id,
        street,
        circle_id,
        circle,
        stars,
        star_since,
        featured,
        featured_since,
        lo,
        hi,
    ) in rows:
        facts.append(
            BuildingFacts(
                id=pk,
                name=name,
                street_id=street_id,
                street=street or "",
                business_circle_id=circle_id,
                business_circle=circle or "",
                star_rating=stars if star_since is None or star_since <= on else 0,
                featured_type=featured if featured_since is None or featured_since <= on else "",
                rent_per_m2_day=_reference_rent(lo, hi),
            )
        )
    return facts


def profile_from_lead(
    lead: Lead,
    *,
    registers_in_district: bool | None = None,
    settles_in_district: bool | None = None,
    pays_tax_in_district: bool | None = None,
) -> Profile:
    """A lead as an applicant profile, with the lead's own intentions to register, settle accounts
    and pay tax in the district (the plan's entry threshold, 四(1)) unless a what-if overrides them."""

    def said(given: bool | None, field: str) -> bool:
        return getattr(lead, field) if given is None else given

    registers_in_district = said(registers_in_district, "registers_in_district")
    settles_in_district = said(settles_in_district, "settles_in_district")
    pays_tax_in_district = said(pays_tax_in_district, "pays_tax_in_district")
    industry = lead.industry
    return Profile(
        industry_section=industry.section if industry else "",
        industry_division=industry.code if industry and industry.level == "division" else "",
        expected_annual_tax=float(lead.expected_annual_tax or 0),
        employees=float(lead.employees or 0),
        is_headquarters=lead.is_headquarters,
        registers_in_district=registers_in_district,
        settles_in_district=settles_in_district,
        pays_tax_in_district=pays_tax_in_district,
        lead_id=lead.pk,
        referred=lead.referred_by_id is not None,
    )


def offer_for_lead(lead: Lead, *, on: dt.date, rent_per_m2_day: float | None = None) -> Offer:
    """The space a lead asks for: the middle of its area range (0 when it gave none)."""
    known = [float(a) for a in (lead.area_min_m2, lead.area_max_m2) if a is not None]
    return Offer(area_m2=sum(known) / len(known) if known else 0.0, on=on, rent_per_m2_day=rent_per_m2_day)


def evaluate_buildings(
    *, profile: Profile, offer: Offer, buildings: QuerySet | None = None
) -> BatchEvaluation:
    """One applicant's totals in every building of `buildings` (default all): four queries in all."""
    buildings = Building.objects.all() if buildings is None else buildings
    facts = building_facts(buildings, on=offer.on)
    book = policy_book(on=offer.on, buildings=buildings, lead_id=profile.lead_id)
    return book.evaluate_many(profile, facts, offer)


def evaluate_building(*, profile: Profile, offer: Offer, building: Building) -> Evaluation:
    """One applicant in one building, in full: amounts with arithmetic, and why others do not apply."""
    one = Building.objects.filter(pk=building.pk)
    facts = building_facts(one, on=offer.on)
    book = policy_book(on=offer.on, buildings=one, lead_id=profile.lead_id)
    return book.evaluate(profile, facts[0], offer)

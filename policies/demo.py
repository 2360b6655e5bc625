"""Demo policies for the demo district: a district baseline (with a referral reward for 以商招商), street
and featured-building policies, and one approved case-by-case package, created through the services
from the buildings in the database."""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q

from crm.constants import ActivityKind, FeaturedType, LeadStage, Role
from crm.models import Activity, Building, Lead, Promoter, Street
from crm.services.leads import lead_update
from policies.engine import BenefitKind, Scope
from policies.services import case_by_case_propose, policy_approve, policy_create

RENT, TAX = "rent", "tax"

# One building-specific policy per featured type (一楼一政策): (name suffix, condition, group, benefits).
FEATURED_POLICIES = {
    FeaturedType.FINANCE: (
        "金融企业免租",
        'industry_section == "J" and area_m2 >= 300',
        "",  # the owner's rent-free months come on top of the district's rent subsidy
        [{"kind": BenefitKind.RENT_FREE, "months": 3}],
    ),
    FeaturedType.HEADQUARTERS: (
        "总部企业税收奖励",
        "is_headquarters and expected_annual_tax >= 5000000",
        TAX,
        [{"kind": BenefitKind.TAX_REWARD, "percent": 50, "years": 3, "yearly_cap_yuan": 2_000_000}],
    ),
    FeaturedType.MAKER: (
        "众创企业房租补贴",
        'employees <= 50 and industry_section in ["I", "M"]',
        RENT,
        [{"kind": BenefitKind.RENT_SUBSIDY, "percent": 50, "months": 12, "cap_yuan": 100_000}],
    ),
    FeaturedType.ECOMMERCE: (
        "电商企业房租补贴",
        'industry_division in ["51", "52", "64", "65"]',
        RENT,
        [{"kind": BenefitKind.RENT_SUBSIDY, "percent": 40, "months": 12, "cap_yuan": 150_000}],
    ),
    FeaturedType.CULTURAL: (
        "文创中介入驻补贴",
        'industry_section in ["L", "M", "R"]',
        "",
        [{"kind": BenefitKind.SETTLEMENT_SUBSIDY, "yuan_per_m2": 80, "cap_yuan": 150_000}],
    ),
}


def _district_policies(valid_from: dt.date, valid_to: dt.date) -> list[dict]:
    return [
        {
            "name": "楼宇经济入驻基础扶持",
            "condition": (
                "registers_in_district and settles_in_district and pays_tax_in_district and area_m2 >= 100"
            ),
            "stacking_group": RENT,
            "benefits": [
                {"kind": BenefitKind.RENT_SUBSIDY, "percent": 30, "months": 12, "cap_yuan": 300_000},
                {"kind": BenefitKind.SETTLEMENT_SUBSIDY, "yuan_per_m2": 50, "cap_yuan": 100_000},
            ],
        },
        {
            "name": "税收贡献奖励",
            "condition": "pays_tax_in_district and expected_annual_tax >= 1000000",
            "stacking_group": TAX,
            "benefits": [
                {"kind": BenefitKind.TAX_REWARD, "percent": 30, "years": 3, "yearly_cap_yuan": 1_000_000}
            ],
        },
        {
            "name": "总部企业落户奖励",
            "condition": "is_headquarters and expected_annual_tax >= 5000000",
            "benefits": [{"kind": BenefitKind.ONE_OFF_AWARD, "amount_yuan": 1_000_000}],
        },
        {
            "name": "星级楼宇招商装修补贴(业主)",
            "condition": "star_rating >= 3 and area_m2 >= 500",
            "benefits": [{"kind": BenefitKind.RENOVATION_SUBSIDY, "yuan_per_m2": 40, "cap_yuan": 300_000}],
        },
        {
            # 以商招商: the tenant that referred a signing company earns a share of its first year's tax.
            "name": "以商招商推荐奖励",
            "condition": "pays_tax_in_district",
            "benefits": [{"kind": BenefitKind.REFERRAL_REWARD, "percent": 10, "cap_yuan": 200_000}],
        },
    ]


def _street_policy(street: Street, rng: random.Random) -> dict:
    # Streets compete differently: some waive rent, some reward output per m² (亩产导向).
    if rng.random() < 0.5:
        return {
            "name": f"{street.name}楼宇招商免租扶持",
            "condition": "registers_in_district and area_m2 >= 200",
            "benefits": [{"kind": BenefitKind.RENT_FREE, "months": 2 if rng.random() < 0.5 else 3}],
        }
    return {
        "name": f"{street.name}亩均税收奖励",
        "condition": "expected_tax_per_m2 >= 3000",
        "benefits": [
            {"kind": BenefitKind.ONE_OFF_AWARD, "amount_yuan": 50_000 if rng.random() < 0.5 else 80_000}
        ],
    }


def _office_user():
    """A district admin to approve the demo package: an existing one, or a dedicated account."""
    users = get_user_model().objects
    admin = (
        users.filter(Q(is_superuser=True) | Q(groups__name=Role.DISTRICT_ADMIN), is_active=True)
        .order_by("pk")
        .first()
    )
    if admin is None:
        admin = users.create_user(username="policy_office", password=None)
        admin.groups.add(Group.objects.get_or_create(name=Role.DISTRICT_ADMIN)[0])
    return admin


def _case_by_case(*, valid_from: dt.date, by_admin) -> bool:
    lead = (
        Lead.objects.filter(case_by_case=True, stage__in=[LeadStage.NEGOTIATING, LeadStage.VISITING])
        .order_by("-expected_annual_tax", "pk")
        .first()
        or Lead.objects.filter(
            stage=LeadStage.NEGOTIATING, expected_annual_tax__isnull=False, owner__isnull=False
        )
        .order_by("-expected_annual_tax", "pk")
        .first()
    )
    if lead is None:
        return False
    if not lead.case_by_case:
        updated_at = lead.updated_at
        lead = lead_update(lead=lead, case_by_case=True)
        # Keep the demo deterministic for a seed: the clock must not leak into the lead's row.
        Lead.objects.filter(pk=lead.pk).update(updated_at=updated_at)
    toured = (
        Activity.objects.filter(lead=lead, kind=ActivityKind.SITE_TOUR)
        .order_by("-occurred_at")
        .values("building_id")
        .first()
    )
    building = (
        Building.objects.get(pk=toured["building_id"])
        if toured
        else Building.objects.filter(featured_type=FeaturedType.HEADQUARTERS).order_by("code").first()
        or Building.objects.order_by("code").first()
    )
    proposer = lead.owner.user if lead.owner_id else Promoter.objects.order_by("pk").first().user
    if proposer.pk == by_admin.pk:  # four eyes: someone else proposes
        return False
    package = case_by_case_propose(
        lead=lead,
        building=building,
        name=f"一事一议:{lead.company_name}入驻{building.name}",
        description="重大项目一事一议:税收奖励、免租及落户奖励 / negotiated package for a major project",
        valid_from=valid_from,
        stacking_group=TAX,
        benefits=[
            {"kind": BenefitKind.TAX_REWARD, "percent": 60, "years": 5, "yearly_cap_yuan": 3_000_000},
            {"kind": BenefitKind.RENT_FREE, "months": 6},
            {"kind": BenefitKind.ONE_OFF_AWARD, "amount_yuan": 2_000_000},
        ],
        by=proposer,
    )
    policy_approve(
        policy=package, by=by_admin, note="区楼宇办会议审议通过 / approved by the office's meeting"
    )
    return True


@transaction.atomic
def seed_demo_policies(*, rng: random.Random, as_of: dt.date) -> dict[str, int]:
    """Create the demo policies from the buildings already in the database; returns counts per scope.

    Valid from three years before `as_of` (so the demo's past signings fall under them) to two years after.
    """
    valid_from = dt.date(as_of.year - 3, 1, 1)
    valid_to = dt.date(as_of.year + 2, 12, 31)
    counts = {"district": 0, "street": 0, "building": 0, "case_by_case": 0}
    for spec in _district_policies(valid_from, valid_to):
        policy_create(scope=Scope.DISTRICT, valid_from=valid_from, valid_to=valid_to, **spec)
        counts["district"] += 1
    for street in Street.objects.order_by("name"):
        policy_create(
            scope=Scope.STREET,
            street=street,
            valid_from=valid_from,
            valid_to=valid_to,
            **_street_policy(street, rng),
        )
        counts["street"] += 1
    featured = Building.objects.exclude(featured_type="").filter(
        Q(featured_since__isnull=True) | Q(featured_since__lte=as_of)
    )
    for building in featured.order_by("code"):
        suffix, condition, group, benefits = FEATURED_POLICIES[FeaturedType(building.featured_type)]
        policy_create(
            name=f"{building.name}{suffix}",
            scope=Scope.BUILDING,
            building=building,
            valid_from=valid_from,
            valid_to=valid_to,
            condition=condition,
            stacking_group=group,
            priority=10,
            benefits=benefits,
        )
        counts["building"] += 1
    if _case_by_case(valid_from=dt.date(as_of.year, 1, 1), by_admin=_office_user()):
        counts["case_by_case"] = 1
    return counts

"""A small two-street district with one user per role, and API clients that sign in as them."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from crm.api.keys import agency_api_key_create
from crm.constants import LeadChannel, UnitStatus
from crm.models import Agency, Building, Enterprise, Industry, Lead, Promoter, TaxRecord, Unit, UserScope
from tests.factories import (
    BuildingFactory,
    EnterpriseFactory,
    LeadFactory,
    PromoterFactory,
    StreetFactory,
    TaxRecordFactory,
    TenancyFactory,
    UnitFactory,
    UserFactory,
    make_credit_code,
)

ROLES = ("district_admin", "auditor", "street_officer", "promoter", "building_manager", "agency")


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


def industry(code: str) -> Industry:
    """A division row: migration 0004 ships them; get_or_create keeps these tests independent of it."""
    section, _ = Industry.objects.get_or_create(
        code="I", defaults={"level": "section", "section": "I", "name_zh": "信息传输、软件和信息技术服务业"}
    )
    row, _ = Industry.objects.get_or_create(
        code=code, defaults={"level": "division", "section": "I", "name_zh": f"大类{code}", "parent": section}
    )
    return row


@dataclass
class World:
    """Two streets; in each a building, a promoter, tenants with tax; two agencies with leads."""

    street: object
    other_street: object
    building: Building
    other_building: Building
    unit: Unit
    other_unit: Unit
    promoter: Promoter
    other_promoter: Promoter
    agency: Agency
    other_agency: Agency
    lead: Lead  # the promoter's own
    other_lead: Lead  # the other promoter's, in the other street
    agency_lead: Lead  # submitted by the agency
    other_agency_lead: Lead  # submitted by the other agency
    enterprise: Enterprise
    other_enterprise: Enterprise
    tax: TaxRecord
    other_tax: TaxRecord
    users: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)

    def own(self, role: str) -> Lead:
        """A lead the role may see (its own for promoter and agency)."""
        return self.agency_lead if role == "agency" else self.lead

    def foreign(self, role: str) -> Lead:
        """A lead outside the role's scope (for the agency: the other agency's)."""
        return self.other_agency_lead if role == "agency" else self.other_lead


@pytest.fixture
def world(db) -> World:
    street, other_street = StreetFactory(name="府山街道"), StreetFactory(name="北海街道")
    building = BuildingFactory(code="B0001", name="金融大厦", street=street, rent_min=Decimal("2.00"))
    other_building = BuildingFactory(code="B0002", name="科创大厦", street=other_street)
    unit = UnitFactory(building=building, number="501", area_m2=Decimal("200"))
    UnitFactory(building=building, number="502", area_m2=Decimal("300"))
    UnitFactory(building=building, number="503", area_m2=Decimal("100"), status=UnitStatus.LEASED)
    other_unit = UnitFactory(building=other_building, number="601", area_m2=Decimal("150"))
    enterprise = EnterpriseFactory(name="府山软件有限公司", credit_code=make_credit_code(1))
    other_enterprise = EnterpriseFactory(name="北海贸易有限公司", credit_code=make_credit_code(2))
    TenancyFactory(
        enterprise=enterprise, building=building, area_m2=Decimal("100"), start=dt.date(2020, 1, 1)
    )
    TenancyFactory(
        enterprise=other_enterprise,
        building=other_building,
        area_m2=Decimal("100"),
        start=dt.date(2020, 1, 1),
    )
    tax = TaxRecordFactory(enterprise=enterprise, year=2023, amount_yuan=Decimal("9000000"))
    other_tax = TaxRecordFactory(enterprise=other_enterprise, year=2023, amount_yuan=Decimal("500000"))

    promoter = PromoterFactory(name="王招商", street=street, user__username="promoter")
    other_promoter = PromoterFactory(name="李招商", street=other_street, user__username="other-promoter")
    now = timezone.now()
    lead = LeadFactory(
        company_name="甲科技有限公司",
        owner=promoter,
        contact_name="张三",
        contact_phone="13812341234",
        created_at=now - dt.timedelta(days=3),
    )
    lead.preferred_streets.set([street])
    other_lead = LeadFactory(
        company_name="乙贸易有限公司", owner=other_promoter, created_at=now - dt.timedelta(days=2)
    )
    other_lead.preferred_streets.set([other_street])

    agency_key, key, _ = agency_api_key_create(agency_name="越城中介")
    other_key, other_key_text, _ = agency_api_key_create(agency_name="绍兴商会")
    agency_lead = LeadFactory(
        company_name="丙网络有限公司",
        owner=None,
        agency=agency_key.agency,
        channel=LeadChannel.AGENCY,
        contact_phone="13900001111",
        created_at=now - dt.timedelta(days=1),
    )
    other_agency_lead = LeadFactory(
        company_name="丁咨询有限公司", owner=None, agency=other_key.agency, channel=LeadChannel.AGENCY
    )
    w = World(
        street=street,
        other_street=other_street,
        building=building,
        other_building=other_building,
        unit=unit,
        other_unit=other_unit,
        promoter=promoter,
        other_promoter=other_promoter,
        agency=agency_key.agency,
        other_agency=other_key.agency,
        lead=lead,
        other_lead=other_lead,
        agency_lead=agency_lead,
        other_agency_lead=other_agency_lead,
        enterprise=enterprise,
        other_enterprise=other_enterprise,
        tax=tax,
        other_tax=other_tax,
    )
    w.keys = {"agency": key, "other_agency": other_key_text}
    w.users = {
        "district_admin": UserFactory(username="office", role="district_admin"),
        "auditor": UserFactory(username="auditor", role="auditor"),
        "street_officer": UserFactory(username="officer", role="street_officer"),
        "promoter": promoter.user,
        "building_manager": UserFactory(username="manager", role="building_manager"),
        "agency": agency_key.user,
    }
    UserScope.objects.create(user=w.users["street_officer"], street=street)
    UserScope.objects.create(user=w.users["building_manager"], building=building)
    return w


def api_client(world: World, role: str) -> APIClient:
    """A client signed in as `role`: agencies by API key, everyone else by session (the web's way)."""
    client = APIClient()
    if role == "agency":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {world.keys['agency']}")
    elif role != "anonymous":
        client.force_login(world.users[role])
    return client


@pytest.fixture
def as_role(world):
    return lambda role: api_client(world, role)


@dataclass
class Extras:
    appraisal: object
    other_appraisal: object
    policy: object  # a district-wide policy, public to every role
    case_policy: object  # a case-by-case package for the other promoter's lead


@pytest.fixture
def full_world(world) -> World:
    """The world with what every route needs to answer 2xx: leads with an industry, the promoters'
    leads in negotiation with credit codes (so they can sign), appraisals, policies, and a trained
    industry-suggestion model."""
    from crm.models import AppraisalSnapshot
    from matching import adapter, industry_suggest
    from policies.services import case_by_case_propose, policy_create

    software = industry("65")
    for lead, n in (
        (world.lead, 11),
        (world.other_lead, 12),
        (world.agency_lead, 13),
        (world.other_agency_lead, 14),
    ):
        lead.industry = software
        lead.credit_code = make_credit_code(n)
        lead.save()
    Lead.objects.filter(pk__in=[world.lead.pk, world.other_lead.pk]).update(stage="negotiating")
    world.other_lead.refresh_from_db()
    world.lead.refresh_from_db()
    Lead.objects.filter(pk=world.other_lead.pk).update(case_by_case=True)
    world.other_lead.refresh_from_db()

    computed = timezone.now()
    appraisal, other_appraisal = (
        AppraisalSnapshot.objects.create(
            promoter=p,
            period_kind="month",
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31),
            street=p.street,
            computed_at=computed,
        )
        for p in (world.promoter, world.other_promoter)
    )
    office = world.users["district_admin"]
    policy = policy_create(
        name="入驻补贴",
        valid_from=dt.date(2020, 1, 1),
        benefits=[{"kind": "settlement_subsidy", "yuan_per_m2": "100"}],
        by=office,
    )
    case_policy = case_by_case_propose(
        lead=world.other_lead,
        building=world.other_building,
        name="乙贸易一事一议",
        benefits=[{"kind": "one_off_award", "amount_yuan": "50000"}],
        valid_from=dt.date(2020, 1, 1),
        by=office,
    )
    # Two divisions with 25 business scopes each: 50 is the least the trainer holds a fifth out of.
    trade = industry("64")
    for n in range(25):
        EnterpriseFactory(industry=software, business_scope=f"软件开发 信息技术咨询 数据处理 第{n}项")
        EnterpriseFactory(industry=trade, business_scope=f"日用百货批发 五金交电销售 第{n}项")
    industry_suggest._cache.clear()
    industry_suggest.industry_model_train()
    adapter.cache_clear()
    world.extras = Extras(appraisal, other_appraisal, policy, case_policy)
    yield world
    industry_suggest._cache.clear()
    adapter.cache_clear()

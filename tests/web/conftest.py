"""A small hand-built district with one login per role, and the `browser` marker for Chromium tests."""

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from crm.constants import LeadChannel, LeadStage, UnitStatus
from crm.models import Agency, Building, Industry, Lead, Promoter, Street, Unit, UserScope
from matching import adapter, industry_suggest
from tests.factories import (
    AgencyFactory,
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

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
PASSWORD = "pass-word-123"  # tests.factories.UserFactory's


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: needs Chromium (/usr/bin/chromium) and the playwright package"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser") and not CHROMIUM.exists():
        reason = "needs Chromium at /usr/bin/chromium: apt-get install chromium"
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_matching_caches():
    # A rolled-back test may leave the same largest ids behind, which the ranking cache's version stamp
    # would take for "unchanged"; and the industry classifier is cached by version number.
    adapter.cache_clear()
    industry_suggest._cache.clear()
    yield
    adapter.cache_clear()
    industry_suggest._cache.clear()


def division(code: str) -> Industry:
    """A shipped division (migration 0004), or a stand-in where that migration has not run."""
    section, _ = Industry.objects.get_or_create(
        code="I", defaults={"level": "section", "section": "I", "name_zh": "信息传输、软件和信息技术服务业"}
    )
    row, _ = Industry.objects.get_or_create(
        code=code, defaults={"level": "division", "section": "I", "name_zh": f"大类{code}", "parent": section}
    )
    return row


@dataclass
class District:
    """Two streets; 甲大厦 (street A) with two vacant units on floor 5 and a leased one on floor 6;
    乙中心 (street B) with one vacant unit. One login per role; the promoter owns one lead."""

    street: Street
    other_street: Street
    building: Building
    other_building: Building
    unit: Unit  # 501, vacant, 200 m²
    second_unit: Unit  # 502, vacant, 300 m²
    leased_unit: Unit  # 601, leased to a tenant
    other_unit: Unit  # B 101, vacant
    promoter: Promoter
    other_promoter: Promoter
    agency: Agency
    lead: Lead
    tax_year: int
    users: dict = field(default_factory=dict)

    def client(self, role: str) -> Client:
        client = Client()
        client.force_login(self.users[role])
        return client


def build_district() -> District:
    """The district, written through the factories; figures chosen so tests can work them by hand."""
    tax_year = timezone.localdate().year - 1
    software = division("65")
    street = StreetFactory(name="甲街道")
    other_street = StreetFactory(name="乙街道")
    building = BuildingFactory(
        code="A001",
        name="甲大厦",
        street=street,
        gross_area_m2=Decimal("2000"),
        leasable_area_m2=Decimal("1000"),
        main_industry=software,
        star_rating=3,
        rent_min=Decimal("2.00"),
        rent_max=Decimal("3.00"),
        lat=Decimal("30.000000"),
        lng=Decimal("120.500000"),
        in_service_since=dt.date(2015, 1, 1),
    )
    other_building = BuildingFactory(
        code="B001",
        name="乙中心",
        street=other_street,
        gross_area_m2=Decimal("3000"),
        leasable_area_m2=Decimal("2000"),
        rent_min=Decimal("1.50"),
        rent_max=Decimal("2.50"),
        lat=Decimal("30.010000"),
        lng=Decimal("120.520000"),
        in_service_since=dt.date(2015, 1, 1),
    )
    unit = UnitFactory(
        building=building, floor=5, number="501", area_m2=Decimal("200"), asking_rent=Decimal("2.50")
    )
    second_unit = UnitFactory(
        building=building, floor=5, number="502", area_m2=Decimal("300"), asking_rent=Decimal("2.50")
    )
    leased_unit = UnitFactory(
        building=building, floor=6, number="601", area_m2=Decimal("500"), status=UnitStatus.LEASED
    )
    other_unit = UnitFactory(
        building=other_building, floor=1, number="101", area_m2=Decimal("250"), asking_rent=Decimal("2.00")
    )
    # One tenant on 601 since 2020 (500 m²), paying 2,000,000 yuan in the tax year.
    tenant = EnterpriseFactory(name="甲软件有限公司", industry=software, business_scope="软件开发")
    TenancyFactory(enterprise=tenant, building=building, area_m2=Decimal("500"), start=dt.date(2020, 1, 1))
    TaxRecordFactory(enterprise=tenant, year=tax_year, amount_yuan=Decimal("2000000"))

    users = {
        "district_admin": UserFactory(username="office", role="district_admin"),
        "auditor": UserFactory(username="auditor", role="auditor"),
        "street_officer": UserFactory(username="officer", role="street_officer"),
        "building_manager": UserFactory(username="manager", role="building_manager"),
        "agency": UserFactory(username="agency", role="agency"),
    }
    promoter = PromoterFactory(
        user=UserFactory(username="promoter", role="promoter"), name="张招商", street=street
    )
    other_promoter = PromoterFactory(
        user=UserFactory(username="promoter2", role="promoter"), name="李招商", street=other_street
    )
    users["promoter"] = promoter.user
    users["other_promoter"] = other_promoter.user
    agency = AgencyFactory(name="某中介")
    UserScope.objects.create(user=users["street_officer"], street=street)
    UserScope.objects.create(user=users["building_manager"], building=building)
    UserScope.objects.create(user=users["agency"], agency=agency)
    lead = LeadFactory(
        ref="LW-0001",
        company_name="意向软件有限公司",
        credit_code=make_credit_code(700001),
        owner=promoter,
        industry=software,
        stage=LeadStage.NEW,
        channel=LeadChannel.DEPARTMENT,
        contact_name="王五",
        contact_phone="13812345678",
        area_min_m2=Decimal("150"),
        area_max_m2=Decimal("250"),
        budget_rent=Decimal("3.00"),
        expected_annual_tax=Decimal("500000"),
    )
    return District(
        street=street,
        other_street=other_street,
        building=building,
        other_building=other_building,
        unit=unit,
        second_unit=second_unit,
        leased_unit=leased_unit,
        other_unit=other_unit,
        promoter=promoter,
        other_promoter=other_promoter,
        agency=agency,
        lead=lead,
        tax_year=tax_year,
        users=users,
    )


@pytest.fixture
def district(db) -> District:
    return build_district()

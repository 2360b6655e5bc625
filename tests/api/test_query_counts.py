"""Every list endpoint runs the same queries for a page of 10 and a page of 50 (over 60 rows).

Each test names its queries. Every request starts with the same two: the session (for an API key: the
key with its agency's state), then the user with its role groups, scope and promoter row joined
(crm.selectors.scope.user_with_scope), which is all crm.selectors.scope.viewer_of needs.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.constants import ActivityKind, LeadStage
from crm.models import Activity, AppraisalSnapshot, ContactAccess, Signing
from crm.services.stored_results import stored_results_recompute
from matching import adapter
from policies.services import policy_create
from tests.api.conftest import api_client, industry
from tests.factories import (
    BuildingFactory,
    EnterpriseFactory,
    LeadFactory,
    TaxRecordFactory,
    TenancyFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db

ROWS = 60
SESSION_AND_VIEWER = 2  # the session; the user with its groups, scope and promoter row joined
KEY_AND_VIEWER = 2  # the key with its agency's state; the user with its groups, scope, promoter row


CONTACT_LOG = 1  # the contact-view log: one INSERT for the whole page
# One lead's row and its preferred streets: one query on PostgreSQL (the streets as an array in it),
# two elsewhere (crm.api.lead_rows.lead_row).
ONE_LEAD = 1 if connection.vendor == "postgresql" else 2


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def _small_and_large(client, url: str) -> tuple[int, int]:
    sep = "&" if "?" in url else "?"
    return _queries(client, f"{url}{sep}page_size=10"), _queries(client, f"{url}{sep}page_size=50")


def test_buildings(world):
    # given 60 more buildings, each with a vacant unit and a taxed tenant
    for n in range(ROWS):
        building = BuildingFactory(street=world.street, code=f"Q{n:04d}")
        UnitFactory(building=building)
        TaxRecordFactory(enterprise=TenancyFactory(building=building).enterprise, year=2023)
    # when
    small, large = _small_and_large(api_client(world, "district_admin"), "/api/v1/buildings/?year=2023")
    # then: 3 + COUNT(*), the page (street and circle joined, vacancy as subqueries), the page's tiers
    assert small == large == SESSION_AND_VIEWER + 3


def test_units_of_a_building(world):
    # given 60 more units in the building
    for n in range(ROWS):
        UnitFactory(building=world.building, number=f"9{n:03d}")
    # when
    small, large = _small_and_large(
        api_client(world, "district_admin"), f"/api/v1/buildings/{world.building.pk}/units/"
    )
    # then: 3 + the building, COUNT(*), the page (building joined)
    assert small == large == SESSION_AND_VIEWER + 3


def _promoter_leads(world, n: int = ROWS) -> None:
    for _ in range(n):
        lead = LeadFactory(owner=world.promoter)
        lead.preferred_streets.set([world.street, world.other_street])


def test_leads_of_a_promoter(world):
    # given 60 more leads of the promoter, each preferring two streets
    _promoter_leads(world)
    # when
    small, large = _small_and_large(api_client(world, "promoter"), "/api/v1/leads/")
    # then: 3 + COUNT(*), the page (owner, owner's user, agency joined), the page's preferred streets
    assert small == large == SESSION_AND_VIEWER + 3


def test_leads_with_contacts_record_their_viewing_in_one_insert(world):
    # given 60 more leads of the promoter, each with a contact person
    for n in range(ROWS):
        LeadFactory(owner=world.promoter, contact_name="李四", contact_phone=f"1390000{n:04d}")
    # when
    small, large = _small_and_large(api_client(world, "promoter"), "/api/v1/leads/")
    # then: 3 + COUNT(*), the page, its preferred streets, and one INSERT recording the page's contacts
    # seen
    assert small == large == SESSION_AND_VIEWER + 3 + CONTACT_LOG
    assert ContactAccess.objects.filter(user=world.promoter.user).count() == 10 + 50


def test_one_lead(world):
    # given the promoter's lead, with a contact person and a preferred street
    client = api_client(world, "promoter")
    # when
    count = _queries(client, f"/api/v1/leads/{world.lead.pk}/")
    # then: 2 + the lead's row (owner's user and agency joined) with its preferred streets, and the
    # INSERT recording the contact seen
    assert count == SESSION_AND_VIEWER + ONE_LEAD + CONTACT_LOG


def test_one_lead_by_api_key_without_contacts(world):
    # given the agency's lead, with a phone number only
    world.agency_lead.contact_phone = ""
    world.agency_lead.save()
    # when
    count = _queries(api_client(world, "agency"), f"/api/v1/leads/{world.agency_lead.pk}/")
    # then: 2 + the lead's row with its preferred streets (no contact shown, nothing recorded)
    assert count == KEY_AND_VIEWER + ONE_LEAD


def test_leads_of_an_agency_by_api_key(world):
    # given 60 more leads of the agency
    for _ in range(ROWS):
        LeadFactory(owner=None, agency=world.agency, channel="agency")
    # when
    small, large = _small_and_large(api_client(world, "agency"), "/api/v1/leads/")
    # then: 2 + COUNT(*), the page, the page's preferred streets
    assert small == large == KEY_AND_VIEWER + 3


def test_leads_of_a_street_with_masked_contacts(world):
    # given 60 more leads preferring the officer's street (the officer reads them masked)
    _promoter_leads(world)
    # when
    small, large = _small_and_large(api_client(world, "street_officer"), "/api/v1/leads/")
    # then: 3 + COUNT(*), the page, the page's preferred streets (the street rule is a subquery)
    assert small == large == SESSION_AND_VIEWER + 3


def test_activities_of_a_lead(world):
    # given 60 site tours on the promoter's lead
    now = timezone.now()
    for n in range(ROWS):
        Activity.objects.create(
            lead=world.lead,
            kind=ActivityKind.SITE_TOUR,
            occurred_at=now - dt.timedelta(hours=n),
            building=world.building,
            unit=world.unit,
            promoter=world.promoter,
        )
    # when
    small, large = _small_and_large(
        api_client(world, "promoter"), f"/api/v1/leads/{world.lead.pk}/activities/"
    )
    # then: 3 + the lead, COUNT(*), the page (building, unit, promoter and its user joined)
    assert small == large == SESSION_AND_VIEWER + 3


def test_signings_of_a_lead(world):
    # given 60 signings of the lead, one per building, each with a unit
    enterprise = EnterpriseFactory()
    for n in range(ROWS):
        building = BuildingFactory(street=world.street, code=f"Q{n:04d}")
        tenancy = TenancyFactory(enterprise=enterprise, building=building)
        signing = Signing.objects.create(
            lead=world.lead,
            building=building,
            enterprise=enterprise,
            tenancy=tenancy,
            area_m2=Decimal("100"),
            signed_on=dt.date(2026, 1, 1) + dt.timedelta(days=n),
        )
        signing.units.set([UnitFactory(building=building)])
    world.lead.stage = LeadStage.SIGNED
    world.lead.save()
    # when
    small, large = _small_and_large(api_client(world, "promoter"), f"/api/v1/leads/{world.lead.pk}/signing/")
    # then: 3 + the lead, COUNT(*), the page (building, enterprise, signer, lead's agency joined), its units
    assert small == large == SESSION_AND_VIEWER + 4


def test_industries(world):
    # given the 20 sections and 97 divisions shipped by migration 0004 (over 100 rows)
    # when
    small, large = _small_and_large(api_client(world, "agency"), "/api/v1/industries/")
    # then: 2 + COUNT(*), the page
    assert small == large == KEY_AND_VIEWER + 2


def test_enterprises(world):
    # given 60 more enterprises
    for _ in range(ROWS):
        EnterpriseFactory()
    # when
    small, large = _small_and_large(api_client(world, "district_admin"), "/api/v1/enterprises/")
    # then: 3 + COUNT(*), the page
    assert small == large == SESSION_AND_VIEWER + 2


def test_tax_records_of_a_street(world):
    # given 60 monthly records of the officer's street's tenant (2021-01 to 2025-12)
    for n in range(ROWS):
        TaxRecordFactory(enterprise=world.enterprise, year=2021 + n // 12, month=n % 12 + 1)
    # when
    small, large = _small_and_large(api_client(world, "street_officer"), "/api/v1/tax-records/")
    # then: 3 + COUNT(*), the page (enterprise joined; the street rule is a subquery)
    assert small == large == SESSION_AND_VIEWER + 2


def test_appraisals(world):
    # given 60 monthly appraisals of the promoter (2021-01 to 2025-12)
    now = timezone.now()
    for n in range(ROWS):
        start = dt.date(2021 + n // 12, n % 12 + 1, 1)
        AppraisalSnapshot.objects.create(
            promoter=world.promoter,
            period_kind="month",
            period_start=start,
            period_end=start,
            computed_at=now,
        )
    # when
    small, large = _small_and_large(api_client(world, "promoter"), "/api/v1/appraisals/")
    # then: 3 + COUNT(*), the page (promoter, its user and street joined)
    assert small == large == SESSION_AND_VIEWER + 2


def test_policies(world):
    # given 60 district policies with a benefit each
    for n in range(ROWS):
        policy_create(
            name=f"政策{n}",
            valid_from=dt.date(2020, 1, 1),
            benefits=[{"kind": "one_off_award", "amount_yuan": "1000"}],
        )
    # when
    small, large = _small_and_large(api_client(world, "agency"), "/api/v1/policies/")
    # then: 2 + COUNT(*), the page (street, circle, building joined), the page's benefits
    assert small == large == KEY_AND_VIEWER + 3


def test_indicators_do_not_grow_with_the_district(world):
    # given the indicators of the small district, as a worker stored them
    stored_results_recompute(group="indicators")
    client = api_client(world, "district_admin")
    before = _queries(client, "/api/v1/indicators/?year=2023")
    # when 60 more buildings with taxed tenants come in, and a worker recomputes the figures
    for n in range(ROWS):
        building = BuildingFactory(street=world.street, code=f"Q{n:04d}")
        TaxRecordFactory(enterprise=TenancyFactory(building=building).enterprise, year=2023)
    stored_results_recompute(group="indicators")
    after = _queries(client, "/api/v1/indicators/?year=2023")
    # then: 2 + "sees every building" check, the district's part of the stored figures with the
    # current data version, the plan targets; no indicator statement on the request
    assert before == after == SESSION_AND_VIEWER + 3


def _matchable(world) -> None:
    world.lead.industry = industry("65")
    world.lead.save()
    for n in range(ROWS):
        UnitFactory(building=BuildingFactory(street=world.street, code=f"Q{n:04d}"), area_m2=Decimal("200"))
        lead = LeadFactory(owner=world.promoter, industry=industry("65"))
        lead.preferred_streets.set([world.street])


def test_matches_of_a_lead(world):
    # given 60 more buildings with a vacant unit, and a warm ranking cache
    adapter.cache_clear()
    _matchable(world)
    client = api_client(world, "promoter")
    url = f"/api/v1/leads/{world.lead.pk}/matches/"
    client.get(url)
    # when
    small, large = _queries(client, f"{url}?limit=10"), _queries(client, f"{url}?limit=50")
    # then: 3 + the lead, the ranking's version stamp, the lead's preferred streets, which results are visible
    assert small == large == SESSION_AND_VIEWER + 4
    adapter.cache_clear()


def test_leads_matching_a_building(world):
    # given 60 more open leads that fit, and a warm ranking cache
    adapter.cache_clear()
    _matchable(world)
    client = api_client(world, "street_officer")
    url = f"/api/v1/buildings/{world.building.pk}/lead-matches/"
    client.get(url)
    # when
    small, large = _queries(client, f"{url}?limit=10"), _queries(client, f"{url}?limit=50")
    # then: 3 + the building, the version stamp, which leads are visible (with their ref and name)
    assert small == large == SESSION_AND_VIEWER + 3
    adapter.cache_clear()

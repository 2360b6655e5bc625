"""The big lists render with the same number of queries whether they hold a few rows or many.

Every page starts with the same two: the session, and the user with its role groups, scope and
promoter id joined (crm.selectors.scope.user_with_scope: all that viewer_of needs).
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.constants import LeadStage
from crm.models import Building
from crm.models.appraisal import PeriodKind
from crm.services.appraisal import appraisal_compute
from crm.services.stored_results import stored_results_recompute
from policies.models import Benefit, Policy
from tests.factories import BuildingFactory, LeadFactory, PromoterFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
PER_REQUEST = 2  # session; the user with its role groups, scope and promoter id joined


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, HTTP_HX_REQUEST="true")  # fragments answer htmx only
    assert response.status_code == 200
    return len(context.captured_queries)


def _more_leads(district, n: int = 40) -> None:
    stages = [LeadStage.NEW, LeadStage.CONTACTED, LeadStage.VISITING, LeadStage.NEGOTIATING]
    for i in range(n):
        LeadFactory(owner=district.promoter, stage=stages[i % len(stages)], industry=district.lead.industry)


def _more_buildings(district, n: int = 15) -> None:
    for i in range(n):
        building = BuildingFactory(street=district.street if i % 2 else district.other_street)
        for floor in (3, 4):
            UnitFactory(building=building, floor=floor, number=f"{floor}0{i}")


def _more_policies(n: int = 12) -> None:
    for i in range(n):
        policy = Policy.objects.create(name=f"政策{i}", valid_from=dt.date(2024, 1, 1))
        Benefit.objects.create(policy=policy, kind="one_off_award", amount_yuan=Decimal("10000"))


def test_the_lead_list_does_not_query_per_row(district, django_assert_max_num_queries):
    # given
    client = district.client("promoter")
    few = _count(client, reverse("web:leads"))
    # the two of every request, the count for the pager, the page's leads with owner, industry and
    # agency joined
    assert few == PER_REQUEST + 2

    # when
    _more_leads(district)

    # then
    with django_assert_max_num_queries(few):
        client.get(reverse("web:leads"))


def test_the_lead_list_of_the_office_with_its_owner_filter_does_not_query_per_row(
    district, django_assert_max_num_queries
):
    # given
    client = district.client("district_admin")
    few = _count(client, reverse("web:leads"))
    # the five, the pager's count, the page, the promoters of the owner filter
    assert few == PER_REQUEST + 3
    _more_leads(district)

    # then
    with django_assert_max_num_queries(few):
        client.get(reverse("web:leads"))


def test_the_board_does_not_query_per_card(district, django_assert_max_num_queries):
    # given
    client = district.client("promoter")
    few = _count(client, reverse("web:board"))
    # the five, the count per stage, the first cards of every stage in one windowed query
    assert few == PER_REQUEST + 2
    _more_leads(district)

    # then
    with django_assert_max_num_queries(few):
        client.get(reverse("web:board"))


def test_the_building_list_does_not_query_per_building(district, django_assert_max_num_queries):
    # given: a worker has stored the year's figures
    stored_results_recompute(group="indicators")
    client = district.client("promoter")
    few = _count(client, reverse("web:buildings"))
    # the five, the tax year of the tiers, the pager's count, the page's buildings with their vacancy
    # subqueries, the stored tax figures of the year (one read), the streets of the filter
    assert few == PER_REQUEST + 5
    _more_buildings(district)
    stored_results_recompute(group="indicators")

    # then
    with django_assert_max_num_queries(few):
        client.get(reverse("web:buildings"))


def test_the_vacancy_list_does_not_query_per_unit(district, django_assert_max_num_queries):
    # given
    client = district.client("promoter")
    few = _count(client, reverse("web:vacancies"))
    # the five, the totals, the pager's count, the streets of the filter, the page's units with their
    # building and street
    assert few == PER_REQUEST + 4
    _more_buildings(district)

    # then
    with django_assert_max_num_queries(few):
        client.get(reverse("web:vacancies"))


def test_the_policy_list_does_not_query_per_policy(district, django_assert_max_num_queries):
    # given
    _more_policies(2)
    client = district.client("promoter")
    few = _count(client, reverse("web:policies"))
    # the five, the pager's count, the page's policies with their places, their benefits
    assert few == PER_REQUEST + 3
    _more_policies()

    # then
    with django_assert_max_num_queries(few):
        client.get(reverse("web:policies"))


def test_the_leaderboard_does_not_query_per_promoter(district, django_assert_max_num_queries):
    # given
    start = dt.date(2026, 1, 1)
    appraisal_compute(period_kind=PeriodKind.MONTH, period_start=start)
    client = district.client("district_admin")
    url = reverse("web:leaderboard") + "?period=2026-01"
    few = _count(client, url)
    # the five, the period's snapshots with promoter and street
    assert few == PER_REQUEST + 1
    for n in range(10):
        PromoterFactory(user=UserFactory(username=f"more{n}", role="promoter"))
    appraisal_compute(period_kind=PeriodKind.MONTH, period_start=start)

    # then
    with django_assert_max_num_queries(few):
        client.get(url)


def test_the_desk_does_not_query_per_lead(district, django_assert_max_num_queries):
    # given
    client = district.client("promoter")
    few = _count(client, reverse("web:desk"))
    _more_leads(district)

    # then: the five, the due leads, the stale reminders, the pipeline, notifications and their count,
    # the warnings, and the appraisal service's eight (six metrics, targets, weights), whatever the leads
    with django_assert_max_num_queries(few):
        client.get(reverse("web:desk"))


def test_the_lead_page_queries_the_same_however_many_buildings_it_offers(
    district, django_assert_max_num_queries
):
    # given: the lead page, whose activity form offers every building of the district
    client = district.client("promoter")
    url = reverse("web:lead", args=[district.lead.pk])
    few = _count(client, url)

    # when 15 more buildings come in
    _more_buildings(district)

    # then the building select is one query of (id, name, code) rows, however long
    with django_assert_max_num_queries(few):
        response = client.get(url)
    page = response.content.decode()
    assert all(f'<option value="{pk}"' in page for pk in Building.objects.values_list("pk", flat=True))


def _grown_alike(district, client, urls: list[str]) -> tuple[list[int], list[int]]:
    """Each url's queries with the stored results computed, then again with the district grown by 15
    buildings and 40 leads and the results recomputed (as a worker would after those writes)."""
    stored_results_recompute(group="indicators")
    stored_results_recompute(group="matching")
    few = [_count(client, url) for url in urls]
    _more_buildings(district)
    _more_leads(district)
    stored_results_recompute(group="indicators")
    stored_results_recompute(group="matching")
    return few, [_count(client, url) for url in urls]


def test_the_building_page_queries_the_same_however_big_the_district(district):
    # given
    client = district.client("street_officer")
    url = reverse("web:building", args=[district.building.pk])

    # when
    few, many = _grown_alike(district, client, [url])

    # then: the tier, trend and tenant mix are one read each of the stored figures, whatever their size
    assert few == many


def test_the_dashboard_and_its_fragments_query_the_same_however_big_the_district(district):
    # given
    client = district.client("district_admin")
    year = district.tax_year
    urls = [
        f"{reverse('web:dashboard')}?year={year}",
        f"{reverse('web:dashboard_streets')}?year={year}",
        f"{reverse('web:dashboard_map')}?year={year}&colour=tier",
        f"{reverse('web:dashboard_what_if_form')}?year={year}",
    ]

    # when
    few, many = _grown_alike(district, client, urls)

    # then: the dashboard itself is the two; the tax year (the form's and the page's); whether the
    # viewer sees the whole area; the plan's targets (milestones, then rows); the stored figures of
    # all its trend years (one read); the streets of the form
    assert few == many
    assert few[0] == PER_REQUEST + 7


def test_the_forecast_queries_the_same_however_many_open_leads(district):
    # given
    client = district.client("district_admin")

    # when
    few, many = _grown_alike(district, client, [reverse("web:forecast")])

    # then: the two; whether the viewer sees the whole area; the streets of the form; the stored
    # placements (with the district's open leads summed: the office sees every lead); the stored
    # figures; the stored expected move-outs per building (retention); the plan's targets; the
    # commitment schedule's year, owed and paid (two sums) (no ranking, no lead or tenancy read)
    assert few == many == [PER_REQUEST + 8]


def test_the_what_if_form_is_the_same_size_however_many_buildings(district):
    # given
    client = district.client("district_admin")
    url = f"{reverse('web:dashboard_what_if_form')}?year={district.tax_year}"
    few = client.get(url, HTTP_HX_REQUEST="true")

    # when: 15 more buildings
    _more_buildings(district)
    many = client.get(url, HTTP_HX_REQUEST="true")

    # then: no building is written into the form (its field looks them up as typed): the same bytes
    assert len(many.content) == len(few.content)
    assert "A001" not in many.content.decode()


def test_the_what_if_buildings_lookup_queries_the_same_however_many_buildings(district):
    # given
    client = district.client("district_admin")
    url = f"{reverse('web:dashboard_what_if_buildings')}?year={district.tax_year}&building_code_0=B"
    few = _count(client, url)

    # when: 15 more buildings, every code starting with B
    _more_buildings(district)
    many = _count(client, url)

    # then: the two; whether the viewer sees the whole area; the streets of the form; the buildings
    # found (one query, at most WHAT_IF_BUILDINGS rows)
    assert few == many == PER_REQUEST + 3


def test_a_street_officers_forecast_queries_the_same_however_many_open_leads(district):
    # given
    client = district.client("street_officer")

    # when
    few, many = _grown_alike(district, client, [reverse("web:forecast")])

    # then: as the office's, and their own street, and their street's open leads (one query of
    # plain tuples)
    assert few == many == [PER_REQUEST + 10]

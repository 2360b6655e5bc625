"""The retention list (稳商清单), the one-click retention visit and the building page's at-risk tenants,
for every role through the one scoping function."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import EarlyWarning, Tenancy
from crm.selectors.scope import CHANGE, visible_to
from crm.services.stored_results import RETENTION, TODAY, stored_result_save
from crm.services.warnings import move_out_risk_warnings
from retention.models import RetentionScore, RetentionVisit
from tests.factories import EnterpriseFactory, TaxRecordFactory, TenancyFactory

pytestmark = pytest.mark.django_db
PER_REQUEST = 2  # session; the user with its role groups, scope and promoter id joined


def score(tenancy: Tenancy, *, probability: float, tax: str, reasons=("ends_within_12",)) -> RetentionScore:
    tax_yuan = Decimal(tax)
    return RetentionScore.objects.create(
        tenancy=tenancy,
        enterprise=tenancy.enterprise,
        building=tenancy.building,
        probability=probability,
        tax_last_year_yuan=tax_yuan,
        expected_tax_at_risk_yuan=(tax_yuan * Decimal(str(probability))).quantize(Decimal("0.01")),
        area_m2=tenancy.area_m2,
        reasons=list(reasons),
        model_version=1,
        data_version=0,
        scored_on=timezone.localdate(),
    )


@pytest.fixture
def scored(district):
    """甲大厦's tenant: 0.2 × 2,000,000 = 400,000 at risk; 乙中心's: 0.6 × 12,000,000 = 7,200,000."""
    stored_result_save(kind=RETENTION, key=TODAY, version=0, payload={"model_version": 1}, seconds=0.0)
    own = Tenancy.objects.get(building=district.building)
    other_tenant = EnterpriseFactory(name="乙金融有限公司")
    other = TenancyFactory(
        enterprise=other_tenant,
        building=district.other_building,
        area_m2=Decimal("800"),
        start=dt.date(2020, 1, 1),
    )
    TaxRecordFactory(enterprise=other_tenant, year=district.tax_year, amount_yuan=Decimal("12000000"))
    return {
        "own": score(own, probability=0.2, tax="2000000"),
        "other": score(other, probability=0.6, tax="12000000", reasons=("tax_trend", "industry_churn")),
    }


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("district_admin", {"own", "other"}),
        ("auditor", {"own", "other"}),
        ("street_officer", {"own"}),
        ("building_manager", {"own"}),
        ("promoter", set()),
        ("agency", set()),
    ],
)
def test_each_role_sees_the_scores_of_its_scope_through_the_scoping_function(district, scored, role, sees):
    # when
    visible = set(visible_to(district.users[role], RetentionScore).values_list("pk", flat=True))
    # then
    assert visible == {scored[name].pk for name in sees}


@pytest.mark.parametrize(
    ("role", "status", "rows"),
    [
        ("district_admin", 200, ["乙金融有限公司", "甲软件有限公司"]),  # 7,200,000 before 400,000
        ("auditor", 200, ["乙金融有限公司", "甲软件有限公司"]),
        ("street_officer", 200, ["甲软件有限公司"]),
        ("building_manager", 200, ["甲软件有限公司"]),
        ("promoter", 403, []),
        ("agency", 403, []),
    ],
)
def test_the_retention_list_orders_by_expected_tax_at_risk_within_the_users_scope(
    district, scored, role, status, rows
):
    # when
    response = district.client(role).get(reverse("web:retention"))
    # then
    assert response.status_code == status
    if status == 200:
        assert [s.enterprise.name for s in response.context["page"]] == rows


def test_the_list_shows_the_reasons_in_words_in_both_languages(district, scored):
    # when
    zh = district.client("district_admin").get(reverse("web:retention")).content.decode()
    en = (
        district.client("district_admin")
        .get(reverse("web:retention"), HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    # then
    assert "近四个季度税收下降" in zh and "720.0" in zh  # 7,200,000 yuan = 720.0 万元
    assert "Tax fell over the last four quarters" in en


def test_the_list_page_does_not_query_per_row(district, scored, django_assert_num_queries):
    # given
    client = district.client("district_admin")
    # when / then: the two of every request, the stored result's model version with the current data
    # version, the pager's count, the page's scores with enterprise, building, street and tenancy joined
    with CaptureQueriesContext(connection) as context:
        assert client.get(reverse("web:retention")).status_code == 200
    assert len(context.captured_queries) == PER_REQUEST + 3


def test_a_street_officer_logs_a_retention_visit_with_one_click(district, scored):
    # when
    response = district.client("street_officer").post(
        reverse("web:retention_visit", args=[scored["own"].pk]),
        {"notes": "了解续租意向"},
        HTTP_HX_REQUEST="true",
    )
    # then the visit is the enterprise's, with the risk it was visited at, and audited with its author
    assert response.status_code == 200
    visit = RetentionVisit.objects.get()
    assert (visit.enterprise, visit.building, visit.probability) == (
        scored["own"].enterprise,
        district.building,
        0.2,
    )
    assert visit.history.get().history_user == district.users["street_officer"]


@pytest.mark.parametrize(
    ("role", "status"), [("street_officer", 404), ("building_manager", 404), ("auditor", 403)]
)
def test_no_one_logs_a_visit_outside_their_scope(district, scored, role, status):
    # when
    response = district.client(role).post(reverse("web:retention_visit", args=[scored["other"].pk]), {})
    # then
    assert response.status_code == status
    assert not RetentionVisit.objects.exists()


def test_visits_are_changed_only_within_the_building_managers_building(district, scored):
    # given
    district.client("district_admin").post(reverse("web:retention_visit", args=[scored["other"].pk]), {})
    # when
    changeable = visible_to(district.users["building_manager"], RetentionVisit, CHANGE)
    # then
    assert RetentionVisit.objects.count() == 1 and not changeable.exists()


def test_too_long_notes_are_refused_beside_the_field(district, scored):
    # when
    response = district.client("district_admin").post(
        reverse("web:retention_visit", args=[scored["own"].pk]), {"notes": "x" * 2001}, HTTP_HX_REQUEST="true"
    )
    # then
    assert response.status_code == 400
    assert "notes" in response.context["form"].errors
    assert not RetentionVisit.objects.exists()


def test_the_building_page_shows_its_at_risk_tenants_and_the_tier_it_would_fall_to(district, scored):
    # given 乙中心 paid 12,000,000 yuan (千万元楼) and its one tenant leaves with probability 0.6
    client = district.client("district_admin")
    # when
    response = client.get(
        reverse("web:building_retention", args=[district.other_building.pk]), HTTP_HX_REQUEST="true"
    )
    # then
    body = response.content.decode()
    assert [s.enterprise.name for s in response.context["tenants"]] == ["乙金融有限公司"]
    assert response.context["tier"] == "ten_million" and response.context["fallen"] == "none"
    assert "千万元楼" in body


def test_the_building_fragment_shows_a_promoter_nothing(district, scored):
    # when
    response = district.client("promoter").get(
        reverse("web:building_retention", args=[district.building.pk]), HTTP_HX_REQUEST="true"
    )
    # then
    assert response.status_code == 200 and response.context["shown"] is False
    assert "甲软件有限公司" not in response.content.decode()


def test_a_tenant_below_the_risk_threshold_is_not_listed_on_its_building(district, scored):
    # when (甲大厦's tenant leaves with probability 0.2 < 0.3)
    response = district.client("building_manager").get(
        reverse("web:building_retention", args=[district.building.pk]), HTTP_HX_REQUEST="true"
    )
    # then
    assert response.context["tenants"] == []


def test_a_high_risk_high_tax_tenant_is_escalated_to_its_street_officer(district, scored):
    # given 甲大厦's tenant (2,000,000 yuan a year) now scored 0.7 likely to leave
    RetentionScore.objects.filter(pk=scored["own"].pk).update(probability=0.7)
    # when
    created = move_out_risk_warnings()
    # then 甲街道's officer gets it; 乙中心's (0.6, 12,000,000) goes to the office: 乙街道 has no
    # officer and 乙中心 no manager
    assignees = dict(EarlyWarning.objects.values_list("enterprise__name", "assignee__username"))
    assert created == 2
    assert assignees == {"甲软件有限公司": "officer", "乙金融有限公司": "office"}
    assert EarlyWarning.objects.filter(kind=EarlyWarning.Kind.MOVE_OUT_RISK).count() == 2
    # and the title gives 0.7 as 70 % by the pages' percent
    own = EarlyWarning.objects.get(enterprise__name="甲软件有限公司")
    assert "12个月内迁出概率 70% / move-out risk: 70% within 12 months" in own.title


def test_the_move_out_warning_is_not_repeated_within_the_quarter(district, scored):
    # given
    move_out_risk_warnings()
    # when
    again = move_out_risk_warnings()
    # then
    assert again == 0


def test_a_likely_leaver_paying_little_tax_is_not_escalated(district, scored):
    # given 甲大厦's tenant 0.9 likely to leave but paying 999,999.99 yuan (below 1,000,000)
    RetentionScore.objects.filter(pk=scored["own"].pk).update(
        probability=0.9, tax_last_year_yuan=Decimal("999999.99")
    )
    # when
    move_out_risk_warnings()
    # then
    assert not EarlyWarning.objects.filter(enterprise=scored["own"].enterprise).exists()

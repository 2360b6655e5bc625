"""Nightly snapshots and early warnings: tier movements, tenancies ending, tax falling (迁出预警)."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.constants import LeadStage, TaxTier
from crm.models import EarlyWarning, IndicatorSnapshot, Notification, Signing, UserScope
from crm.services.signings import signing_complete
from crm.services.warnings import (
    indicator_snapshots_take,
    tax_drop_warnings,
    tenancy_ending_warnings,
    tier_warnings,
    warnings_nightly,
)
from tests.factories import (
    BuildingFactory,
    EnterpriseFactory,
    LeadFactory,
    StreetFactory,
    TaxRecordFactory,
    TenancyFactory,
    UnitFactory,
    UserFactory,
    make_credit_code,
)
from tests.workers.conftest import mailed_promoter

pytestmark = pytest.mark.django_db

DAY1, DAY2 = dt.date(2024, 11, 1), dt.date(2024, 11, 2)


@pytest.fixture
def street():
    return StreetFactory(name="城南街道")


@pytest.fixture
def officer(street):
    user = UserFactory(username="officer", role="street_officer")
    UserScope.objects.create(user=user, street=street)
    return user


def test_the_snapshot_holds_the_district_each_street_and_each_building(street):
    # given one building with one tenant paying 9,000,000 yuan in 2024
    building = BuildingFactory(street=street)
    tenant = TenancyFactory(building=building)
    TaxRecordFactory(enterprise=tenant.enterprise, year=2024, amount_yuan=Decimal("9000000"))

    stored = indicator_snapshots_take(year=2024, today=DAY1)

    # then 1 district + 1 street + 1 building row; 9,000,000 ≥ 8,000,000 (20% below 千万) is near 千万
    assert stored == 3
    row = IndicatorSnapshot.objects.get(scope=IndicatorSnapshot.Scope.BUILDING)
    assert (row.tax_yuan, row.tier) == (Decimal("9000000.00"), TaxTier.NEAR_TEN_MILLION)
    assert row.values["building_tax"] == "0.09"  # 9,000,000 / 100,000,000 亿元


def test_taking_the_snapshot_twice_on_a_day_keeps_one(street):
    BuildingFactory(street=street)

    indicator_snapshots_take(year=2024, today=DAY1)
    indicator_snapshots_take(year=2024, today=DAY1)

    assert IndicatorSnapshot.objects.count() == 3


def test_a_building_entering_a_tier_gives_its_street_officer_and_promoters_a_task(street, officer):
    # given a street promoter, a building near 千万 on day 1 and at 千万 on day 2
    promoter = mailed_promoter(1, street=street)
    building = BuildingFactory(street=street, name="越商大厦")
    tenant = TenancyFactory(building=building)
    TaxRecordFactory(enterprise=tenant.enterprise, year=2024, month=1, amount_yuan=Decimal("9000000"))
    indicator_snapshots_take(year=2024, today=DAY1)
    TaxRecordFactory(enterprise=tenant.enterprise, year=2024, month=2, amount_yuan=Decimal("1500000"))
    indicator_snapshots_take(year=2024, today=DAY2)

    # when
    made = tier_warnings(year=2024, today=DAY2)

    # then one task each for the officer and the promoter, with an in-app notification
    assert made == 2
    tasks = EarlyWarning.objects.order_by("assignee_id")
    assert {t.assignee_id for t in tasks} == {officer.pk, promoter.user_id}
    assert {t.kind for t in tasks} == {EarlyWarning.Kind.TIER_ENTERED}
    assert "越商大厦" in tasks[0].title and "千万元楼" in tasks[0].title
    # 9,000,000 + 1,500,000 = 10,500,000 yuan, written for a reader (not "10500000.00")
    assert "2024 年楼宇税收 10,500,000 元" in tasks[0].detail
    assert Notification.objects.filter(kind=Notification.Kind.WARNING).count() == 2
    assert tier_warnings(year=2024, today=DAY2) == 0  # a rerun adds nothing


def test_a_building_leaving_a_tier_is_a_warning_too(street, officer):
    building = BuildingFactory(street=street)
    tenant = TenancyFactory(building=building)
    record = TaxRecordFactory(enterprise=tenant.enterprise, year=2024, amount_yuan=Decimal("12000000"))
    indicator_snapshots_take(year=2024, today=DAY1)
    record.amount_yuan = Decimal("7000000")  # an amended record: below 8,000,000, out of every tier
    record.save()
    indicator_snapshots_take(year=2024, today=DAY2)

    tier_warnings(year=2024, today=DAY2)

    task = EarlyWarning.objects.get()
    assert (task.kind, task.assignee) == (EarlyWarning.Kind.TIER_LEFT, officer)


def test_the_first_snapshot_raises_no_tier_warning(street, officer):
    tenant = TenancyFactory(building=BuildingFactory(street=street))
    TaxRecordFactory(enterprise=tenant.enterprise, year=2024, amount_yuan=Decimal("120000000"))
    indicator_snapshots_take(year=2024, today=DAY1)

    assert tier_warnings(year=2024, today=DAY1) == 0


def _signed_tenancy(street, owner, *, end: dt.date):
    """A tenancy that came from a signing of `owner`'s lead, ending on `end`."""
    building = BuildingFactory(street=street)
    lead = LeadFactory(owner=owner, stage=LeadStage.NEGOTIATING, credit_code=make_credit_code(77))
    signing = signing_complete(
        lead=lead,
        building=building,
        units=[UnitFactory(building=building)],
        signed_on=dt.date(2023, 1, 1),
        end=end,
    )
    return signing.tenancy


def test_a_tenancy_ending_within_90_days_warns_the_officer_and_the_owning_promoter(street, officer):
    # given a tenancy brought in by promoter 1 that ends 30 days after DAY1
    owner = mailed_promoter(1)
    tenancy = _signed_tenancy(street, owner, end=DAY1 + dt.timedelta(days=30))

    made = tenancy_ending_warnings(today=DAY1)

    assert made == 2
    assert set(EarlyWarning.objects.values_list("assignee_id", flat=True)) == {officer.pk, owner.user_id}
    task = EarlyWarning.objects.first()
    assert (task.kind, task.enterprise_id, task.due_on) == (
        EarlyWarning.Kind.TENANCY_ENDING,
        tenancy.enterprise_id,
        tenancy.end,
    )
    assert tenancy_ending_warnings(today=DAY2) == 0  # the next night adds nothing


def test_a_tenancy_ending_later_or_already_renewed_is_no_warning(street, officer):
    TenancyFactory(building=BuildingFactory(street=street), end=DAY1 + dt.timedelta(days=91))
    ending = TenancyFactory(building=BuildingFactory(street=street), end=DAY1 + dt.timedelta(days=10))
    TenancyFactory(
        enterprise=ending.enterprise, building=ending.building, start=ending.end + dt.timedelta(days=1)
    )

    assert tenancy_ending_warnings(today=DAY1) == 0


def test_a_tenant_whose_tax_fell_more_than_30_percent_is_a_move_out_warning(street, officer):
    # given two tenants: one fell from 100,000 to 60,000 (40%), one to 75,000 (25%)
    building = BuildingFactory(street=street)
    falling = TenancyFactory(building=building, enterprise=EnterpriseFactory(name="下滑科技有限公司"))
    steady = TenancyFactory(building=building)
    for tenancy, now in ((falling, "60000"), (steady, "75000")):
        TaxRecordFactory(enterprise=tenancy.enterprise, year=2023, amount_yuan=Decimal("100000"))
        TaxRecordFactory(enterprise=tenancy.enterprise, year=2024, amount_yuan=Decimal(now))

    made = tax_drop_warnings(year=2024, today=DAY1)

    task = EarlyWarning.objects.get()
    assert made == 1
    assert (task.kind, task.enterprise_id, task.assignee) == (
        EarlyWarning.Kind.TAX_DROP,
        falling.enterprise_id,
        officer,
    )
    assert "40.0%" in task.title and "下滑科技" in task.title
    assert "2023 年 100,000 元 → 2024 年 60,000 元" in task.detail


def test_a_tenant_that_moved_out_already_is_no_move_out_warning(street, officer):
    gone = TenancyFactory(building=BuildingFactory(street=street), end=DAY1 - dt.timedelta(days=1))
    TaxRecordFactory(enterprise=gone.enterprise, year=2023, amount_yuan=Decimal("100000"))

    assert tax_drop_warnings(year=2024, today=DAY1) == 0


def test_the_nightly_run_does_it_all_and_twice_adds_nothing(street, officer):
    owner = mailed_promoter(1)
    _signed_tenancy(street, owner, end=DAY1 + dt.timedelta(days=30))

    first = warnings_nightly(today=DAY1)
    second = warnings_nightly(today=DAY1)

    assert first.tenancy_warnings == 2 and second.tenancy_warnings == 0
    assert Signing.objects.count() == 1
    assert EarlyWarning.objects.count() == 2


def test_a_tenancy_ending_on_a_street_without_an_officer_warns_the_manager_else_the_office(street, officer):
    # given a street with no officer (only `street` has one), two of its buildings — one with a
    # manager, one without — and an office of two active district admins and one who left
    unstaffed = StreetFactory(name="无专员街道")
    managed, unmanaged = BuildingFactory(street=unstaffed), BuildingFactory(street=unstaffed)
    manager = UserFactory(username="manager", role="building_manager")
    UserScope.objects.create(user=manager, building=managed)
    admins = {UserFactory(username=f"office{n}", role="district_admin").pk for n in (1, 2)}
    UserFactory(username="left", role="district_admin", is_active=False)
    # and, on the officer's street, a building whose manager is not asked (the officer answers)
    staffed = BuildingFactory(street=street)
    UserScope.objects.create(
        user=UserFactory(username="staffed-manager", role="building_manager"), building=staffed
    )
    ending = DAY1 + dt.timedelta(days=20)
    at_managed = TenancyFactory(building=managed, end=ending)
    at_unmanaged = TenancyFactory(building=unmanaged, end=ending)
    at_staffed = TenancyFactory(building=staffed, end=ending)

    made = tenancy_ending_warnings(today=DAY1)

    assignees: dict[int, set[int]] = {}
    for enterprise_id, user_id in EarlyWarning.objects.values_list("enterprise_id", "assignee_id"):
        assignees.setdefault(enterprise_id, set()).add(user_id)
    assert assignees == {
        at_managed.enterprise_id: {manager.pk},
        at_unmanaged.enterprise_id: admins,
        at_staffed.enterprise_id: {officer.pk},
    }
    assert made == 1 + 2 + 1
    assert Notification.objects.filter(user_id__in=admins, kind=Notification.Kind.WARNING).count() == 2


def test_the_owning_promoter_is_warned_alongside_the_fallback():
    owner = mailed_promoter(1)
    tenancy = _signed_tenancy(StreetFactory(name="空缺街道"), owner, end=DAY1 + dt.timedelta(days=30))
    admin = UserFactory(username="office", role="district_admin")

    tenancy_ending_warnings(today=DAY1)

    assert set(
        EarlyWarning.objects.filter(enterprise=tenancy.enterprise).values_list("assignee_id", flat=True)
    ) == {
        owner.user_id,
        admin.pk,
    }


def test_a_move_out_warning_on_a_street_without_an_officer_goes_to_the_building_manager():
    # given a tenant whose tax fell from 100,000 to 50,000 (50%) in a building of an unstaffed street
    building = BuildingFactory(street=StreetFactory(name="无专员街道"))
    manager = UserFactory(username="manager", role="building_manager")
    UserScope.objects.create(user=manager, building=building)
    UserFactory(username="office", role="district_admin")  # not asked: the manager answers
    tenant = TenancyFactory(building=building)
    TaxRecordFactory(enterprise=tenant.enterprise, year=2023, amount_yuan=Decimal("100000"))
    TaxRecordFactory(enterprise=tenant.enterprise, year=2024, amount_yuan=Decimal("50000"))

    assert tax_drop_warnings(year=2024, today=DAY1) == 1
    assert EarlyWarning.objects.get().assignee == manager

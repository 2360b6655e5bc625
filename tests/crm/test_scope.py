"""The one scoping function: what each role may see and change."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from crm.auth_backends import ScopedUserBackend
from crm.constants import Role
from crm.models import Building, Enterprise, Lead, TaxRecord, Tenancy, Unit, UserScope
from crm.selectors.compiled import SLOT, SLOT_ID, Compiled
from crm.selectors.scope import CHANGE, NO_ONE, VIEW, Viewer, can, user_with_scope, viewer_of, visible_to
from tests.factories import (
    AgencyFactory,
    BuildingFactory,
    LeadFactory,
    PromoterFactory,
    StreetFactory,
    TaxRecordFactory,
    TenancyFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def district():
    """Two streets, a building and a tenant in each, a lead of each promoter and one of an agency."""
    north, south = StreetFactory(name="北海街道"), StreetFactory(name="城南街道")
    b_north, b_south = BuildingFactory(street=north), BuildingFactory(street=south)
    t_north, t_south = TenancyFactory(building=b_north), TenancyFactory(building=b_south)
    TaxRecordFactory(enterprise=t_north.enterprise)
    TaxRecordFactory(enterprise=t_south.enterprise)
    UnitFactory(building=b_north)
    UnitFactory(building=b_south)
    p_north, p_south = PromoterFactory(street=north), PromoterFactory(street=south)
    agency, other_agency = AgencyFactory(name="甲中介"), AgencyFactory(name="乙中介")
    leads = {
        "north": LeadFactory(owner=p_north),
        "south": LeadFactory(owner=p_south),
        "agency": LeadFactory(owner=None, agency=agency, channel="agency"),
        "other_agency": LeadFactory(owner=None, agency=other_agency, channel="agency"),
    }
    leads["south"].preferred_streets.add(south)
    return {
        "north": north,
        "south": south,
        "b_north": b_north,
        "b_south": b_south,
        "t_north": t_north,
        "p_north": p_north,
        "agency": agency,
        "leads": leads,
    }


def _user(role: Role, **scope):
    user = UserFactory(role=role)
    if scope:
        UserScope.objects.create(user=user, **scope)
    return user


def test_district_admin_sees_and_changes_everything(district):
    admin = _user(Role.DISTRICT_ADMIN)

    assert visible_to(admin, Lead).count() == 4
    assert visible_to(admin, Building, CHANGE).count() == 2
    assert visible_to(admin, TaxRecord).count() == 2


def test_auditor_reads_everything_and_changes_nothing(district):
    auditor = _user(Role.AUDITOR)

    assert visible_to(auditor, Lead).count() == 4
    assert visible_to(auditor, Enterprise).count() == 2
    assert not visible_to(auditor, Lead, CHANGE).exists()
    assert not visible_to(auditor, Building, CHANGE).exists()


def test_street_officer_sees_their_streets_buildings_tenants_and_leads(district):
    officer = _user(Role.STREET_OFFICER, street=district["north"])

    assert list(visible_to(officer, Building)) == [district["b_north"]]
    assert list(visible_to(officer, Tenancy)) == [district["t_north"]]
    assert list(visible_to(officer, Enterprise)) == [district["t_north"].enterprise]
    assert visible_to(officer, TaxRecord).get().enterprise == district["t_north"].enterprise
    assert set(visible_to(officer, Unit).values_list("building", flat=True)) == {district["b_north"].pk}
    # the north promoter's lead is the street's; the south lead only prefers the south street
    assert list(visible_to(officer, Lead)) == [district["leads"]["north"]]
    assert can(officer, district["b_north"], CHANGE)
    assert not can(officer, district["b_south"], CHANGE)


def test_street_leads_include_leads_preferring_the_street_once(district):
    officer = _user(Role.STREET_OFFICER, street=district["south"])
    district["leads"]["south"].preferred_streets.add(district["north"])

    assert list(visible_to(officer, Lead)) == [district["leads"]["south"]]


def test_promoter_sees_own_leads_and_every_vacancy_but_no_tenant_or_tax(district):
    promoter_user = district["p_north"].user

    assert list(visible_to(promoter_user, Lead)) == [district["leads"]["north"]]
    assert visible_to(promoter_user, Unit).count() == 2
    assert visible_to(promoter_user, Building).count() == 2
    assert not visible_to(promoter_user, Enterprise).exists()
    assert not visible_to(promoter_user, TaxRecord).exists()
    assert can(promoter_user, district["leads"]["north"], CHANGE)
    assert not can(promoter_user, district["leads"]["south"], VIEW)


def test_agency_sees_only_its_own_leads_and_public_building_data(district):
    agency_user = _user(Role.AGENCY, agency=district["agency"])

    assert list(visible_to(agency_user, Lead)) == [district["leads"]["agency"]]
    assert visible_to(agency_user, Building).count() == 2
    assert not visible_to(agency_user, Tenancy).exists()
    assert not visible_to(agency_user, TaxRecord).exists()
    assert not visible_to(agency_user, Building, CHANGE).exists()


def test_building_manager_sees_their_building_its_units_and_tenants(district):
    manager = _user(Role.BUILDING_MANAGER, building=district["b_south"])

    assert list(visible_to(manager, Building)) == [district["b_south"]]
    assert set(visible_to(manager, Unit, CHANGE).values_list("building", flat=True)) == {
        district["b_south"].pk
    }
    assert visible_to(manager, Enterprise).count() == 1
    assert not visible_to(manager, Lead).exists()
    assert not visible_to(manager, TaxRecord).exists()


def test_a_user_without_a_role_sees_nothing(district):
    assert not visible_to(UserFactory(), Building).exists()
    assert not visible_to(UserFactory(), Lead).exists()


def test_policies_are_public_but_a_case_by_case_package_follows_its_lead(district):
    from policies.models import Policy

    # given a district-wide policy and a case-by-case package for the north promoter's lead
    public = Policy.objects.create(name="全区基础政策", scope="district", valid_from="2021-01-01")
    package = Policy.objects.create(
        name="一事一议",
        scope="building",
        building=district["b_north"],
        lead=district["leads"]["north"],
        needs_approval=True,
        approval_status="pending",
        valid_from="2021-01-01",
    )

    # then the owner sees both, another promoter and an agency only the public one
    assert set(visible_to(district["p_north"].user, Policy)) == {public, package}
    assert list(visible_to(PromoterFactory().user, Policy)) == [public]
    assert list(visible_to(_user(Role.AGENCY, agency=district["agency"]), Policy)) == [public]
    assert not visible_to(district["p_north"].user, Policy, CHANGE).exists()


# ---------------------------------------------------------------------------- the request's viewer


def test_a_user_loaded_with_its_scope_gives_its_viewer_without_another_query(
    district, django_assert_num_queries
):
    # given a street officer, a building manager, an agency's account, a promoter, and a user in two
    # role groups (the wider one, the auditor's, wins)
    north, agency = district["north"], district["agency"]
    officer = _user(Role.STREET_OFFICER, street=north)
    manager = _user(Role.BUILDING_MANAGER, building=district["b_north"])
    account = _user(Role.AGENCY, agency=agency)
    promoter = district["p_north"]
    both = _user(Role.PROMOTER)
    both.groups.add(Group.objects.get(name=Role.AUDITOR))
    expected = {
        officer.pk: Viewer(Role.STREET_OFFICER, officer.pk, north.pk, None, None, None),
        manager.pk: Viewer(Role.BUILDING_MANAGER, manager.pk, None, district["b_north"].pk, None, None),
        account.pk: Viewer(Role.AGENCY, account.pk, None, None, agency.pk, None),
        promoter.user_id: Viewer(Role.PROMOTER, promoter.user_id, None, None, None, promoter.pk),
        both.pk: Viewer(Role.AUDITOR, both.pk, None, None, None, None),
    }
    for user_id, viewer in expected.items():
        # when the user is loaded as a request loads it, in one query
        with django_assert_num_queries(1):
            user = user_with_scope(user_id)
        # then its viewer needs no query, and is what the role and scope rows say
        with django_assert_num_queries(0):
            assert viewer_of(user) == viewer
        # and a user loaded plainly (as a task or the shell loads one) gets the same in one query
        plain = get_user_model().objects.get(pk=user_id)
        with django_assert_num_queries(1):
            assert viewer_of(plain) == viewer


def test_a_loaded_user_without_a_role_or_no_longer_active_is_no_one(district):
    # given a user in no role group, a deactivated street officer and a superuser in no group
    nobody = UserFactory()
    retired = _user(Role.STREET_OFFICER, street=district["north"])
    get_user_model().objects.filter(pk=retired.pk).update(is_active=False)
    root = UserFactory(is_superuser=True)

    # then the first two are no one, the superuser acts as the district office
    assert viewer_of(user_with_scope(nobody.pk)) == NO_ONE
    assert viewer_of(user_with_scope(retired.pk)) == NO_ONE
    assert viewer_of(user_with_scope(root.pk)).role == Role.DISTRICT_ADMIN
    # and an id nobody has loads nobody
    assert user_with_scope(root.pk + 1000) is None


def test_the_login_backend_refuses_a_deactivated_user(district):
    # given a street officer who was then deactivated
    officer = _user(Role.STREET_OFFICER, street=district["north"])
    backend = ScopedUserBackend()
    assert backend.get_user(officer.pk).crm_street_id == district["north"].pk
    get_user_model().objects.filter(pk=officer.pk).update(is_active=False)

    # then a session naming them loads no one, as Django's ModelBackend would
    assert backend.get_user(officer.pk) is None
    assert backend.get_user(str(officer.pk + 1000)) is None


def test_a_compiled_query_needs_exactly_one_slot():
    users = get_user_model().objects.all()
    with pytest.raises(ValueError, match="found 0"):
        Compiled.of(users.filter(pk=1))
    with pytest.raises(ValueError, match="found 2"):
        Compiled.of(users.filter(pk=SLOT_ID, username=SLOT))
    # and one slot is filled in at each run
    user = UserFactory(username="编译")
    assert Compiled.of(users.filter(username=SLOT)).instances(get_user_model(), "编译") == [user]

"""The district office's admin: scoped rows per role, writes through services, constant-query lists."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from crm.constants import ActivityKind, LeadChannel, LeadStage, UnitStatus
from crm.models import (
    Building,
    BusinessCircle,
    Enterprise,
    Industry,
    Lead,
    PlanTarget,
    Reservation,
    StageChange,
    Tenancy,
    Unit,
    UserScope,
)
from crm.services.activities import activity_log
from crm.services.leads import lead_create, lead_transition
from crm.services.reservations import unit_reserve
from crm.services.signings import signing_complete
from tests.factories import (
    AgencyFactory,
    BuildingFactory,
    EnterpriseFactory,
    PromoterFactory,
    StreetFactory,
    TaxRecordFactory,
    TenancyFactory,
    UnitFactory,
    UserFactory,
    make_credit_code,
)

pytestmark = pytest.mark.django_db


def _industry(code: str, level: str, section: str, name: str, parent=None) -> Industry:
    # Migration 0004 ships GB/T 4754; get_or_create keeps the tests independent of it.
    industry, _ = Industry.objects.get_or_create(
        code=code, defaults={"level": level, "section": section, "name_zh": name, "parent": parent}
    )
    return industry


def _login(client, role: str, **scope):
    user = UserFactory(role=role, is_staff=True)
    if scope:
        UserScope.objects.create(user=user, **scope)
    client.force_login(user)
    return user


def _url(model, view: str = "changelist", *args) -> str:
    return reverse(f"admin:crm_{model._meta.model_name}_{view}", args=args)


def _message_texts(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


@pytest.fixture
def district():
    """Two streets with a building each, units, a tenant paying tax, leads in several stages, a signing."""
    section = _industry("I", "section", "I", "信息传输、软件和信息技术服务业")
    division = _industry("65", "division", "I", "软件和信息技术服务业", parent=section)
    north, south = StreetFactory(name="北海街道"), StreetFactory(name="南门街道")
    tower = BuildingFactory(name="北海大厦", street=north, main_industry=section)
    plaza = BuildingFactory(
        name="南门广场", street=south, business_circle=BusinessCircle.objects.create(name="古城商圈")
    )
    vacant = UnitFactory(building=tower, number="801")
    held = UnitFactory(building=tower, number="802")
    signed = UnitFactory(building=plaza, number="301")
    tenant = EnterpriseFactory(name="云帆科技有限公司", industry=division)
    TenancyFactory(enterprise=tenant, building=tower)
    TaxRecordFactory(enterprise=tenant)
    agency = AgencyFactory(name="越城招商服务中心")
    UserScope.objects.create(user=UserFactory(role="agency"), agency=agency)
    wang = PromoterFactory(name="王敏", street=north)
    li = PromoterFactory(name="李强", team="二组")
    open_lead = lead_create(company_name="甲软件有限公司", channel=LeadChannel.DEPARTMENT, owner=wang)
    activity_log(lead=open_lead, kind=ActivityKind.CALL, occurred_at=timezone.now())
    negotiating = lead_create(
        company_name="乙数据有限公司",
        credit_code=make_credit_code(7001),
        channel=LeadChannel.INDIVIDUAL,
        owner=li,
    )
    for stage in (LeadStage.CONTACTED, LeadStage.NEGOTIATING):
        negotiating = lead_transition(lead=negotiating, to_stage=stage)
    unit_reserve(lead=negotiating, unit=held, expires_on=timezone.localdate() + dt.timedelta(days=30))
    signing_lead = lead_create(
        company_name="丙网络有限公司",
        credit_code=make_credit_code(7002),
        channel=LeadChannel.TENANT_REFERRAL,
        owner=li,
    )
    for stage in (LeadStage.CONTACTED, LeadStage.NEGOTIATING):
        signing_lead = lead_transition(lead=signing_lead, to_stage=stage)
    signing_complete(lead=signing_lead, building=plaza, units=[signed], signed_on=dt.date(2024, 3, 1))
    return {
        "north": north,
        "south": south,
        "tower": tower,
        "plaza": plaza,
        "vacant": vacant,
        "tenant": tenant,
        "wang": wang,
        "li": li,
        "open_lead": open_lead,
        "negotiating": negotiating,
    }


CRM_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label == "crm"),
    key=lambda model: model._meta.model_name,
)


@pytest.mark.parametrize("model", CRM_MODELS, ids=lambda model: model._meta.model_name)
def test_every_changelist_and_change_page_opens_for_a_district_admin(client, district, model):
    # given a district admin (and the first row of the model, where the district has one)
    _login(client, "district_admin")
    obj = model._default_manager.order_by("pk").first()

    # when the office opens the list and the row's page
    listing = client.get(_url(model))

    # then both answer
    assert listing.status_code == 200
    if obj is not None:
        assert client.get(_url(model, "change", obj.pk)).status_code == 200


# Signings are recorded by signing_complete and stage changes by lead_transition; reminders,
# notifications, warnings and snapshots by the workers' services: no add page.
NOT_ADDED_IN_ADMIN = {
    "signing",
    "stagechange",
    "reminder",
    "reminderdigest",
    "notification",
    "earlywarning",
    "appraisalsnapshot",
    "streetassessmentsnapshot",
    "indicatorsnapshot",
    "webhookdelivery",  # written by the webhook worker (crm.services.webhooks)
    "channelmessage",  # written by the robots' outbox (crm.services.channels)
    "contactaccess",  # written by crm.services.privacy whenever a contact is seen
    "contacterasure",
}


@pytest.mark.parametrize("model", CRM_MODELS, ids=lambda model: model._meta.model_name)
def test_every_add_page_opens_for_a_district_admin_except_service_only_records(client, district, model):
    # given a district admin
    _login(client, "district_admin")

    # when they open the model's add page
    response = client.get(_url(model, "add"))

    # then it opens, unless the records are written only by a service
    expected = 403 if model._meta.model_name in NOT_ADDED_IN_ADMIN else 200
    assert response.status_code == expected


def test_the_user_page_shows_the_scope_inline(client, district):
    # given a district superuser and a street officer with a street
    officer = UserFactory(role="street_officer", is_staff=True)
    UserScope.objects.create(user=officer, street=district["north"])
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    # when the user's page opens
    response = client.get(reverse("admin:auth_user_change", args=[officer.pk]))

    # then it shows the scope under the user
    assert response.status_code == 200
    assert "北海街道" in response.content.decode()


def test_a_street_officer_sees_only_their_streets_buildings(client, district):
    # given an officer of 北海街道 (北海大厦) and 南门广场 in another street
    _login(client, "street_officer", street=district["north"])

    # when they open the building list
    page = client.get(_url(Building)).content.decode()

    # then only their street's building is listed
    assert "北海大厦" in page
    assert "南门广场" not in page


def test_a_street_officer_cannot_open_another_streets_building(client, district):
    # given an officer of 北海街道
    _login(client, "street_officer", street=district["north"])

    # when they open 南门广场 (南门街道) directly
    response = client.get(_url(Building, "change", district["plaza"].pk))

    # then the admin answers as if it did not exist
    assert response.status_code == 404


def test_a_street_officer_changes_a_building_of_their_street(client, district):
    # given an officer of 北海街道 and the form of 北海大厦 as it stands
    _login(client, "street_officer", street=district["north"])
    tower = district["tower"]
    form = {
        "code": tower.code,
        "name": "北海国际大厦",
        "street": tower.street_id,
        "gross_area_m2": "10000",
        "leasable_area_m2": "8000",
        "star_rating": "3",
        "units-TOTAL_FORMS": "0",
        "units-INITIAL_FORMS": "0",
    }

    # when they rename it
    response = client.post(_url(Building, "change", tower.pk), form)

    # then it is saved and the change is in its history under their name
    assert response.status_code == 302
    tower.refresh_from_db()
    assert tower.name == "北海国际大厦"
    assert tower.history.latest().history_user_id == response.wsgi_request.user.pk


def test_a_promoter_sees_only_their_own_leads(client, district):
    # given 王敏 owns 甲软件 and 李强 owns 乙数据 and 丙网络
    client.force_login(district["wang"].user)
    district["wang"].user.is_staff = True
    district["wang"].user.save(update_fields=["is_staff"])

    # when 王敏 opens the lead list
    page = client.get(_url(Lead)).content.decode()

    # then only their lead is there
    assert "甲软件有限公司" in page
    assert "乙数据有限公司" not in page
    assert "丙网络有限公司" not in page


def test_an_auditor_can_view_a_lead_but_a_change_is_refused(client, district):
    # given an auditor and 甲软件's lead
    _login(client, "auditor")
    lead = district["open_lead"]

    # when they open it and then post a change
    page = client.get(_url(Lead, "change", lead.pk))
    post = client.post(_url(Lead, "change", lead.pk), {"company_name": "改名公司", "channel": "department"})

    # then they read it, the change is forbidden and nothing was written
    assert page.status_code == 200
    assert post.status_code == 403
    lead.refresh_from_db()
    assert lead.company_name == "甲软件有限公司"


def test_an_auditor_does_not_see_a_leads_contact_data(client, district):
    # given a lead with a contact person
    lead = district["open_lead"]
    Lead.objects.filter(pk=lead.pk).update(contact_name="赵联系", contact_phone="13900001111")
    _login(client, "auditor")

    # when the auditor opens it
    page = client.get(_url(Lead, "change", lead.pk)).content.decode()

    # then the personal contact data is not on the page
    assert "甲软件有限公司" in page
    assert "赵联系" not in page
    assert "13900001111" not in page


def test_an_auditor_cannot_revert_through_the_history_page(client, district):
    # given a building whose name changed once, and an auditor
    tower = district["tower"]
    first = tower.history.earliest()
    tower.name = "新名大厦"
    tower.save()
    _login(client, "auditor")
    url = reverse("admin:crm_building_simple_history", args=[tower.pk, first.history_id])

    # when the auditor posts the old version back
    response = client.post(url, {"code": tower.code, "name": "北海大厦", "street": tower.street_id})

    # then it is refused and the name stays
    assert response.status_code == 403
    tower.refresh_from_db()
    assert tower.name == "新名大厦"


def test_searching_enterprises_by_credit_code_finds_the_enterprise(client, district):
    # given the tenant 云帆科技 and another enterprise
    EnterpriseFactory(name="别家有限公司")
    _login(client, "district_admin")

    # when the office searches by the tenant's credit code
    page = client.get(_url(district["tenant"].__class__), {"q": district["tenant"].credit_code})

    # then exactly that enterprise is found
    content = page.content.decode()
    assert "云帆科技有限公司" in content
    assert "别家有限公司" not in content


def test_an_enterprises_page_lists_the_companies_it_referred(client, district):
    # given 云帆科技 (a tenant of the tower) referred 推荐科技 to 李's pipeline
    lead_create(
        company_name="推荐科技有限公司",
        channel=LeadChannel.TENANT_REFERRAL,
        owner=district["li"],
        referred_by=district["tenant"],
    )
    _login(client, "district_admin")

    # when the office opens the tenant
    page = client.get(_url(Enterprise, "change", district["tenant"].pk))

    # then the referral is listed under it
    assert page.status_code == 200
    content = page.content.decode()
    assert "推荐的线索" in content and "推荐科技有限公司" in content


def test_a_new_lead_colliding_with_another_promoters_protection_shows_the_message_and_writes_nothing(
    client, district
):
    # given 李强 works 乙数据 (credit code 7001) inside the protection period
    _login(client, "district_admin")
    before = Lead.objects.count()

    # when the office registers the same credit code for 王敏
    response = client.post(
        _url(Lead, "add"),
        {
            "company_name": "乙数据科技公司",
            "credit_code": make_credit_code(7001),
            "channel": LeadChannel.AGENCY,
            "owner": district["wang"].pk,
        },
    )

    # then the form comes back with the protection message naming the owner, and no lead was added
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["credit_code"])
    assert "李强" in errors
    assert district["negotiating"].ref in errors
    assert Lead.objects.count() == before


def test_a_promoter_adding_a_lead_owns_it_and_it_starts_new(client, district):
    # given 王敏 logged in to the admin
    user = district["wang"].user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)

    # when they register a company
    response = client.post(
        _url(Lead, "add"),
        {"company_name": "丁智能有限公司", "channel": LeadChannel.ENTERPRISE, "area_min_m2": "100"},
    )

    # then lead_create wrote it: owned by 王敏, stage new, with a ref and its history
    assert response.status_code == 302
    lead = Lead.objects.get(company_name="丁智能有限公司")
    assert lead.owner == district["wang"]
    assert lead.stage == LeadStage.NEW
    assert lead.ref.startswith("L")
    assert lead.history.latest().history_user_id == user.pk


def test_changing_a_leads_credit_code_into_another_promoters_protection_is_refused(client, district):
    # given 王敏's lead 甲软件 and 李强's protected 乙数据 (credit code 7001)
    _login(client, "district_admin")
    lead = district["open_lead"]

    # when the office changes 甲软件's credit code to 乙数据's
    response = client.post(
        _url(Lead, "change", lead.pk),
        {
            "company_name": lead.company_name,
            "credit_code": make_credit_code(7001),
            "channel": lead.channel,
            "owner": district["wang"].pk,
            "expected_version": lead.version,
            "activities-TOTAL_FORMS": "1",
            "activities-INITIAL_FORMS": "1",
            "stage_changes-TOTAL_FORMS": "0",
            "stage_changes-INITIAL_FORMS": "0",
        },
    )

    # then lead_update refuses it on the form and the lead keeps its blank code
    assert response.status_code == 200
    assert "李强" in " ".join(response.context["adminform"].form.errors["credit_code"])
    lead.refresh_from_db()
    assert lead.credit_code == ""


def test_a_stage_action_moves_a_lead_along_an_allowed_edge(client, district):
    # given 甲软件 is new
    _login(client, "district_admin")
    lead = district["open_lead"]

    # when the office moves it to contacted
    response = client.post(
        _url(Lead), {"action": "move_to_contacted", "_selected_action": [lead.pk]}, follow=True
    )

    # then it is contacted, the move is logged and the office is told
    lead.refresh_from_db()
    assert lead.stage == LeadStage.CONTACTED
    assert StageChange.objects.filter(lead=lead, from_stage="new", to_stage="contacted").count() == 1
    assert any("1 条线索已转为" in text for text in _message_texts(response))


def test_a_stage_action_reports_an_illegal_edge_and_moves_nothing(client, district):
    # given 甲软件 is new and 乙数据 is negotiating
    _login(client, "district_admin")
    new, negotiating = district["open_lead"], district["negotiating"]

    # when the office asks both to become settled (only signed → settled is allowed)
    response = client.post(
        _url(Lead),
        {"action": "move_to_settled", "_selected_action": [new.pk, negotiating.pk]},
        follow=True,
    )

    # then each is reported by ref with the service's message, and neither moved
    texts = _message_texts(response)
    assert any(new.ref in text and "cannot move from new to settled" in text for text in texts)
    assert any(negotiating.ref in text and "cannot move from negotiating" in text for text in texts)
    new.refresh_from_db()
    negotiating.refresh_from_db()
    assert (new.stage, negotiating.stage) == (LeadStage.NEW, LeadStage.NEGOTIATING)


def test_marking_a_lead_lost_needs_the_reason_field(client, district):
    # given 甲软件 is new
    _login(client, "district_admin")
    lead = district["open_lead"]
    url = _url(Lead)

    # when the office marks it lost without a reason, then with one
    refused = client.post(url, {"action": "move_to_lost", "_selected_action": [lead.pk]}, follow=True)
    lead.refresh_from_db()
    stage_after_refusal = lead.stage
    client.post(url, {"action": "move_to_lost", "_selected_action": [lead.pk], "reason": "选址外区"})

    # then the first is refused with the reason message, the second records the reason
    assert any("流失须填写原因" in text for text in _message_texts(refused))
    assert stage_after_refusal == LeadStage.NEW
    lead.refresh_from_db()
    assert (lead.stage, lead.lost_reason) == (LeadStage.LOST, "选址外区")


def test_the_unit_form_does_not_set_a_unit_reserved(client, district):
    # given a vacant unit of 北海大厦
    _login(client, "district_admin")
    unit = district["vacant"]

    # when the office sets it reserved by hand
    response = client.post(
        _url(Unit, "change", unit.pk),
        {"building": unit.building_id, "floor": 8, "number": "801", "area_m2": "200", "status": "reserved"},
    )

    # then the form refuses with unit_update's rule (crm.services.units.unit_status_check): holds are
    # made by unit_reserve
    assert response.status_code == 200
    assert "cannot be set here" in " ".join(response.context["adminform"].form.errors["status"])
    unit.refresh_from_db()
    assert unit.status == UnitStatus.VACANT


def test_a_tenancy_added_in_the_admin_leases_its_units(client, district):
    # given the vacant unit 801 (200 ㎡) of 北海大厦 and an enterprise
    _login(client, "district_admin")
    enterprise = EnterpriseFactory(name="新入驻有限公司")
    unit = district["vacant"]

    # when the office adds a tenancy on it without an area
    response = client.post(
        _url(Tenancy, "add"),
        {
            "enterprise": enterprise.pk,
            "building": district["tower"].pk,
            "tenancy_units": [unit.pk],
            "start": "2024-01-01",
        },
    )

    # then tenancy_create took the area from the unit (200 ㎡) and leased it
    assert response.status_code == 302
    tenancy = Tenancy.objects.get(enterprise=enterprise)
    assert tenancy.area_m2 == Decimal("200")
    unit.refresh_from_db()
    assert unit.status == UnitStatus.LEASED


def test_the_building_list_shows_the_vacant_area(client):
    # given a building with vacant units of 200 and 150 ㎡ and a leased one of 300 ㎡
    building = BuildingFactory(name="空置测试大厦")
    UnitFactory(building=building, area_m2=Decimal("200"))
    UnitFactory(building=building, area_m2=Decimal("150"))
    UnitFactory(building=building, area_m2=Decimal("300"), status=UnitStatus.LEASED)
    _login(client, "district_admin")

    # when the office opens the building list
    response = client.get(_url(Building))

    # then its vacant area is 200 + 150 = 350 ㎡
    row = response.context["cl"].result_list.get(pk=building.pk)
    assert row.vacant_area_m2 == Decimal("350")


@pytest.mark.parametrize("buildings", [3, 30])
def test_the_building_list_runs_a_constant_number_of_queries(
    client, django_assert_max_num_queries, buildings
):
    # given n buildings of one street, each with two units
    street = StreetFactory(name="计数街道")
    for _ in range(buildings):
        UnitFactory.create_batch(2, building=BuildingFactory(street=street))
    _login(client, "district_admin")

    # when the list is opened, then it takes 10 queries whatever n is: session, user with its
    # groups, scope and promoter rows (crm.selectors.scope.user_with_scope), the user's permissions
    # (2: own and groups'), the filters' choices (streets, business circles, industry sections),
    # count of the rows, the page's buildings with street, main industry and vacant area (a
    # subquery) in one query, and the star ratings' filter.
    with django_assert_max_num_queries(10):
        response = client.get(_url(Building))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == buildings


def test_the_admin_speaks_english_when_asked(client, district):
    # given a district admin whose browser asks for English
    _login(client, "district_admin")

    # when they open the building list
    page = client.get(_url(Building), headers={"accept-language": "en"}).content.decode()

    # then labels come from the English catalogue
    assert "Select Building to change" in page
    assert "Vacant area (m²)" in page
    assert "Main industry section" in page


def test_the_english_admin_names_lists_in_the_plural_and_chinese_is_unchanged(client, district):
    # given a district admin
    _login(client, "district_admin")

    # when they open the admin's index in English, then in Chinese
    english = client.get("/admin/", headers={"accept-language": "en"}).content.decode()
    chinese = client.get("/admin/", headers={"accept-language": "zh-hans"}).content.decode()

    # then each model's list is named in the plural in English (Chinese has one form for both)
    for plural in ("Activities", "Agencies", "Buildings", "Leads", "Tenancies", "Incentive policies"):
        assert f">{plural}<" in english, plural
    assert ">Webhook deliveries<" in english and ">Contact access records<" in english
    assert ">跟进记录<" in chinese and ">招商线索<" in chinese


@pytest.mark.parametrize(
    "role", ["street_officer", "promoter", "building_manager", "auditor", "district_admin"]
)
def test_no_changelist_breaks_for_any_role(client, district, role):
    # given a user of the role, scoped where the role needs a place
    scope = {
        "street_officer": {"street": district["north"]},
        "building_manager": {"building": district["tower"]},
    }.get(role, {})
    _login(client, role, **scope)

    # when they open the index, every CRM list, and the page of the first row each list shows
    index = client.get(reverse("admin:index"))
    statuses = {}
    for model in CRM_MODELS:
        listing = client.get(_url(model))
        statuses[model._meta.model_name] = listing.status_code
        if listing.status_code == 200 and listing.context["cl"].result_list:
            first = listing.context["cl"].result_list[0]
            statuses[f"{model._meta.model_name} page"] = client.get(
                _url(model, "change", first.pk)
            ).status_code

    # then each list and page either opens or is forbidden by the role's permissions; none fails
    assert index.status_code == 200
    assert set(statuses.values()) <= {200, 403}, statuses


def _lead_form(lead, **changes) -> dict:
    """The change form of a lead as the admin renders it, with its two read-only inlines."""
    form = {
        "company_name": lead.company_name,
        "credit_code": lead.credit_code,
        "channel": lead.channel,
        "owner": lead.owner_id or "",
        "expected_version": lead.version,
        "activities-TOTAL_FORMS": str(lead.activities.count()),
        "activities-INITIAL_FORMS": str(lead.activities.count()),
        "stage_changes-TOTAL_FORMS": str(lead.stage_changes.count()),
        "stage_changes-INITIAL_FORMS": str(lead.stage_changes.count()),
    }
    form.update(changes)
    return form


def test_editing_a_lead_goes_through_lead_update(client, district):
    # given 甲软件 at version 1
    user = _login(client, "district_admin")
    lead = district["open_lead"]
    assert lead.version == 1

    # when the office corrects its name and needs
    response = client.post(
        _url(Lead, "change", lead.pk),
        _lead_form(lead, company_name="甲软件科技有限公司", area_min_m2="120", area_max_m2="260"),
    )

    # then the change is saved, the version moved 1 → 2, and the history names the office user
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.company_name, lead.area_min_m2, lead.area_max_m2) == (
        "甲软件科技有限公司",
        Decimal("120"),
        Decimal("260"),
    )
    assert lead.version == 2
    assert lead.history.latest().history_user_id == user.pk


def test_an_inverted_area_range_is_shown_on_the_form(client, district):
    # given 甲软件
    _login(client, "district_admin")
    lead = district["open_lead"]

    # when the office enters a maximum area below the minimum
    response = client.post(
        _url(Lead, "change", lead.pk), _lead_form(lead, area_min_m2="300", area_max_m2="100")
    )

    # then the service's message is on the maximum area and nothing changed
    assert response.status_code == 200
    assert "最大面积 100㎡ 小于最小面积 300㎡" in " ".join(
        response.context["adminform"].form.errors["area_max_m2"]
    )
    lead.refresh_from_db()
    assert lead.area_max_m2 is None


def test_a_lead_form_opened_before_another_change_is_refused(client, district):
    # given the office opened 甲软件 at version 1, and then someone else changed it (version 2)
    _login(client, "district_admin")
    lead = district["open_lead"]
    stale = _lead_form(lead, company_name="晚到的名字有限公司")
    Lead.objects.filter(pk=lead.pk).update(version=2)

    # when the office saves the form it opened
    response = client.post(_url(Lead, "change", lead.pk), stale)

    # then the form says the lead changed meanwhile, and the name stays
    assert response.status_code == 200
    assert "the lead was changed by someone else" in " ".join(
        response.context["adminform"].form.non_field_errors()
    )
    lead.refresh_from_db()
    assert lead.company_name == "甲软件有限公司"


def test_a_street_officer_picks_only_their_streets_buildings(client, district):
    # given an officer of 北海街道
    _login(client, "street_officer", street=district["north"])

    # when they search buildings for a unit's building field
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "crm", "model_name": "unit", "field_name": "building", "term": ""},
    )

    # then only 北海大厦 is offered
    names = [row["text"] for row in response.json()["results"]]
    assert len(names) == 1
    assert names[0].startswith("北海大厦")


def test_a_unit_is_offered_by_building_name_and_number(client, district):
    # given the office picking the unit of a hold
    _login(client, "district_admin")

    # when it searches units for 801
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "crm", "model_name": "reservation", "field_name": "unit", "term": "801"},
    )

    # then 801 of 北海大厦 reads as a promoter names it, not by the building's code
    assert [row["text"] for row in response.json()["results"]] == ["北海大厦 801"]


def test_a_hold_added_in_the_admin_goes_through_unit_reserve(client, district):
    # given 乙数据 negotiating and the vacant unit 801
    _login(client, "district_admin")
    unit = district["vacant"]
    expires = timezone.localdate() + dt.timedelta(days=14)

    # when the office holds 801 for it
    response = client.post(
        reverse("admin:crm_reservation_add"),
        {"lead": district["negotiating"].pk, "unit": unit.pk, "expires_on": expires.isoformat()},
    )

    # then the unit is reserved and the hold names the lead's owner
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.status == UnitStatus.RESERVED
    hold = unit.reservations.get(released_at__isnull=True)
    assert hold.promoter == district["li"]


def test_a_hold_for_a_lead_not_in_negotiation_is_refused_on_the_form(client, district):
    # given 甲软件 is new
    _login(client, "district_admin")
    expires = timezone.localdate() + dt.timedelta(days=14)

    # when the office tries to hold 801 for it
    response = client.post(
        reverse("admin:crm_reservation_add"),
        {"lead": district["open_lead"].pk, "unit": district["vacant"].pk, "expires_on": expires.isoformat()},
    )

    # then unit_reserve's message is on the lead field and the unit stays vacant
    assert response.status_code == 200
    assert "only a lead in negotiation can hold units" in " ".join(
        response.context["adminform"].form.errors["lead"]
    )
    district["vacant"].refresh_from_db()
    assert district["vacant"].status == UnitStatus.VACANT


def test_the_release_action_frees_a_held_unit(client, district):
    # given 802 is held for 乙数据
    _login(client, "district_admin")
    hold = district["negotiating"].reservations.get()

    # when the office releases the hold
    client.post(
        reverse("admin:crm_reservation_changelist"), {"action": "release", "_selected_action": [hold.pk]}
    )

    # then the hold is closed and 802 is vacant again
    hold.refresh_from_db()
    assert hold.released_at is not None
    assert hold.unit.status == UnitStatus.VACANT


@pytest.fixture
def lapsed_hold(district):
    """乙数据's hold on 802, which ran out yesterday and which the nightly job has not yet released."""
    hold = district["negotiating"].reservations.get()
    Reservation.objects.filter(pk=hold.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    return hold


def test_the_hold_list_tells_a_lapsed_hold_from_a_live_one(client, district, lapsed_hold):
    # given the office's login
    _login(client, "district_admin")
    url = reverse("admin:crm_reservation_changelist")
    # when it filters the holds by state
    live = client.get(url, {"state": "live"}).context["cl"].result_list
    lapsed = client.get(url, {"state": "lapsed"}).context["cl"].result_list
    # then the hold past its expiry is lapsed, not live, and its row says so
    assert (list(live), [h.pk for h in lapsed]) == ([], [lapsed_hold.pk])
    assert lapsed[0].live is False


def test_the_release_action_counts_a_lapsed_hold_apart_and_frees_its_unit(client, district, lapsed_hold):
    # given the office's login
    _login(client, "district_admin")
    # when it selects the lapsed hold and releases it
    response = client.post(
        reverse("admin:crm_reservation_changelist"),
        {"action": "release", "_selected_action": [lapsed_hold.pk]},
        follow=True,
    )
    # then no live hold was released, the lapsed one is closed and 802 is vacant now, not after the job
    assert [str(m) for m in response.context["messages"]] == ["已释放 0 项预留;另关闭 1 项已过期预留"]
    lapsed_hold.refresh_from_db()
    assert lapsed_hold.released_at is not None
    assert lapsed_hold.unit.status == UnitStatus.VACANT


def test_the_lead_page_lists_live_holds_only(client, district, lapsed_hold):
    # given the office's login and 乙数据 with a live hold on a second unit
    _login(client, "district_admin")
    second = UnitFactory(building=district["tower"], number="901")
    live = unit_reserve(lead=district["negotiating"], unit=second, expires_on=timezone.localdate())
    # when it opens 乙数据's page
    response = client.get(reverse("web:lead", args=[district["negotiating"].pk]))
    # then only the hold still in force on 901 is listed
    assert [hold.pk for hold in response.context["holds"]] == [live.pk]


def test_an_auditor_does_not_see_contact_data_in_a_leads_history(client, district):
    # given 甲软件's contact phone was changed through the admin by the office
    lead = district["open_lead"]
    _login(client, "district_admin")
    client.post(
        _url(Lead, "change", lead.pk), _lead_form(lead, contact_phone="13900002222", lawful_basis="consent")
    )
    lead.refresh_from_db()
    assert lead.contact_phone == "13900002222"

    # when an auditor opens the lead's history
    _login(client, "auditor")
    page = client.get(_url(Lead, "history", lead.pk))

    # then the history opens without the phone number
    assert page.status_code == 200
    assert "13900002222" not in page.content.decode()


def test_a_district_admin_edits_a_plan_target_in_the_list(client):
    # given the seeded target of 2021's gross area, 230 (万㎡)
    target = PlanTarget.objects.get(key="gross_area", year=2021)
    assert target.value == Decimal("230")
    _login(client, "district_admin")

    # when the office types 235 into the list and saves
    response = client.post(
        _url(PlanTarget),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": target.pk,
            "form-0-value": "235",
            "_save": "保存",
        },
    )

    # then the target is 235
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.value == Decimal("235")


def test_an_auditor_cannot_edit_plan_targets(client):
    # given an auditor and 2021's gross-area target of 230
    target = PlanTarget.objects.get(key="gross_area", year=2021)
    _login(client, "auditor")

    # when they post the list's edit form
    response = client.post(
        _url(PlanTarget),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": target.pk,
            "form-0-value": "1",
            "_save": "保存",
        },
    )

    # then it is refused and the target stays 230
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.value == Decimal("230")

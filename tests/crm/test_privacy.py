"""Personal information of leads' contact persons: lawful basis, access records, erasure, retention."""

import csv
import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.constants import ActivityKind, LeadChannel, LeadStage
from crm.district_io import district_export
from crm.models import (
    Activity,
    ContactAccess,
    ContactErasure,
    Lead,
    StageChange,
    UserScope,
    WebhookDelivery,
)
from crm.selectors.scope import PERSONAL_FIELDS, visible_to
from crm.services.leads import lead_create, lead_transition, lead_update
from crm.services.privacy import (
    ERASED,
    contact_access_record,
    contact_erase,
    contacts_expired_erase,
)
from crm.services.webhooks import webhook_register
from tests.factories import AgencyFactory, LeadFactory, PromoterFactory, StreetFactory, UserFactory
from workers.schedule import DEFAULT_SCHEDULE
from workers.tasks import contacts_retention_nightly

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 6, 1, 12, 0))


def _history_contacts(lead: Lead) -> list[tuple[str, str]]:
    return list(lead.history.order_by("history_id").values_list("contact_name", "contact_phone"))


# ---------------------------------------------------------------------------- lawful basis


def test_an_agency_lead_with_a_contact_needs_a_lawful_basis():
    # given an agency handing over a contact person without saying why it may
    agency = AgencyFactory()
    # when / then
    with pytest.raises(ValidationError) as error:
        lead_create(company_name="甲有限公司", channel=LeadChannel.AGENCY, agency=agency, contact_name="王芳")
    assert list(error.value.message_dict) == ["lawful_basis"]
    assert not Lead.objects.exists()


def test_the_lawful_basis_is_stamped_when_it_is_given_and_when_it_changes():
    # given a lead registered with the person's consent at NOW
    lead = lead_create(
        company_name="乙有限公司",
        channel=LeadChannel.AGENCY,
        agency=AgencyFactory(),
        contact_name="王芳",
        lawful_basis="consent",
        created_at=NOW,
    )
    assert (lead.lawful_basis, lead.lawful_basis_recorded_at) == ("consent", NOW)
    # when the basis is changed to public information
    lead = lead_update(lead=lead, lawful_basis="public")
    # then it is stamped anew (now, well after NOW)
    assert lead.lawful_basis == "public"
    assert lead.lawful_basis_recorded_at > NOW


def test_staff_may_register_a_contact_without_a_basis_and_change_other_facts_of_old_agency_leads():
    # given an agency lead from before lawful bases were kept (a contact, no basis)
    lead = LeadFactory(agency=AgencyFactory(), channel=LeadChannel.AGENCY, contact_phone="13900001111")
    # when the office changes a business fact
    lead = lead_update(lead=lead, budget_rent=Decimal("2.50"))
    # then it is accepted; changing the contact itself would need the basis
    assert lead.budget_rent == Decimal("2.50")
    with pytest.raises(ValidationError) as error:
        lead_update(lead=lead, contact_name="赵强")
    assert list(error.value.message_dict) == ["lawful_basis"]


# ---------------------------------------------------------------------------- access records


def test_a_page_of_leads_is_recorded_in_one_insert_skipping_leads_without_contacts():
    # given three leads, two of them with a contact
    user = UserFactory()
    leads = [
        LeadFactory(contact_name="张三"),
        LeadFactory(),
        LeadFactory(contact_phone="13812345678"),
    ]
    # when
    with CaptureQueriesContext(connection) as queries:
        written = contact_access_record(user=user, how=ContactAccess.How.API_LIST, leads=leads)
    # then one INSERT of two rows
    assert (written, len(queries)) == (2, 1)
    rows = ContactAccess.objects.order_by("lead_id").values_list("lead_id", "user_id", "how")
    assert list(rows) == [(leads[0].pk, user.pk, "api-list"), (leads[2].pk, user.pk, "api-list")]


def test_rows_read_with_values_are_recorded_like_loaded_leads():
    # given the API's rows of three leads (mappings, not instances), the middle one without a contact
    user = UserFactory()
    leads = [LeadFactory(contact_name="李四"), LeadFactory(), LeadFactory(contact_phone="13900001111")]
    rows = list(Lead.objects.order_by("pk").values("id", "contact_name", "contact_phone"))
    # when
    with CaptureQueriesContext(connection) as queries:
        written = contact_access_record(user=user, how=ContactAccess.How.API_DETAIL, leads=rows)
    # then one INSERT of the two with a contact, each stamped with the same moment
    assert (written, len(queries)) == (2, 1)
    recorded = ContactAccess.objects.order_by("lead_id")
    assert [(r.lead_id, r.user_id, r.how) for r in recorded] == [
        (leads[0].pk, user.pk, "api-detail"),
        (leads[2].pk, user.pk, "api-detail"),
    ]
    assert recorded[0].at == recorded[1].at


def test_the_access_log_goes_with_its_lead_and_outlives_its_reader():
    # given two recorded views of one lead by a user, and one of another lead
    user = UserFactory()
    seen, other = LeadFactory(contact_name="王五"), LeadFactory(contact_name="赵六")
    contact_access_record(user=user, how=ContactAccess.How.WEB_DETAIL, leads=[seen, seen, other])
    # when the lead is deleted, and then the user
    seen.delete()
    user.delete()
    # then (with no database keys, the ORM cascades) only the other lead's record is left, its reader
    # unknown
    assert list(ContactAccess.objects.values_list("lead_id", "user_id")) == [(other.pk, None)]


def test_an_export_of_a_queryset_is_recorded_in_one_insert_select():
    # given 5 leads with a phone and 2 without
    user = UserFactory()
    with_phone = [LeadFactory(contact_phone=f"1380000000{n}") for n in range(5)]
    LeadFactory.create_batch(2)
    # when the whole table is recorded as exported
    with CaptureQueriesContext(connection) as queries:
        written = contact_access_record(user=user, how=ContactAccess.How.WEB_EXPORT, leads=Lead.objects.all())
    # then one statement wrote 5 rows
    assert (written, len(queries)) == (5, 1)
    assert set(ContactAccess.objects.values_list("lead_id", flat=True)) == {lead.pk for lead in with_phone}


def test_a_district_export_records_every_lead_whose_contact_it_wrote(tmp_path):
    # given two leads with contacts and one without
    first, second = LeadFactory(contact_name="张三"), LeadFactory(contact_phone="13812345678")
    LeadFactory()
    office = UserFactory(role="district_admin")
    # when
    district_export(directory=tmp_path, by=office)
    # then
    rows = ContactAccess.objects.values_list("lead_id", "user_id", "how")
    assert set(rows) == {(first.pk, office.pk, "district-export"), (second.pk, office.pk, "district-export")}


def test_the_export_command_names_its_operator(tmp_path):
    # given
    lead = LeadFactory(contact_name="张三")
    # when
    call_command("export_district", str(tmp_path), stdout=StringIO())
    # then a row without a user, its note naming the command
    access = ContactAccess.objects.get()
    assert (access.lead_id, access.user_id, access.how) == (lead.pk, None, "district-export")
    assert access.note.startswith("manage.py export_district (")


def test_only_the_office_and_the_auditor_see_the_access_log_and_erasures():
    # given a record of each
    lead = LeadFactory(contact_name="张三")
    promoter_user = lead.owner.user
    ContactAccess.objects.create(lead=lead, user=promoter_user, how="web-detail", at=NOW)
    ContactErasure.objects.create(lead=lead, erased_at=NOW, reason="request")
    # when / then
    for role, expected in (("district_admin", 1), ("auditor", 1), ("promoter", 0), ("street_officer", 0)):
        user = UserFactory(role=role)
        assert visible_to(user, ContactAccess).count() == expected, role
        assert visible_to(user, ContactErasure).count() == expected, role


# ---------------------------------------------------------------------------- erasure


@pytest.fixture
def worked_lead():
    """A lead whose contact was changed once, quoted in notes, and who was lost."""
    office = UserFactory(role="district_admin")
    lead = lead_create(
        company_name="丙科技有限公司",
        channel=LeadChannel.DEPARTMENT,
        owner=PromoterFactory(),
        contact_name="李雷",
        contact_phone="13912345678",
        lawful_basis="contract",
        budget_rent=Decimal("3.20"),
        area_min_m2=Decimal("200"),
        created_at=NOW,
    )
    lead = lead_update(lead=lead, contact_name="韩梅梅", contact_phone="021-5555 0001", by=office)
    Activity.objects.create(
        lead=lead, kind=ActivityKind.CALL, occurred_at=NOW, notes="致电李雷 139-1234-5678,约下周看房"
    )
    Activity.objects.create(lead=lead, kind=ActivityKind.VISIT, occurred_at=NOW, notes="拜访,对方关注租金")
    lead = lead_transition(lead=lead, to_stage=LeadStage.LOST, reason="韩梅梅称已选定他区", at=NOW)
    return Lead.objects.get(pk=lead.pk)


def test_erasing_removes_the_contact_from_the_lead_its_history_and_its_texts(worked_lead):
    # given the lead's history holds both contacts (create, update, stage change: 3 rows)
    lead = worked_lead
    assert {c for c in _history_contacts(lead)} == {("李雷", "13912345678"), ("韩梅梅", "021-5555 0001")}
    version = lead.version
    office = UserFactory(role="district_admin")
    # when
    outcome = contact_erase(lead_ids=[lead.pk], by=office, note="本人申请 2026-001")
    # then the lead keeps its business facts and loses its contact
    lead.refresh_from_db()
    assert (lead.contact_name, lead.contact_phone, lead.lawful_basis) == ("", "", "")
    assert (lead.company_name, lead.budget_rent, lead.area_min_m2) == ("丙科技有限公司", Decimal("3.20"), 200)
    assert lead.version == version + 1
    # its audit history has no name or phone left in any of its 3 rows
    assert _history_contacts(lead) == [("", ""), ("", ""), ("", "")]
    # the old name and phone (typed differently) are gone from the notes; the other note is untouched
    notes = sorted(Activity.objects.filter(lead=lead).values_list("notes", flat=True))
    assert notes == sorted([f"致电{ERASED} {ERASED},约下周看房", "拜访,对方关注租金"])
    # and from the lost reason, on the lead, its history rows and the stage change
    assert lead.lost_reason == f"{ERASED}称已选定他区"
    assert StageChange.objects.get(lead=lead).reason == f"{ERASED}称已选定他区"
    assert not lead.history.filter(lost_reason__contains="韩梅梅").exists()
    # one erasure recorded: who, why, how much; 3 history rows, texts: 1 note + 1 change + lead + 1 history
    erasure = ContactErasure.objects.get()
    assert (erasure.lead_id, erasure.erased_by, erasure.reason, erasure.note) == (
        lead.pk,
        office,
        "request",
        "本人申请 2026-001",
    )
    assert (erasure.history_rows, erasure.texts_scrubbed) == (3, 4)
    assert (outcome.erased, outcome.already_clear) == ([lead.pk], [])


def test_erasing_twice_changes_and_records_nothing_the_second_time(worked_lead):
    # given an erased lead
    contact_erase(lead_ids=[worked_lead.pk])
    version = Lead.objects.get(pk=worked_lead.pk).version
    # when
    outcome = contact_erase(lead_ids=[worked_lead.pk])
    # then
    assert (outcome.erased, outcome.already_clear) == ([], [worked_lead.pk])
    assert ContactErasure.objects.count() == 1
    assert Lead.objects.get(pk=worked_lead.pk).version == version


def test_a_missing_lead_id_is_a_clear_error_and_nothing_is_erased(worked_lead):
    # when one of the ids does not exist
    with pytest.raises(ValidationError) as error:
        contact_erase(lead_ids=[worked_lead.pk, 987654])
    # then
    assert error.value.message_dict == {"lead": ["没有编号为 987654 的线索 / no lead with id 987654"]}
    assert Lead.objects.get(pk=worked_lead.pk).contact_name == "韩梅梅"
    assert not ContactErasure.objects.exists()


def test_an_export_after_erasure_has_no_contact(worked_lead, tmp_path):
    # when
    contact_erase(lead_ids=[worked_lead.pk])
    district_export(directory=tmp_path)
    # then the lead's row is there with empty contact columns
    with open(tmp_path / "leads.csv", encoding="utf-8") as file:
        row = next(r for r in csv.DictReader(file) if r["ref"] == worked_lead.ref)
    assert (row["company_name"], row["contact_name"], row["contact_phone"]) == ("丙科技有限公司", "", "")
    text = (tmp_path / "leads.csv").read_text(encoding="utf-8")
    text += (tmp_path / "activities.csv").read_text(encoding="utf-8")
    assert "韩梅梅" not in text and "李雷" not in text and "5678" not in text


def test_the_command_erases_and_reports_each_lead(worked_lead):
    # given a lead with no contact at all
    empty = LeadFactory()
    out = StringIO()
    # when
    call_command("erase_contact", str(worked_lead.pk), str(empty.pk), stdout=out)
    # then
    assert out.getvalue().splitlines() == [
        f"{worked_lead.pk}: 已删除 / erased",
        f"{empty.pk}: 无联系人信息 / nothing to erase",
    ]
    assert ContactErasure.objects.get().note.startswith("manage.py erase_contact (")


def test_the_command_refuses_a_missing_lead():
    with pytest.raises(CommandError, match="no lead with id 424242"):
        call_command("erase_contact", "424242", stdout=StringIO())


def test_webhook_deliveries_carry_no_contact_data(worked_lead):
    # given an agency's lead with a contact and a webhook
    agency = AgencyFactory()
    webhook_register(agency=agency, url="https://agency.example/hook")
    lead = lead_create(
        company_name="丁有限公司",
        channel=LeadChannel.AGENCY,
        agency=agency,
        contact_name="赵强",
        contact_phone="13700001111",
        lawful_basis="consent",
    )
    # when its stage changes
    lead_transition(lead=lead, to_stage=LeadStage.CONTACTED)
    # then the stored payload names neither field nor value (so erasure need not touch the log)
    payload = WebhookDelivery.objects.get(lead=lead).payload
    flat = str(payload)
    assert not set(PERSONAL_FIELDS[Lead]) & set(payload["lead"])
    assert "赵强" not in flat and "13700001111" not in flat


# ---------------------------------------------------------------------------- retention


def _lost(*, days_ago: dt.timedelta, contact: str = "王五", via_change: bool = True) -> Lead:
    when = NOW - days_ago
    lead = LeadFactory(contact_name=contact, created_at=when - dt.timedelta(days=30), last_activity_at=when)
    if via_change:
        StageChange.objects.create(
            lead=lead, from_stage="new", to_stage="lost", reason="无意向", changed_at=when
        )
    Lead.objects.filter(pk=lead.pk).update(stage=LeadStage.LOST, lost_reason="无意向")
    return lead


def test_retention_erases_leads_lost_longer_ago_than_the_setting_and_no_others(settings):
    # given a retention of 730 days, and leads around the boundary
    settings.CONTACT_RETENTION_DAYS_AFTER_LOST = 730
    exactly = _lost(days_ago=dt.timedelta(days=730))
    just_over = _lost(days_ago=dt.timedelta(days=730, seconds=1))
    imported = _lost(days_ago=dt.timedelta(days=800), via_change=False)  # lost at its last activity
    recent = _lost(days_ago=dt.timedelta(days=729, hours=23))
    open_old = LeadFactory(contact_name="赵六", created_at=NOW - dt.timedelta(days=1500))
    # a lead lost long ago, reopened (a later change to contacted) and lost again yesterday
    relost = _lost(days_ago=dt.timedelta(days=900))
    StageChange.objects.create(
        lead=relost, from_stage="lost", to_stage="contacted", changed_at=NOW - dt.timedelta(days=10)
    )
    StageChange.objects.create(
        lead=relost, from_stage="contacted", to_stage="lost", changed_at=NOW - dt.timedelta(days=1)
    )
    # when
    erased = contacts_expired_erase(now=NOW)
    # then exactly the one lost just over 730 days ago and the one imported as lost 800 days ago
    assert erased == 2
    kept = dict(Lead.objects.values_list("pk", "contact_name"))
    assert (kept[just_over.pk], kept[imported.pk]) == ("", "")
    assert (kept[exactly.pk], kept[recent.pk], kept[open_old.pk], kept[relost.pk]) == (
        "王五",
        "王五",
        "赵六",
        "王五",
    )
    reasons = set(ContactErasure.objects.values_list("lead_id", "reason", "erased_by"))
    assert reasons == {(just_over.pk, "retention", None), (imported.pk, "retention", None)}


def test_retention_works_through_batches_and_a_rerun_finds_nothing(settings):
    # given 5 expired leads and a batch of 2
    settings.CONTACT_RETENTION_DAYS_AFTER_LOST = 730
    leads = [_lost(days_ago=dt.timedelta(days=731)) for _ in range(5)]
    # when
    first = contacts_expired_erase(now=NOW, batch=2)
    second = contacts_expired_erase(now=NOW, batch=2)
    # then
    assert (first, second) == (5, 0)
    assert not Lead.objects.filter(pk__in=[lead.pk for lead in leads]).exclude(contact_name="").exists()
    assert ContactErasure.objects.count() == 5


def test_retention_also_erases_history_when_the_lead_row_was_already_blank(settings):
    # given an expired lead whose contact was cleared by an edit but stays in its audit history
    settings.CONTACT_RETENTION_DAYS_AFTER_LOST = 730
    lead = lead_create(
        company_name="戊有限公司",
        channel=LeadChannel.DEPARTMENT,
        contact_phone="13600001234",
        lawful_basis="consent",
    )
    lead = lead_update(lead=lead, contact_phone="")
    StageChange.objects.create(
        lead=lead, from_stage="new", to_stage="lost", changed_at=NOW - dt.timedelta(days=731)
    )
    Lead.objects.filter(pk=lead.pk).update(stage=LeadStage.LOST, lost_reason="无意向")
    # when
    erased = contacts_expired_erase(now=NOW)
    # then
    assert erased == 1
    assert set(_history_contacts(lead)) == {("", "")}


def test_a_retention_setting_below_one_day_is_refused(settings):
    settings.CONTACT_RETENTION_DAYS_AFTER_LOST = 0
    with pytest.raises(ImproperlyConfigured, match="CONTACT_RETENTION_DAYS_AFTER_LOST"):
        contacts_expired_erase(now=NOW)


def test_the_nightly_task_runs_the_retention_and_is_scheduled(settings):
    # given one lead lost 731 days before today
    settings.CONTACT_RETENTION_DAYS_AFTER_LOST = 730
    lead = LeadFactory(contact_name="王五", last_activity_at=timezone.now() - dt.timedelta(days=731))
    Lead.objects.filter(pk=lead.pk).update(stage=LeadStage.LOST, lost_reason="无意向")
    # when
    erased = contacts_retention_nightly.apply().get()
    # then
    assert erased == 1
    entry = next(e for e in DEFAULT_SCHEDULE if e.task == "workers.tasks.contacts_retention_nightly")
    assert entry.crontab == {"minute": "45", "hour": "0"}


# ---------------------------------------------------------------------------- admin


def _admin_login(client, role: str, **scope):
    user = UserFactory(role=role, is_staff=True)
    if scope:
        UserScope.objects.create(user=user, **scope)
    client.force_login(user)
    return user


def test_the_admin_action_asks_then_erases(client, worked_lead):
    # given the office in the admin
    office = _admin_login(client, "district_admin")
    url = reverse("admin:crm_lead_changelist")
    selected = {"action": "erase_contacts", "_selected_action": [worked_lead.pk]}
    # when it picks the action: a confirmation page, nothing erased yet
    asked = client.post(url, selected)
    assert asked.status_code == 200
    assert "确认删除" in asked.content.decode()
    assert Lead.objects.get(pk=worked_lead.pk).contact_name == "韩梅梅"
    # when it confirms
    done = client.post(url, {**selected, "confirm": "yes", "reason": "本人申请"})
    # then
    assert done.status_code == 302
    erasure = ContactErasure.objects.get()
    assert (erasure.erased_by, erasure.note) == (office, "本人申请")
    assert Lead.objects.get(pk=worked_lead.pk).contact_name == ""


def test_a_promoter_has_no_erase_action(client):
    # given a promoter's own lead
    user = _admin_login(client, "promoter")
    promoter = PromoterFactory(user=user)
    lead = LeadFactory(owner=promoter, contact_name="张三")
    # when
    response = client.post(
        reverse("admin:crm_lead_changelist"),
        {"action": "erase_contacts", "_selected_action": [lead.pk], "confirm": "yes"},
    )
    # then the admin refuses an action it did not offer, and nothing is erased
    assert response.status_code in (200, 302)
    assert Lead.objects.get(pk=lead.pk).contact_name == "张三"
    assert not ContactErasure.objects.exists()


def test_the_admin_change_page_records_an_unmasked_view_only(client):
    # given a lead with a contact in a street
    street = StreetFactory()
    lead = LeadFactory(contact_name="张三", owner=PromoterFactory(street=street))
    url = reverse("admin:crm_lead_change", args=[lead.pk])
    office = _admin_login(client, "district_admin")
    # when the office opens it
    assert client.get(url).status_code == 200
    # then one record
    assert list(ContactAccess.objects.values_list("user_id", "how", "lead_id")) == [
        (office.pk, "admin", lead.pk)
    ]
    # when the auditor (who reads contacts masked) opens it: no new record
    client.force_login(UserFactory(role="auditor", is_staff=True))
    assert client.get(url).status_code == 200
    assert ContactAccess.objects.count() == 1


def test_the_access_log_is_read_only_in_the_admin(client):
    # given a record
    lead = LeadFactory(contact_name="张三")
    access = ContactAccess.objects.create(lead=lead, how="web-detail", at=NOW)
    _admin_login(client, "auditor")
    # when / then the auditor lists and opens it, but cannot add or delete
    assert client.get(reverse("admin:crm_contactaccess_changelist")).status_code == 200
    assert client.get(reverse("admin:crm_contactaccess_change", args=[access.pk])).status_code == 200
    assert client.get(reverse("admin:crm_contactaccess_add")).status_code == 403
    client.force_login(UserFactory(role="district_admin", is_staff=True))
    assert client.get(reverse("admin:crm_contactaccess_delete", args=[access.pk])).status_code == 403


def test_the_admin_history_page_records_an_unmasked_view(client, worked_lead):
    # when the office opens the lead's history (its diffs show the old contact)
    office = _admin_login(client, "district_admin")
    response = client.get(reverse("admin:crm_lead_history", args=[worked_lead.pk]))
    # then
    assert response.status_code == 200
    assert list(ContactAccess.objects.values_list("user_id", "how")) == [(office.pk, "admin")]

"""Lead rules: registration, the 撞单 protection period, stage edges, versions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.constants import LeadChannel, LeadStage
from crm.models import Lead, StageChange
from crm.services.activities import activity_log
from crm.services.leads import LeadVersionConflict, lead_create, lead_transition, lead_update
from tests.factories import LeadFactory, PromoterFactory, make_credit_code

pytestmark = pytest.mark.django_db


def _messages(exc: ValidationError, field: str) -> str:
    return " ".join(exc.value.message_dict[field])


def test_a_lead_is_created_new_with_its_owner_and_a_ref():
    owner = PromoterFactory()

    lead = lead_create(company_name="绍兴云帆科技有限公司", channel=LeadChannel.DEPARTMENT, owner=owner)

    assert lead.stage == LeadStage.NEW
    assert lead.owner == owner
    assert lead.ref.startswith("L")
    assert lead.normalised_name == "绍兴云帆科技有限公司"


def test_same_credit_code_inside_another_promoters_protection_is_refused_naming_the_owner():
    # given promoter 王敏 registered the company 10 days ago
    holder = PromoterFactory(name="王敏")
    code = make_credit_code(42)
    first = lead_create(company_name="甲公司", credit_code=code, channel=LeadChannel.DEPARTMENT, owner=holder)
    Lead.objects.filter(pk=first.pk).update(last_activity_at=timezone.now() - dt.timedelta(days=10))
    expected_until = timezone.localtime(timezone.now() - dt.timedelta(days=10)).date() + dt.timedelta(days=90)

    # when another promoter registers the same code under another name
    with pytest.raises(ValidationError) as exc:
        lead_create(
            company_name="乙公司", credit_code=code, channel=LeadChannel.INDIVIDUAL, owner=PromoterFactory()
        )

    # then it is refused with the owner and the end of the protection period
    message = _messages(exc, "credit_code")
    assert "王敏" in message
    assert f"{expected_until:%Y-%m-%d}" in message
    assert Lead.objects.count() == 1


def test_same_name_written_differently_counts_as_the_same_company():
    lead_create(
        company_name="绍兴(越城)数据有限公司",
        channel=LeadChannel.DEPARTMENT,
        owner=PromoterFactory(name="李强"),
    )

    with pytest.raises(ValidationError) as exc:
        lead_create(
            company_name=" 绍兴（越城）数据 有限公司", channel=LeadChannel.DEPARTMENT, owner=PromoterFactory()
        )

    assert "李强" in _messages(exc, "company_name")


def test_protection_ends_90_days_after_the_owners_last_activity():
    first = lead_create(company_name="丙公司", channel=LeadChannel.DEPARTMENT, owner=PromoterFactory())
    Lead.objects.filter(pk=first.pk).update(last_activity_at=timezone.now() - dt.timedelta(days=91))

    second = lead_create(company_name="丙公司", channel=LeadChannel.DEPARTMENT, owner=PromoterFactory())

    assert second.pk != first.pk


def test_an_activity_renews_the_protection():
    owner = PromoterFactory()
    first = lead_create(company_name="丁公司", channel=LeadChannel.DEPARTMENT, owner=owner)
    Lead.objects.filter(pk=first.pk).update(last_activity_at=timezone.now() - dt.timedelta(days=100))
    first.refresh_from_db()

    activity_log(lead=first, kind="call", occurred_at=timezone.now() - dt.timedelta(days=1), promoter=owner)

    with pytest.raises(ValidationError):
        lead_create(company_name="丁公司", channel=LeadChannel.DEPARTMENT, owner=PromoterFactory())


def test_a_next_follow_up_more_than_a_year_after_the_activity_is_refused():
    lead = LeadFactory()
    done = timezone.now() - dt.timedelta(hours=1)
    a_year, a_day = dt.timedelta(days=366), dt.timedelta(days=1)

    # a follow-up set a year and a day after the activity is refused, and nothing is logged
    with pytest.raises(ValidationError) as exc:
        activity_log(lead=lead, kind="call", occurred_at=done, next_follow_up_at=done + a_year + a_day)
    assert "next_follow_up_at" in exc.value.message_dict
    assert not lead.activities.exists()

    # and one a year ahead is kept
    logged = activity_log(lead=lead, kind="call", occurred_at=done, next_follow_up_at=done + a_year)
    assert logged.next_follow_up_at == done + a_year


def test_the_owner_may_not_register_the_company_twice():
    owner = PromoterFactory()
    first = lead_create(company_name="庚公司", channel=LeadChannel.DEPARTMENT, owner=owner)

    with pytest.raises(ValidationError) as exc:
        lead_create(company_name="庚公司", channel=LeadChannel.TEMPORARY, owner=owner)

    assert first.ref in " ".join(exc.value.message_dict["company_name"])
    assert Lead.objects.filter(normalised_name=first.normalised_name).count() == 1


def test_a_lost_lead_does_not_block_another_promoter():
    first = lead_create(company_name="戊公司", channel=LeadChannel.DEPARTMENT, owner=PromoterFactory())
    lead_transition(lead=first, to_stage=LeadStage.LOST, reason="选择了外区")

    other = lead_create(company_name="戊公司", channel=LeadChannel.DEPARTMENT, owner=PromoterFactory())

    assert other.stage == LeadStage.NEW


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"area_min_m2": Decimal("-10")}, "area_min_m2"),
        ({"area_min_m2": Decimal("500"), "area_max_m2": Decimal("200")}, "area_max_m2"),
        ({"credit_code": "91350100M000100Y44"}, "credit_code"),
        ({"industry": "99"}, "industry"),
        ({"channel": "billboard"}, "channel"),
    ],
)
def test_bad_lead_input_is_refused_on_its_field_and_writes_nothing(changes, field):
    fields = {
        "company_name": "己公司",
        "channel": LeadChannel.DEPARTMENT,
        "owner": PromoterFactory(),
        **changes,
    }

    with pytest.raises(ValidationError) as exc:
        lead_create(**fields)

    assert field in exc.value.message_dict
    assert Lead.objects.count() == 0


def test_stage_moves_along_allowed_edges_and_logs_each_change():
    lead = LeadFactory()

    for stage in (LeadStage.CONTACTED, LeadStage.VISITING, LeadStage.NEGOTIATING):
        lead = lead_transition(lead=lead, to_stage=stage)

    assert lead.stage == LeadStage.NEGOTIATING
    assert list(StageChange.objects.filter(lead=lead).values_list("from_stage", "to_stage")) == [
        ("new", "contacted"),
        ("contacted", "visiting"),
        ("visiting", "negotiating"),
    ]


def test_an_illegal_stage_change_is_refused_and_changes_nothing():
    lead = LeadFactory()

    with pytest.raises(ValidationError) as exc:
        lead_transition(lead=lead, to_stage=LeadStage.SETTLED)

    assert "cannot move from new to settled" in _messages(exc, "stage")
    lead.refresh_from_db()
    assert lead.stage == LeadStage.NEW
    assert not StageChange.objects.exists()


def test_signed_is_reached_only_by_recording_a_signing():
    lead = LeadFactory(stage=LeadStage.NEGOTIATING)

    with pytest.raises(ValidationError) as exc:
        lead_transition(lead=lead, to_stage=LeadStage.SIGNED)

    assert "signing" in _messages(exc, "stage")


def test_losing_needs_a_reason_and_reopening_returns_to_contacted():
    lead = LeadFactory(stage=LeadStage.VISITING)
    with pytest.raises(ValidationError) as exc:
        lead_transition(lead=lead, to_stage=LeadStage.LOST, reason="  ")
    assert "reason" in exc.value.message_dict

    lead = lead_transition(lead=lead, to_stage=LeadStage.LOST, reason="租金超预算")
    assert lead.lost_reason == "租金超预算"
    lead = lead_transition(lead=lead, to_stage=LeadStage.CONTACTED)

    assert lead.stage == LeadStage.CONTACTED
    assert lead.lost_reason == ""


def test_the_database_refuses_a_stage_change_row_off_the_allowed_edges():
    lead = LeadFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        StageChange.objects.create(lead=lead, from_stage="new", to_stage="settled", changed_at=timezone.now())


def test_the_database_refuses_a_lost_lead_without_reason():
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(stage=LeadStage.LOST, lost_reason="")


def test_a_stale_version_is_refused():
    lead = LeadFactory(lawful_basis="consent", lawful_basis_recorded_at=timezone.now())
    lead_update(lead=lead, expected_version=1, contact_name="张三")

    with pytest.raises(LeadVersionConflict):
        lead_update(lead=lead, expected_version=1, contact_name="李四")

    lead.refresh_from_db()
    assert (lead.contact_name, lead.version) == ("张三", 2)


def test_lead_changes_are_audited_with_their_author():
    user = PromoterFactory().user
    lead = LeadFactory(lawful_basis="consent", lawful_basis_recorded_at=timezone.now())

    lead_update(lead=lead, by=user, contact_phone="13800000000")

    last = lead.history.first()
    assert last.contact_phone == "13800000000"
    assert last.history_user == user


def test_the_agency_channel_needs_an_agency():
    # given a promoter registering a lead as if an agency had referred it
    owner = PromoterFactory()
    # when
    with pytest.raises(ValidationError) as exc:
        lead_create(company_name="无中介有限公司", channel=LeadChannel.AGENCY, owner=owner)
    # then
    assert "agency" in _messages(exc, "channel")
    assert not Lead.objects.filter(company_name="无中介有限公司").exists()


def test_a_lead_cannot_be_moved_to_the_agency_channel_without_an_agency():
    # given
    lead = lead_create(
        company_name="部门推荐有限公司", channel=LeadChannel.DEPARTMENT, owner=PromoterFactory()
    )
    # when
    with pytest.raises(ValidationError) as exc:
        lead_update(lead=lead, channel=LeadChannel.AGENCY)
    # then
    assert "agency" in _messages(exc, "channel")
    lead.refresh_from_db()
    assert lead.channel == LeadChannel.DEPARTMENT

"""The district format's policies, benefits, commitments with their schedules and payments, signings'
verification and cancellation, and the logins they name (users.csv): checked row by row, restored
as they were, and written back byte for byte."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from crm.constants import LeadStage, Role
from crm.district_io import FILES, district_export, district_import
from crm.models import Lead, Signing, UserScope
from crm.services.leads import lead_create, lead_transition
from crm.services.signings import signing_cancel, signing_complete, signing_settle
from policies.models import Benefit, Commitment, CommitmentLine, CommitmentPayment, Policy
from policies.services import commitment_line_withhold, commitment_payment_record, policy_create
from tests.crm.test_district_export import wipe
from tests.crm.test_district_import import import_errors, only
from tests.factories import (
    BuildingFactory,
    PromoterFactory,
    StreetFactory,
    UnitFactory,
    UserFactory,
    make_credit_code,
)

pytestmark = pytest.mark.django_db
HISTORIED = [Policy, Benefit, CommitmentLine, CommitmentPayment, Signing]


def _signed(owner, building, unit, number: int, signed_on: dt.date) -> Signing:
    lead = lead_create(
        company_name=f"绍兴城北{number}号科技有限公司",
        channel="department",
        owner=owner,
        credit_code=make_credit_code(900 + number),
        industry="65",
        area_min_m2=Decimal("100"),
        area_max_m2=Decimal("200"),
    )
    lead_transition(lead=lead, to_stage=LeadStage.CONTACTED)
    lead_transition(lead=lead, to_stage=LeadStage.NEGOTIATING)
    return signing_complete(
        lead=lead, building=building, units=[unit], signed_on=signed_on, rent=Decimal("2.50")
    )


def build_promises() -> None:
    """A policy and two signings made through the services: one paid in part, withheld and settled by
    the office's override; the other cancelled. The office and a street officer are logins of no
    promoter."""
    street = StreetFactory(name="城北街道")
    building = BuildingFactory(code="C001", name="城北大厦", street=street)
    units = [UnitFactory(building=building, number=n, area_m2=Decimal("150")) for n in ("501", "502")]
    office = UserFactory(
        role=Role.DISTRICT_ADMIN, username="office", first_name="区楼宇办", email="office@example.org"
    )
    officer = UserFactory(role=Role.STREET_OFFICER, username="chengbei", last_name="赵")
    UserScope.objects.create(user=officer, street=street)
    owner = PromoterFactory(user__username="wangwu", name="王五", street=street)
    policy_create(
        name="城北落户奖励",
        valid_from=dt.date(2024, 1, 1),
        condition="area_m2 >= 100",
        benefits=[{"kind": "one_off_award", "amount_yuan": 50000}],
        by=office,
    )
    kept = _signed(owner, building, units[0], 1, dt.date(2024, 6, 1))
    cancelled = _signed(owner, building, units[1], 2, dt.date(2024, 7, 1))
    line = CommitmentLine.objects.get(commitment__signing=kept)
    commitment_payment_record(
        line=line, amount_yuan=Decimal("20000.00"), paid_on=dt.date(2024, 7, 15), note="首笔", by=office
    )
    commitment_line_withhold(line=line, reason="未按期纳税", by=office)
    signing_settle(signing=kept, by=office, override_reason="税务记录延迟")
    signing_cancel(signing=cancelled, reason="企业放弃入驻", by=office)


def wipe_all() -> None:
    """Every table the files fill: payments hold their lines, policies their leads and logins."""
    CommitmentPayment.objects.all().delete()
    Policy.objects.all().delete()
    wipe()
    assert not Commitment.objects.exists()


def history_counts() -> dict[str, int]:
    return {model.__name__: model.history.count() for model in HISTORIED}


def test_promises_export_import_into_an_empty_database_and_export_again_byte_identical(tmp_path):
    # given the promises made through the services, exported, and the database emptied
    build_promises()
    first, second = tmp_path / "first", tmp_path / "second"
    district_export(directory=first)
    wipe_all()

    # when
    district_import(source=first)
    district_export(directory=second)

    # then every file is the same, the six new ones included
    for spec in FILES:
        assert (second / spec.name).read_bytes() == (first / spec.name).read_bytes(), spec.name
    # one policy with one benefit, two commitments of one year-1 line each, one payment
    counts = {
        spec.name: len((first / spec.name).read_text(encoding="utf-8").splitlines()) - 1 for spec in FILES
    }
    assert [counts[name] for name in ("policies.csv", "policy_benefits.csv", "commitments.csv")] == [1, 1, 2]
    assert [counts[name] for name in ("commitment_lines.csv", "commitment_payments.csv")] == [2, 1]


def test_the_restored_rows_are_the_promises_and_outcomes_as_they_were(tmp_path):
    # given the promises exported, the policy's award then raised to 80,000 in the file
    build_promises()
    district_export(directory=tmp_path)
    benefits = (tmp_path / "policy_benefits.csv").read_text(encoding="utf-8")
    (tmp_path / "policy_benefits.csv").write_text(
        benefits.replace(",50000.00,", ",80000.00,"), encoding="utf-8"
    )
    wipe_all()

    # when
    district_import(source=tmp_path)

    # then the policy pays the new amount, but what was promised stays 50,000: no evaluation is rerun
    assert Benefit.objects.get().amount_yuan == Decimal("80000.00")
    kept = Signing.objects.get(lead__company_name="绍兴城北1号科技有限公司")
    line = CommitmentLine.objects.get(commitment__signing=kept)
    assert (kept.commitment.total_yuan, line.amount_yuan) == (Decimal("50000.00"), Decimal("50000.00"))
    assert (line.withheld_reason, line.withheld_by.username) == ("未按期纳税", "office")
    payment = line.payments.get()
    assert (payment.amount_yuan, payment.paid_on, payment.note) == (
        Decimal("20000.00"),
        dt.date(2024, 7, 15),
        "首笔",
    )
    # the office's override is kept, not replaced by the import's own note
    assert (kept.settle_override_reason, kept.settled_by.username) == ("税务记录延迟", "office")
    cancelled = Signing.objects.get(lead__company_name="绍兴城北2号科技有限公司")
    assert (cancelled.cancel_reason, cancelled.cancelled_by.username, cancelled.settled_at) == (
        "企业放弃入驻",
        "office",
        None,
    )
    assert cancelled.lead.stage == LeadStage.LOST


def test_users_csv_brings_back_logins_without_a_password_in_their_role_and_street(tmp_path):
    # given the promises exported and the database emptied
    build_promises()
    district_export(directory=tmp_path)
    wipe_all()

    # when
    district_import(source=tmp_path)

    # then the office and the street officer are back, each in their role, and nobody can log in
    users = get_user_model().objects
    office, officer = users.get(username="office"), users.get(username="chengbei")
    assert (office.first_name, office.email) == ("区楼宇办", "office@example.org")
    assert list(office.groups.values_list("name", flat=True)) == [Role.DISTRICT_ADMIN]
    assert (officer.last_name, officer.scope.street.name) == ("赵", "城北街道")
    assert list(officer.groups.values_list("name", flat=True)) == [Role.STREET_OFFICER]
    assert not any(user.has_usable_password() for user in users.all())
    # the payment's recorder is the office's login again
    assert CommitmentPayment.objects.get().recorded_by == office


def test_importing_the_export_into_the_same_database_changes_nothing(tmp_path):
    # given
    build_promises()
    history = history_counts()
    district_export(directory=tmp_path)

    # when
    report = district_import(source=tmp_path)

    # then no row is created or updated, no password reset, and no history recorded
    assert {(c.created, c.updated) for c in report.counts.values()} == {(0, 0)}
    assert history_counts() == history
    assert get_user_model().objects.get(username="office").check_password("pass-word-123")


POLICY = "name,valid_from,scope\n落户奖励,2024-01-01,district\n"


def test_a_bad_benefit_row_is_refused_by_line_and_column_and_nothing_is_written(tmp_path):
    # given a rent-free benefit with a percent and without its months, on line 3
    benefits = (
        "policy,policy_valid_from,kind,percent,months,amount_yuan\n"
        "落户奖励,2024-01-01,one_off_award,,,50000\n"
        "落户奖励,2024-01-01,rent_free,50,,\n"
    )
    directory = only(tmp_path, policies=POLICY, policy_benefits=benefits)

    # when
    errors = import_errors(directory)

    # then each parameter's column is named, as the policy service words it, and no policy is written
    assert errors == [
        "policy_benefits.csv:3: percent: 比例(%)不适用于免租期 / "
        "percent does not apply to a rent-free months",
        "policy_benefits.csv:3: months: 免租期须填写月数 / a rent-free months needs months",
    ]
    assert not Policy.objects.exists()


def test_a_policy_without_a_benefit_or_with_a_misspelt_condition_is_refused(tmp_path):
    # given one policy with no benefit row, another whose condition names a street that does not exist
    policies = POLICY + '城南奖励,2024-01-01,district,,,,street == "城南街到"\n'
    policies = policies.replace(
        "name,valid_from,scope", "name,valid_from,scope,street,business_circle,building,condition"
    )
    benefits = "policy,policy_valid_from,kind,amount_yuan\n城南奖励,2024-01-01,one_off_award,50000\n"
    directory = only(
        tmp_path, streets="name,kind\n城南街道,subdistrict\n", policies=policies, policy_benefits=benefits
    )

    # when
    errors = import_errors(directory)

    # then line 2 lacks a benefit, line 3's condition is refused (the import's own street is known)
    assert errors[0].startswith("policies.csv:2: name: 政策至少须有一项福利")
    assert errors[1].startswith("policies.csv:3: condition: ")
    assert "城南街到" in errors[1]
    assert len(errors) == 2


def test_a_commitment_line_naming_an_unknown_signing_is_refused(tmp_path):
    # given a schedule line of lead L404's signing in C001, which no file or row holds
    lines = (
        "lead,building,policy_name,benefit_kind,beneficiary,year_index,year,period_start,period_end,amount_yuan\n"
        "L404,C001,落户奖励,one_off_award,company,1,2024,2024-06-01,2025-05-31,50000\n"
    )

    # when
    errors = import_errors(only(tmp_path, commitment_lines=lines))

    # then
    assert errors == [
        "commitment_lines.csv:2: lead: 未知的签约(线索 @ 楼宇) L404 @ C001 / "
        "unknown signing (lead @ building) L404 @ C001"
    ]
    assert not CommitmentLine.objects.exists()


def test_payments_beyond_what_a_line_promised_are_refused(tmp_path):
    # given the promises exported, and a second payment of 30,000.01 on the line promising 50,000
    build_promises()
    district_export(directory=tmp_path)
    payments = (tmp_path / "commitment_payments.csv").read_text(encoding="utf-8").splitlines()
    payments.append(payments[1].replace(",2024-07-15,20000.00,首笔,", ",2024-08-15,30000.01,次笔,"))
    (tmp_path / "commitment_payments.csv").write_text("\n".join(payments) + "\n", encoding="utf-8")

    # when
    errors = import_errors(tmp_path)

    # then 20,000.00 + 30,000.01 = 50,000.01 > 50,000.00, on the added line 3
    assert errors == [
        "commitment_payments.csv:3: amount_yuan: 兑现合计 50000.01 超过该期承诺的 50000.00 元 / "
        "payments of 50000.01 exceed the 50000.00 yuan promised for the period"
    ]
    assert CommitmentPayment.objects.count() == 1


def test_a_cancelled_signing_needs_its_reason_and_is_not_also_settled(tmp_path):
    # given the promises exported, the cancelled signing's reason blanked and a settlement added to it
    build_promises()
    district_export(directory=tmp_path)
    path = tmp_path / "signings.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    cancelled = next(i for i, row in enumerate(rows) if row.endswith(",企业放弃入驻"))
    cells = rows[cancelled].split(",")
    cells[header.index("cancel_reason")] = ""
    cells[header.index("settled_at")] = "2024-08-01 00:00:00"
    rows[cancelled] = ",".join(cells)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    # when
    errors = import_errors(tmp_path)

    # then both are said on the row's line, and the signing keeps its reason
    line = cancelled + 1
    assert errors == [
        f"signings.csv:{line}: cancel_reason: 取消签约须填写原因 / a cancelled signing needs its reason",
        f"signings.csv:{line}: cancelled_at: 已核验入驻的签约不能同时是已取消的 / "
        "a signing is not both settled and cancelled",
    ]
    assert (
        Lead.objects.get(company_name="绍兴城北2号科技有限公司").signings.get().cancel_reason
        == "企业放弃入驻"
    )


def test_a_superuser_exported_as_district_admin_imports_back_unchanged(tmp_path):
    # given a superuser in no group, whom users.csv calls a district admin
    UserFactory(username="root", is_superuser=True)
    district_export(directory=tmp_path)
    assert (tmp_path / "users.csv").read_text(encoding="utf-8").splitlines()[1] == (
        "root,,,,district_admin,,,true"
    )

    # when
    report = district_import(source=tmp_path)

    # then the login is unchanged: still in no group
    assert (report.counts["users.csv"].created, report.counts["users.csv"].updated) == (0, 0)
    assert not get_user_model().objects.get(username="root").groups.exists()


def test_users_csv_cannot_change_a_superusers_login(tmp_path):
    # given a superuser, and a users.csv giving that login another address and the auditor's role
    UserFactory(username="root", is_superuser=True, email="root@example.org")
    users = "username,email,role\nroot,someone@example.org,auditor\n"

    # when
    errors = import_errors(only(tmp_path, users=users))

    # then both are refused on line 2 and the login keeps its address
    message = "超级管理员的账号只能在管理后台修改 / a superuser's login is changed in the admin only"
    assert errors == [f"users.csv:2: email: {message}", f"users.csv:2: role: {message}"]
    assert get_user_model().objects.get(username="root").email == "root@example.org"


def test_a_policy_approved_without_its_review_or_needing_approval_without_a_status_is_refused(tmp_path):
    # given line 2 approved but naming no reviewer nor time, line 3 needing approval yet not_required
    policies = (
        "name,valid_from,scope,needs_approval,approval_status\n"
        "甲奖励,2024-01-01,district,true,approved\n"
        "乙奖励,2024-01-01,district,true,not_required\n"
    )
    benefits = (
        "policy,policy_valid_from,kind,amount_yuan\n"
        "甲奖励,2024-01-01,one_off_award,1000\n"
        "乙奖励,2024-01-01,one_off_award,1000\n"
    )

    # when
    errors = import_errors(only(tmp_path, policies=policies, policy_benefits=benefits))

    # then each is said on its line, as the database's constraints would refuse them
    review = "已审批的政策须记录审批人和时间 / a review records who and when"
    assert errors == [
        f"policies.csv:2: reviewed_by: {review}",
        f"policies.csv:2: reviewed_at: {review}",
        "policies.csv:3: approval_status: 需审批的政策应为待审批、已批准或已驳回,其余为无需审批 / "
        "a policy that needs approval is pending, approved or rejected; any other is not_required",
    ]
    assert not Policy.objects.exists()


def test_only_a_referral_reward_line_names_a_referrer(tmp_path):
    # given the promises exported, and the one-off award of the kept signing (line 2, paid to the
    # company) given a referring tenant that the file's enterprises hold
    build_promises()
    district_export(directory=tmp_path)
    code = Signing.objects.filter(cancelled_at__isnull=True).get().lead.credit_code
    path = tmp_path / "commitment_lines.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    assert header.endswith(",referrer") and rows[0].endswith(",")
    path.write_text("\n".join([header, rows[0] + code, *rows[1:]]) + "\n", encoding="utf-8")

    # when
    errors = import_errors(tmp_path)

    # then the line is refused, as the database's own rule would refuse it
    assert errors == [
        "commitment_lines.csv:2: referrer: 推荐奖励须填写推荐企业,其他福利不填 / "
        "only a referral reward names its referrer"
    ]

"""Commitments as a schedule: each signing's promise by period of the agreement (month-anniversary
years from the start, or calendar years where a policy says so), with payments and withholding."""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from crm.constants import LeadStage, Role
from crm.services.signings import signing_cancel, signing_complete
from policies.engine import BenefitKind
from policies.engine.schedule import PeriodStatus, add_months, agreement_period, period_status
from policies.models import CommitmentLine
from policies.selectors import (
    commitment_schedule,
    commitments_by_year,
    schedule_row_status,
    schedule_year_totals,
)
from policies.services import commitment_line_withhold, commitment_payment_record, policy_create
from tests.factories import (
    BuildingFactory,
    LeadFactory,
    PromoterFactory,
    UnitFactory,
    UserFactory,
    make_credit_code,
)

# ------------------------------------------------------------------ the periods, pure


def test_agreement_years_run_from_the_month_anniversary_of_the_start():
    # given an agreement starting on 2 December 2026
    start = dt.date(2026, 12, 2)

    # when its first three years are asked for
    periods = [agreement_period(start, k) for k in (1, 2, 3)]

    # then each runs to the day before the next anniversary
    assert periods == [
        (dt.date(2026, 12, 2), dt.date(2027, 12, 1)),
        (dt.date(2027, 12, 2), dt.date(2028, 12, 1)),
        (dt.date(2028, 12, 2), dt.date(2029, 12, 1)),
    ]


def test_a_29_february_start_has_its_anniversary_on_28_february():
    # 2028-02-29 + 12 months = 2029-02-28; year 1 ends the day before, year 2 ends 2030-02-27
    assert add_months(dt.date(2028, 2, 29), 12) == dt.date(2029, 2, 28)
    assert agreement_period(dt.date(2028, 2, 29), 2) == (dt.date(2029, 2, 28), dt.date(2030, 2, 27))


def test_calendar_years_begin_on_the_start_and_then_on_1_january():
    start = dt.date(2026, 12, 2)

    assert agreement_period(start, 1, calendar_years=True) == (start, dt.date(2026, 12, 31))
    assert agreement_period(start, 2, calendar_years=True) == (dt.date(2027, 1, 1), dt.date(2027, 12, 31))


def test_a_period_is_scheduled_then_due_then_paid_unless_withheld_or_cancelled():
    begins = dt.date(2027, 12, 2)
    amount = Decimal("120000")

    def status(paid="0", today=begins, **flags):
        return period_status(amount=amount, paid=Decimal(paid), period_start=begins, today=today, **flags)

    assert status(today=begins - dt.timedelta(days=1)) == PeriodStatus.SCHEDULED
    assert status() == PeriodStatus.DUE
    assert status(paid="50000") == PeriodStatus.DUE
    assert status(paid="120000") == PeriodStatus.PAID
    assert status(withheld=True) == PeriodStatus.WITHHELD
    assert status(cancelled=True) == PeriodStatus.CANCELLED
    assert status(paid="120000", cancelled=True) == PeriodStatus.PAID  # what was paid stays paid


# ------------------------------------------------------------------ recorded at signing


def _tax_reward(*, calendar_years=False, name="税收贡献奖励"):
    # 3,000,000 yuan expected tax × 40% retained × 10% = 120,000 yuan a year, for 3 years
    return policy_create(
        name=name,
        valid_from=dt.date(2020, 1, 1),
        calendar_years=calendar_years,
        benefits=[{"kind": BenefitKind.TAX_REWARD, "percent": 10, "years": 3}],
    )


def _sign(n: int, signed_on: dt.date):
    building = BuildingFactory()
    lead = LeadFactory(
        stage=LeadStage.NEGOTIATING,
        credit_code=make_credit_code(8100 + n),
        expected_annual_tax=Decimal("3000000"),
    )
    unit = UnitFactory(building=building, area_m2=Decimal("200"))
    return signing_complete(lead=lead, building=building, units=[unit], signed_on=signed_on)


def _periods(signing):
    return list(
        CommitmentLine.objects.filter(commitment__signing=signing)
        .order_by("period_start")
        .values_list("year_index", "year", "period_start", "period_end", "amount_yuan")
    )


@pytest.mark.django_db
def test_a_2_december_signing_is_promised_120000_a_year_by_agreement_year():
    # given a tax reward of 120,000 yuan a year for 3 years
    _tax_reward()

    # when a company signs on 2 December 2026
    signing = _sign(1, dt.date(2026, 12, 2))

    # then three periods from the anniversary, each counted in the year it starts in
    amount = Decimal("120000.00")
    assert _periods(signing) == [
        (1, 2026, dt.date(2026, 12, 2), dt.date(2027, 12, 1), amount),
        (2, 2027, dt.date(2027, 12, 2), dt.date(2028, 12, 1), amount),
        (3, 2028, dt.date(2028, 12, 2), dt.date(2029, 12, 1), amount),
    ]


@pytest.mark.django_db
def test_a_policy_that_says_calendar_years_books_by_calendar_year():
    _tax_reward(calendar_years=True)

    signing = _sign(2, dt.date(2026, 12, 2))

    amount = Decimal("120000.00")
    assert _periods(signing) == [
        (1, 2026, dt.date(2026, 12, 2), dt.date(2026, 12, 31), amount),
        (2, 2027, dt.date(2027, 1, 1), dt.date(2027, 12, 31), amount),
        (3, 2028, dt.date(2028, 1, 1), dt.date(2028, 12, 31), amount),
    ]


# ------------------------------------------------------------------ payments and withholding


@pytest.fixture
def schedule(db):
    # a signing of 2 December 2025: periods 2025-12-02..2026-12-01, 2026-12-02..2027-12-01, 2027-12-02..
    _tax_reward()
    signing = _sign(3, dt.date(2025, 12, 2))
    lines = list(CommitmentLine.objects.filter(commitment__signing=signing).order_by("period_start"))
    return signing, lines, UserFactory(role=Role.DISTRICT_ADMIN)


def _errors(exc) -> dict[str, str]:
    return {field: " ".join(messages) for field, messages in exc.value.message_dict.items()}


def test_payments_are_recorded_against_a_period_until_it_is_paid(schedule):
    # given the first period of 120,000
    signing, (first, second, third), admin = schedule

    # when the office pays 50,000 and then 70,000 of it
    commitment_payment_record(
        line=first, amount_yuan=Decimal("50000"), paid_on=dt.date(2026, 1, 15), by=admin
    )
    row = commitment_schedule(CommitmentLine.objects.filter(pk=first.pk)).get()
    assert (row.paid_yuan, schedule_row_status(row, today=dt.date(2026, 2, 1))) == (
        Decimal("50000.00"),
        PeriodStatus.DUE,
    )
    payment = commitment_payment_record(
        line=first, amount_yuan=Decimal("70000"), paid_on=dt.date(2026, 3, 1), by=admin, note="第二笔"
    )

    # then the period is paid, the payment audited; the third period has not begun on 2026-12-03
    rows = {r.pk: r for r in commitment_schedule(CommitmentLine.objects.filter(commitment__signing=signing))}
    assert rows[first.pk].paid_yuan == Decimal("120000.00")
    assert schedule_row_status(rows[first.pk], today=dt.date(2026, 12, 3)) == PeriodStatus.PAID
    assert schedule_row_status(rows[second.pk], today=dt.date(2026, 12, 3)) == PeriodStatus.DUE
    assert schedule_row_status(rows[third.pk], today=dt.date(2026, 12, 3)) == PeriodStatus.SCHEDULED
    assert payment.history.get().history_user == admin
    # the year's totals: 2026's period (from 2026-12-02) promises 120,000; 120,000 was paid in 2026
    assert schedule_year_totals(year=2026) == {"due": Decimal("120000.00"), "paid": Decimal("120000.00")}


def test_a_payment_is_refused_field_by_field(schedule):
    _, (first, _, third), admin = schedule
    promoter = UserFactory(role=Role.PROMOTER)

    cases = [
        ({"line": first, "amount_yuan": Decimal("10"), "by": promoter}, "amount_yuan", "district office"),
        ({"line": first, "amount_yuan": Decimal("0")}, "amount_yuan", "greater than 0"),
        ({"line": first, "amount_yuan": Decimal("0.001")}, "amount_yuan", "2 decimal places"),
        ({"line": first, "amount_yuan": Decimal("120000.01")}, "amount_yuan", "120,000 yuan still owed"),
        ({"line": third, "amount_yuan": Decimal("10")}, "paid_on", "begins on 2027-12-02"),
    ]
    for kwargs, field, message in cases:
        with pytest.raises(ValidationError) as exc:
            commitment_payment_record(paid_on=dt.date(2026, 6, 1), **{"by": admin, **kwargs})
        assert message in _errors(exc)[field], (kwargs, _errors(exc))
    with pytest.raises(ValidationError) as exc:
        commitment_payment_record(
            line=first, amount_yuan=Decimal("10"), paid_on=dt.date(2100, 1, 1), by=admin
        )
    assert "future" in _errors(exc)["paid_on"]
    assert not first.payments.exists()


def test_a_withheld_period_takes_no_payment_and_leaves_the_totals(schedule):
    _, (first, second, _), admin = schedule
    before = {r["year"]: r["total"] for r in commitments_by_year()}

    with pytest.raises(ValidationError) as exc:
        commitment_line_withhold(line=second, reason=" ", by=admin)
    assert "needs a reason" in _errors(exc)["reason"]
    line = commitment_line_withhold(line=second, reason="当年未达纳税条件", by=admin)

    assert (line.withheld_by, line.withheld_reason) == (admin, "当年未达纳税条件")
    with pytest.raises(ValidationError) as exc:
        commitment_payment_record(
            line=second, amount_yuan=Decimal("1"), paid_on=dt.date(2026, 12, 2), by=admin
        )
    assert "withheld" in _errors(exc)["line"]
    after = {r["year"]: r["total"] for r in commitments_by_year()}
    # years 1, 2 and 3 start in 2025, 2026 and 2027; year 2 (from 2026-12-02) is withheld
    year = Decimal("120000.00")
    assert (before, after) == ({2025: year, 2026: year, 2027: year}, {2025: year, 2027: year})
    assert line.history.first().withheld_reason == "当年未达纳税条件"


def test_a_cancelled_signing_takes_no_more_payments(schedule):
    signing, (first, _, _), admin = schedule
    commitment_payment_record(
        line=first, amount_yuan=Decimal("20000"), paid_on=dt.date(2026, 1, 15), by=admin
    )

    signing_cancel(signing=signing, by=admin, reason="企业迁出")

    with pytest.raises(ValidationError) as exc:
        commitment_payment_record(line=first, amount_yuan=Decimal("1"), paid_on=dt.date(2026, 2, 1), by=admin)
    assert "cancelled" in _errors(exc)["line"]
    row = commitment_schedule(CommitmentLine.objects.filter(pk=first.pk)).get()
    assert schedule_row_status(row, today=dt.date(2026, 12, 3)) == PeriodStatus.CANCELLED
    assert row.paid_yuan == Decimal("20000.00")  # what was paid stays recorded


# ------------------------------------------------------------------ the data migration


@pytest.mark.django_db
def test_the_migration_turns_calendar_booked_lines_into_agreement_periods():
    # given a line booked the old way: a 2 December 2026 signing's year 2 as calendar year 2027
    _tax_reward()
    signing = _sign(4, dt.date(2026, 12, 2))
    line = CommitmentLine.objects.get(commitment__signing=signing, year_index=2)
    CommitmentLine.objects.filter(pk=line.pk).update(
        year=2027, period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31)
    )
    migration = importlib.import_module("policies.migrations.0003_commitment_schedule")

    # when the migration's step runs
    migration.lines_into_periods(apps, None)

    # then the line is the agreement's second year
    line.refresh_from_db()
    assert (line.year, line.period_start, line.period_end) == (
        2027,
        dt.date(2027, 12, 2),
        dt.date(2028, 12, 1),
    )


def test_the_white_paper_reads_the_years_periods_and_payments(schedule):
    # given the 2 December 2025 signing's schedule, 50,000 paid in 2026 against its first period
    from crm.services.white_paper import _commitments

    _, (first, _, _), admin = schedule
    commitment_payment_record(
        line=first, amount_yuan=Decimal("50000"), paid_on=dt.date(2026, 1, 15), by=admin
    )

    # when the white paper of 2026 is written
    section = _commitments(2026)

    # then 2026 holds the period beginning 2026-12-02 (120,000 = 12.0 万元) and the 50,000 paid (5.0)
    assert section["rows"] == [{"policy_name": "税收贡献奖励", "n": 1, "total": "12.0", "paid": "5.0"}]
    assert (section["total"], section["paid"], section["withheld"]) == ("12.0", "5.0", None)


# ------------------------------------------------------------------ the API


def _client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user)
    return client


def test_the_api_lists_the_schedule_with_exact_amounts_in_a_fixed_number_of_queries(schedule):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # given the 2 December 2025 signing's three periods, 50,000 paid against the first
    signing, (first, _, _), admin = schedule
    commitment_payment_record(
        line=first, amount_yuan=Decimal("50000"), paid_on=dt.date(2026, 1, 15), by=admin
    )
    client = _client(admin)

    # when the office lists the signing's schedule
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/commitments/schedule/?signing={signing.pk}")

    # then three rows of 120,000.00 each, with what was paid; queries: the session, the viewer, the
    # count and the page (payments summed in a subquery)
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [(r["period_start"], r["period_end"], r["amount_yuan"], r["paid_yuan"]) for r in rows] == [
        ("2025-12-02", "2026-12-01", "120000.00", "50000.00"),
        ("2026-12-02", "2027-12-01", "120000.00", "0.00"),
        ("2027-12-02", "2028-12-01", "120000.00", "0.00"),
    ]
    assert rows[0]["lead_ref"] == signing.lead.ref and rows[0]["status"] in {"due", "paid"}
    assert len(captured) == 4


def test_the_api_records_payments_and_withholds_for_the_office_only(schedule):
    signing, (first, second, _), admin = schedule
    office, owner = _client(admin), _client(signing.lead.owner.user)
    other = _client(PromoterFactory().user)
    url = f"/api/v1/commitments/schedule/{first.pk}/payments/"

    # a promoter sees their own lead's schedule only, and records nothing
    assert len(owner.get("/api/v1/commitments/schedule/").json()["results"]) == 3
    assert other.get("/api/v1/commitments/schedule/").json()["results"] == []
    assert owner.post(url, {"amount_yuan": "1.00", "paid_on": "2026-01-15"}, format="json").status_code == 403

    # field-level refusals, then a payment
    assert office.post(url, {"paid_on": "2026-01-15"}, format="json").json().keys() == {"amount_yuan"}
    too_much = office.post(url, {"amount_yuan": "120000.01", "paid_on": "2026-01-15"}, format="json")
    assert too_much.status_code == 400 and "120,000 元" in too_much.json()["amount_yuan"][0]
    paid = office.post(url, {"amount_yuan": "120000.00", "paid_on": "2026-01-15"}, format="json")
    assert paid.status_code == 201 and paid.json()["amount_yuan"] == "120000.00"

    withheld = office.post(
        f"/api/v1/commitments/schedule/{second.pk}/withhold/", {"reason": "未达纳税条件"}, format="json"
    )
    assert withheld.status_code == 200
    assert (withheld.json()["status"], withheld.json()["withheld_reason"]) == ("withheld", "未达纳税条件")


# ------------------------------------------------------------------ the page and its download


def test_the_schedule_page_shows_periods_and_records_a_payment_for_the_office(schedule):
    # given the schedule of the 2 December 2025 signing
    signing, (first, _, _), admin = schedule
    office = _client(admin)

    # when the office opens the page for 2025 and pays the first period in full from it
    html = office.get("/commitments/?year=2025").content.decode()
    response = office.post(
        f"/commitments/{first.pk}/pay/", {"amount_yuan": "120000.00", "paid_on": "2026-01-15", "year": "2025"}
    )

    # then the page showed the period and offered the payment; the payment is recorded
    assert "2025-12-02 – 2026-12-01" in html and f"/commitments/{first.pk}/pay/" in html
    # its 120,000 yuan promised and nothing paid yet, by the pages' one yuan formatter
    assert '<td class="num">120,000</td><td class="num">0</td>' in html
    assert response.status_code == 302 and response["Location"] == "/commitments/?year=2025"
    assert [p.amount_yuan for p in first.payments.all()] == [Decimal("120000.00")]
    # the promoter who owns the lead reads it and has no payment form; the office's POST only
    owner = _client(signing.lead.owner.user)
    assert "2025-12-02" in owner.get("/commitments/").content.decode()
    assert "/pay/" not in owner.get("/commitments/").content.decode()
    assert owner.post(f"/commitments/{first.pk}/pay/", {"amount_yuan": "1"}).status_code == 403


def test_the_schedule_download_carries_exact_yuan(schedule):
    import csv
    import io

    _, (first, _, _), admin = schedule
    commitment_payment_record(
        line=first, amount_yuan=Decimal("50000.5"), paid_on=dt.date(2026, 1, 15), by=admin
    )

    response = _client(admin).get("/commitments/?export=csv")

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][9:12] == ["承诺金额(元) amount_yuan", "已兑现(元) paid_yuan", "状态 status"]
    assert [(r[7], r[8], r[9], r[10]) for r in rows[1:]] == [
        ("2025-12-02", "2026-12-01", "120000.00", "50000.50"),
        ("2026-12-02", "2027-12-01", "120000.00", "0.00"),
        ("2027-12-02", "2028-12-01", "120000.00", "0.00"),
    ]


def test_the_forecast_reads_the_years_commitments_from_the_schedule(schedule):
    # given the schedule's 2026 period (from 2026-12-02, 120,000) and 50,000 paid in 2026
    _, (first, _, _), admin = schedule
    commitment_payment_record(
        line=first, amount_yuan=Decimal("50000"), paid_on=dt.date(2026, 1, 15), by=admin
    )
    year = dt.date.today().year
    if year != 2026:
        pytest.skip("the forecast is of the current year; the hand-computed figures are 2026's")

    # when the office loads the forecast
    html = _client(admin).get("/plan/forecast/", HTTP_HX_REQUEST="true").content.decode()

    # then it says 12.0 万元 are due this year and 5.0 paid
    assert "应兑现 12.0 万元,已兑现 5.0 万元" in html

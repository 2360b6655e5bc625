"""以商招商奖励 through the pipeline: a referred signing is promised the referral reward, to its referrer,
in the first period of the agreement; an unreferred one is not; the schedule, its API and download,
the white paper's and the forecast's totals, and the referrer's enterprise page carry it."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from crm.constants import LeadChannel, LeadStage, Role
from crm.services.signings import signing_complete
from policies.engine import BenefitKind
from policies.engine.terms import REFERRER
from policies.models import Benefit, Commitment, CommitmentLine
from policies.selectors import schedule_year_totals
from policies.services import commitment_payment_record, policy_create
from tests.factories import (
    BuildingFactory,
    EnterpriseFactory,
    LeadFactory,
    TenancyFactory,
    UnitFactory,
    UserFactory,
    make_credit_code,
)

pytestmark = pytest.mark.django_db

SIGNED_ON = dt.date(2026, 3, 1)


@pytest.fixture
def referral_policy():
    # 10% of the referred company's first-year retained tax, at most 100,000 yuan
    return policy_create(
        name="以商招商奖励办法",
        valid_from=dt.date(2026, 1, 1),
        benefits=[{"kind": BenefitKind.REFERRAL_REWARD, "percent": 10, "cap_yuan": 100000}],
    )


@pytest.fixture
def referrer():
    tenant = EnterpriseFactory(name="云帆科技有限公司")
    TenancyFactory(enterprise=tenant)
    return tenant


def _sign(n: int, *, referred_by=None, tax="3000000", signed_on=SIGNED_ON):
    building = BuildingFactory(name=f"大厦{n}")
    lead = LeadFactory(
        company_name=f"被推荐{n}有限公司",
        stage=LeadStage.NEGOTIATING,
        credit_code=make_credit_code(9300 + n),
        expected_annual_tax=Decimal(tax),
        channel=LeadChannel.TENANT_REFERRAL if referred_by else LeadChannel.DEPARTMENT,
        referred_by=referred_by,
    )
    unit = UnitFactory(building=building, area_m2=Decimal("200"))
    return signing_complete(lead=lead, building=building, units=[unit], signed_on=signed_on)


def _lines(signing):
    return list(
        CommitmentLine.objects.filter(commitment__signing=signing).values_list(
            "benefit_kind",
            "beneficiary",
            "referrer_id",
            "year_index",
            "year",
            "period_start",
            "period_end",
            "amount_yuan",
        )
    )


def test_a_referred_signing_is_promised_the_capped_reward_for_its_referrer_in_year_one(
    referral_policy, referrer
):
    # when a company referred by 云帆科技, expecting 3,000,000 yuan tax, signs on 1 March 2026
    signing = _sign(1, referred_by=referrer)

    # then 3,000,000 × 40% × 10% = 120,000, capped at 100,000: one period, the agreement's first year
    assert _lines(signing) == [
        (
            "referral_reward",
            REFERRER,
            referrer.pk,
            1,
            2026,
            dt.date(2026, 3, 1),
            dt.date(2027, 2, 28),
            Decimal("100000.00"),
        )
    ]
    commitment = Commitment.objects.get(signing=signing)
    assert commitment.total_yuan == Decimal("100000.00")
    assert commitment.snapshot["referred_by"] == referrer.credit_code


def test_under_the_cap_the_share_is_promised_whole(referral_policy, referrer):
    # 2,000,000 × 40% × 10% = 80,000, under the 100,000 cap
    signing = _sign(2, referred_by=referrer, tax="2000000")

    assert [line[-1] for line in _lines(signing)] == [Decimal("80000.00")]


def test_an_unreferred_signing_gets_no_reward_line(referral_policy):
    # when a company nobody referred signs under the same policy
    signing = _sign(3)

    # then nothing is promised
    assert _lines(signing) == []
    assert Commitment.objects.get(signing=signing).total_yuan == Decimal("0.00")


def test_a_reward_of_a_december_signing_runs_to_the_next_anniversary(referral_policy, referrer):
    # a 2 December 2026 signing's year 1 is 2026-12-02..2027-12-01, counted in 2026
    signing = _sign(4, referred_by=referrer, signed_on=dt.date(2026, 12, 2))

    assert [line[3:7] for line in _lines(signing)] == [(1, 2026, dt.date(2026, 12, 2), dt.date(2027, 12, 1))]


def test_a_reward_is_a_fixed_amount_or_a_share_refused_field_by_field():
    # given both a fixed amount and a share
    with pytest.raises(ValidationError) as refused:
        policy_create(
            name="两者都填",
            valid_from=dt.date(2026, 1, 1),
            benefits=[{"kind": BenefitKind.REFERRAL_REWARD, "amount_yuan": 50000, "percent": 10}],
        )

    # then the benefits field says not both
    assert "not both" in " ".join(refused.value.message_dict["benefits"])


def test_the_database_refuses_a_reward_with_both_or_neither(referral_policy):
    for values in ({"amount_yuan": Decimal("1"), "percent": Decimal("1")}, {"cap_yuan": Decimal("1")}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Benefit.objects.create(policy=referral_policy, kind="referral_reward", **values)


def test_the_database_refuses_a_referrer_line_without_its_referrer(referral_policy, referrer):
    line = CommitmentLine.objects.get(commitment__signing=_sign(5, referred_by=referrer))

    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentLine.objects.filter(pk=line.pk).update(referrer=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentLine.objects.filter(pk=line.pk).update(beneficiary="company")


def _client(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_the_schedule_api_download_and_page_name_the_referrer(referral_policy, referrer):
    signing = _sign(6, referred_by=referrer)
    office = _client(UserFactory(role=Role.DISTRICT_ADMIN))

    row = office.get(f"/api/v1/commitments/schedule/?signing={signing.pk}").json()["results"][0]
    download = office.get("/commitments/?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    html = office.get("/commitments/?year=2026").content.decode()

    assert (row["beneficiary"], row["referrer"], row["referrer_name"], row["amount_yuan"]) == (
        "referrer",
        referrer.credit_code,
        "云帆科技有限公司",
        "100000.00",
    )
    assert rows[0][-2:] == ["受益方 beneficiary", "推荐企业 referrer"]
    assert (rows[1][9], rows[1][-2], rows[1][-1]) == ("100000.00", "referrer", referrer.credit_code)
    assert "付推荐企业 云帆科技有限公司" in html


def test_the_white_paper_and_the_forecasts_totals_count_the_reward(referral_policy, referrer):
    from crm.services.white_paper import _commitments

    _sign(7, referred_by=referrer)
    _sign(8)  # unreferred: adds nothing

    # 100,000 yuan = 10.0 万元 promised for 2026, by the policy's name
    section = _commitments(2026)
    assert section["rows"] == [{"policy_name": "以商招商奖励办法", "n": 1, "total": "10.0", "paid": "0.0"}]
    assert schedule_year_totals(year=2026) == {"due": Decimal("100000.00"), "paid": Decimal("0")}


def test_the_referrers_enterprise_page_shows_what_it_earned(client, referral_policy, referrer):
    # given the reward of a signing it referred, 40,000.50 of it paid
    signing = _sign(9, referred_by=referrer)
    admin = UserFactory(role=Role.DISTRICT_ADMIN, is_staff=True)
    line = CommitmentLine.objects.get(commitment__signing=signing)
    commitment_payment_record(
        line=line, amount_yuan=Decimal("40000.50"), paid_on=dt.date(2026, 4, 1), by=admin
    )
    client.force_login(admin)

    # when the office opens the referrer in the admin
    html = client.get(reverse("admin:crm_enterprise_change", args=[referrer.pk])).content.decode()

    # then the referred lead shows where it signed, and its reward the company, amount and what was paid
    assert "大厦9 2026-03-01 已签约" in html
    assert "作为推荐企业获得的以商招商奖励" in html
    assert "被推荐9有限公司" in html and "100000.00" in html and "40000.50" in html

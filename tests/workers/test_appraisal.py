"""Promoter appraisal: each metric on a small hand-computed quarter, the score, ranks, and refused input."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.constants import ActivityKind, LeadStage, Role
from crm.models import Activity, AppraisalSnapshot, AppraisalWeight, Enterprise, Lead, Reminder, StageChange
from crm.models.appraisal import DEFAULT_WEIGHTS, PeriodKind
from crm.services.appraisal import (
    Period,
    appraisal_compute,
    appraisal_weight_set,
    promoter_metrics,
    promoter_target_set,
)
from crm.services.signings import signing_cancel, signing_complete, signing_settle
from tests.factories import (
    BuildingFactory,
    LeadFactory,
    TaxRecordFactory,
    UnitFactory,
    UserFactory,
    make_credit_code,
)
from tests.workers.conftest import mailed_promoter

pytestmark = pytest.mark.django_db

Q2 = dt.date(2024, 4, 1)  # 2024-Q2: 1 April – 30 June 2024


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _sign(lead: Lead, building, signed_on: dt.date, area: int):
    unit = UnitFactory(building=building, area_m2=Decimal(area))
    return signing_complete(lead=lead, building=building, units=[unit], signed_on=signed_on)


@pytest.fixture
def quarter():
    """Promoter A's second quarter of 2024 (B and C did nothing), as the module docstring of each
    expected value below describes."""
    a = mailed_promoter(1, team="一组")
    b = mailed_promoter(2, team="一组")
    c = mailed_promoter(3, team="二组")
    building = BuildingFactory()
    # Leads created in Q2: new, contacted, lost after being contacted, and one signed then settled.
    l1 = LeadFactory(owner=a, stage=LeadStage.CONTACTED, created_at=at(dt.date(2024, 4, 5)))
    l2 = LeadFactory(owner=a, stage=LeadStage.NEW, created_at=at(dt.date(2024, 4, 6)))
    l3 = LeadFactory(
        owner=a, stage=LeadStage.LOST, lost_reason="去了外区", created_at=at(dt.date(2024, 4, 7))
    )
    StageChange.objects.create(
        lead=l3, from_stage="new", to_stage="contacted", changed_at=at(dt.date(2024, 4, 8))
    )
    l4 = LeadFactory(
        owner=a,
        stage=LeadStage.NEGOTIATING,
        created_at=at(dt.date(2024, 4, 10)),
        credit_code=make_credit_code(4),
        expected_annual_tax=Decimal("500000"),
    )
    # A lead from Q1, signed in Q2 but not yet settled; afterwards it passes to promoter B.
    l5 = LeadFactory(
        owner=a,
        stage=LeadStage.NEGOTIATING,
        created_at=at(dt.date(2024, 1, 15)),
        credit_code=make_credit_code(5),
        expected_annual_tax=Decimal("300000"),
    )
    LeadFactory(owner=a, created_at=at(dt.date(2024, 3, 31)))  # Q1: not counted
    # l6 (from Q1) signed in Q2 and then fell through: cancelled, it counts nowhere.
    l6 = LeadFactory(
        owner=a,
        stage=LeadStage.NEGOTIATING,
        created_at=at(dt.date(2024, 3, 1)),
        credit_code=make_credit_code(6),
        expected_annual_tax=Decimal("200000"),
    )
    # l7 (from Q1) signed in Q1, 20 days after it was logged, settled in Q2 by the office's override.
    l7 = LeadFactory(
        owner=a,
        stage=LeadStage.NEGOTIATING,
        created_at=at(dt.date(2024, 3, 1)),
        credit_code=make_credit_code(7),
        expected_annual_tax=Decimal("100000"),
    )
    admin = UserFactory(role=Role.DISTRICT_ADMIN)
    s4 = _sign(l4, building, dt.date(2024, 5, 10), 200)
    s5 = _sign(l5, building, dt.date(2024, 6, 20), 100)
    s6 = _sign(l6, building, dt.date(2024, 5, 15), 150)
    s7 = _sign(l7, building, dt.date(2024, 3, 21), 50)
    Lead.objects.filter(pk=l5.pk).update(owner=b)
    # First-year tax of l4's enterprise (tenancy from 10 May 2024: May 2024 – April 2025).
    TaxRecordFactory(enterprise=s4.enterprise, year=2024, month=6, amount_yuan=Decimal("10000"))
    TaxRecordFactory(enterprise=s4.enterprise, year=2025, month=4, amount_yuan=Decimal("5000"))
    TaxRecordFactory(enterprise=s4.enterprise, year=2025, month=5, amount_yuan=Decimal("7000"))  # 13th month
    TaxRecordFactory(enterprise=s5.enterprise, year=2024, month=7, amount_yuan=Decimal("9999"))  # not settled
    TaxRecordFactory(enterprise=s6.enterprise, year=2024, month=6, amount_yuan=Decimal("8888"))  # cancelled
    # The records mark l4's and l5's companies registered in the district (l5 still lacks its tax).
    Enterprise.objects.filter(pk__in=[s4.enterprise_id, s5.enterprise_id]).update(registered_in_district=True)
    signing_settle(signing=s4, at=at(dt.date(2024, 6, 15)))  # verified: registered, June's tax in
    signing_settle(
        signing=s7, by=admin, override_reason="税务登记迁入中,已核对合同", at=at(dt.date(2024, 4, 25))
    )
    signing_cancel(signing=s6, by=admin, reason="企业改选外区")
    # Activities by A: four in Q2 (two site tours), one in Q3.
    Activity.objects.create(lead=l1, kind=ActivityKind.CALL, occurred_at=at(dt.date(2024, 4, 12)), promoter=a)
    Activity.objects.create(
        lead=l4,
        kind=ActivityKind.SITE_TOUR,
        occurred_at=at(dt.date(2024, 4, 20)),
        promoter=a,
        building=building,
    )
    Activity.objects.create(
        lead=l1,
        kind=ActivityKind.SITE_TOUR,
        occurred_at=at(dt.date(2024, 5, 2), 9),
        promoter=a,
        building=building,
    )
    Activity.objects.create(lead=l2, kind=ActivityKind.CALL, occurred_at=at(dt.date(2024, 6, 5)), promoter=a)
    Activity.objects.create(lead=l1, kind=ActivityKind.CALL, occurred_at=at(dt.date(2024, 7, 1)), promoter=a)
    # Reminders due in Q2: l1's answered the next morning, l2's only four days later; one in Q3.
    for lead, due in ((l1, dt.date(2024, 5, 1)), (l2, dt.date(2024, 6, 1)), (l1, dt.date(2024, 7, 2))):
        Reminder.objects.create(
            lead=lead,
            promoter=a,
            reason=Reminder.Reason.STALE,
            stage=lead.stage,
            due_on=due,
            due_at=at(due),
            act_by=at(due) + dt.timedelta(days=2),
            created_at=at(due),
        )
    return {"a": a, "b": b, "c": c}


def test_each_metric_counts_what_the_quarter_holds(quarter):
    metrics = promoter_metrics(Period.of(PeriodKind.QUARTER, Q2))[quarter["a"].pk]

    assert metrics["leads_logged"] == 4  # l1–l4; the Q1 leads do not count
    assert metrics["valid_leads"] == 3  # l1 contacted, l3 contacted before it was lost, l4 settled
    assert metrics["activities"] == 4  # 12 Apr, 20 Apr, 2 May, 5 Jun; not 1 Jul
    assert metrics["site_tours"] == 2
    # Results are the signings verified in Q2: l4 (records, 15 Jun) and l7 (override, 25 Apr; signed in
    # Q1). l5 is signed but unverified (pipeline), l6 cancelled.
    assert metrics["signings"] == 2
    assert metrics["signed_area_m2"] == Decimal("250.00")  # 200 + 50
    assert metrics["expected_tax_yuan"] == Decimal("600000.00")  # 500,000 + 100,000
    # 10,000 (Jun 24) + 5,000 (Apr 25) of l4; l7 has none, l5's and l6's are not results
    assert metrics["actual_tax_yuan"] == Decimal("15000.00")
    assert metrics["conversion_rate"] == Decimal("66.67")  # 2 verified signings / 3 valid leads
    # days to sign: l4 10 Apr → 10 May = 30; l7 1 Mar → 21 Mar = 20; median of two = 25
    assert metrics["median_days_to_sign"] == Decimal("25.00")
    assert metrics["followup_timeliness"] == Decimal("50.00")  # 1 of 2 reminders acted on within 2 days
    assert metrics["reminders_due"] == 2
    # Pipeline: signed in Q2, neither verified nor cancelled: l5 alone.
    assert (metrics["pipeline_signings"], metrics["pipeline_area_m2"]) == (1, Decimal("100.00"))


def test_outcomes_stay_with_the_owner_at_signing(quarter):
    metrics = promoter_metrics(Period.of(PeriodKind.QUARTER, Q2))

    assert quarter["b"].pk not in metrics  # l5 passed to B after it was signed


def test_the_score_weighs_each_achievement_against_its_target(quarter):
    # given A's targets for the quarter, and the seeded weights
    promoter_target_set(
        promoter=quarter["a"],
        period_kind=PeriodKind.QUARTER,
        period_start=Q2,
        leads_logged=8,
        valid_leads=6,
        activities=8,
        site_tours=2,
        signings=4,
        signed_area_m2=600,
        expected_tax_yuan=1_000_000,
        actual_tax_yuan=30_000,
        conversion_rate=50,
        median_days_to_sign=60,
        followup_timeliness=100,
    )

    snapshots = {s.promoter_id: s for s in appraisal_compute(period_kind=PeriodKind.QUARTER, period_start=Q2)}

    # achievements: leads 4/8 = .5, valid 3/6 = .5, activities 4/8 = .5, tours 2/2 = 1, signings 2/4 = .5,
    # area 250/600 = .416667, expected 600k/1m = .6, actual 15k/30k = .5, conversion 66.67/50 = 1.33 →
    # capped 1.2, median days 60/25 = 2.4 → capped 1.2, timeliness 50/100 = .5
    # score = 5×.5 + 10×.5 + 5×.5 + 5×1 + 20×.5 + 10×.416667 + 5×.6 + 20×.5 + 10×1.2 + 5×1.2 + 5×.5
    #       = 2.5 + 5 + 2.5 + 5 + 10 + 4.166667 + 3 + 10 + 12 + 6 + 2.5 = 62.666667 → 62.67
    a = snapshots[quarter["a"].pk]
    assert a.score == Decimal("62.67")
    assert a.achievements["signed_area_m2"] == "0.4167"
    assert a.achievements["median_days_to_sign"] == "1.2000"
    assert (a.signings, a.pipeline_signings, a.pipeline_area_m2) == (2, 1, Decimal("100.00"))


def test_the_appraise_command_prints_the_quarter_with_amounts_formatted_once(quarter):
    from io import StringIO

    from django.core.management import call_command

    # given A's signings target of 4 (weight 20 alone: 2 of 4 verified = 50 points)
    promoter_target_set(promoter=quarter["a"], period_kind=PeriodKind.QUARTER, period_start=Q2, signings=4)
    out = StringIO()

    # when
    call_command("appraise", "--period", "2024-Q2", stdout=out)

    # then A's line: rank 1, 2 verified signings of 200 + 50 = 250 m², 10,000 + 5,000 = 15,000 yuan of
    # first-year tax written as the pages write it, and l5 (100 m²) waiting in the pipeline
    line = next(row for row in out.getvalue().splitlines() if quarter["a"].name in row)
    assert line.split()[0] == "1"
    assert "score=50.00 signings=2 area=250.00㎡ actual_tax=15,000 元 pipeline=1" in line


def test_ranks_in_team_and_district(quarter):
    promoter_target_set(promoter=quarter["a"], period_kind=PeriodKind.QUARTER, period_start=Q2, signings=4)
    promoter_target_set(promoter=quarter["b"], period_kind=PeriodKind.QUARTER, period_start=Q2, signings=1)

    snapshots = {s.promoter_id: s for s in appraisal_compute(period_kind=PeriodKind.QUARTER, period_start=Q2)}

    a, b, c = (snapshots[quarter[k].pk] for k in "abc")
    assert (a.score, b.score, c.score) == (Decimal("50.00"), Decimal("0.00"), None)  # 2/4; 0/1; no target
    assert (a.rank_district, b.rank_district, c.rank_district) == (1, 2, None)
    assert (a.rank_team, b.rank_team, c.rank_team) == (1, 2, None)


def test_a_period_without_data_gives_zeros_and_a_note():
    promoter = mailed_promoter(1)
    promoter_target_set(
        promoter=promoter, period_kind=PeriodKind.MONTH, period_start=dt.date(2030, 1, 1), signings=2
    )

    (snapshot,) = appraisal_compute(period_kind=PeriodKind.MONTH, period_start=dt.date(2030, 1, 1))

    assert (snapshot.leads_logged, snapshot.signings, snapshot.actual_tax_yuan) == (0, 0, 0)
    assert snapshot.score == Decimal("0.00")
    assert "no data" in snapshot.note


def test_computing_again_replaces_the_snapshots(quarter):
    appraisal_compute(period_kind=PeriodKind.QUARTER, period_start=Q2)
    appraisal_compute(period_kind=PeriodKind.QUARTER, period_start=Q2)

    assert AppraisalSnapshot.objects.filter(period_start=Q2).count() == 3


def test_periods_parse_from_their_usual_names():
    assert Period.parse("2024-Q2") == Period(PeriodKind.QUARTER, dt.date(2024, 4, 1), dt.date(2024, 6, 30))
    assert Period.parse("2024-02") == Period(PeriodKind.MONTH, dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert Period.parse("2024") == Period(PeriodKind.YEAR, dt.date(2024, 1, 1), dt.date(2024, 12, 31))


def test_a_quarter_must_start_on_a_quarter_day():
    with pytest.raises(ValidationError) as exc:
        appraisal_compute(period_kind=PeriodKind.QUARTER, period_start=dt.date(2024, 5, 1))

    assert "quarter" in " ".join(exc.value.message_dict["period_start"])


def test_a_negative_target_is_refused():
    promoter = mailed_promoter(1)

    with pytest.raises(ValidationError) as exc:
        promoter_target_set(promoter=promoter, period_kind=PeriodKind.QUARTER, period_start=Q2, signings=-1)

    assert "negative" in " ".join(exc.value.message_dict["signings"])


def test_targets_that_do_not_add_up_are_refused():
    promoter = mailed_promoter(1)

    with pytest.raises(ValidationError) as exc:
        promoter_target_set(
            promoter=promoter, period_kind=PeriodKind.QUARTER, period_start=Q2, leads_logged=5, valid_leads=8
        )

    assert "exceed" in " ".join(exc.value.message_dict["valid_leads"])


def test_a_rate_target_above_100_percent_is_refused():
    promoter = mailed_promoter(1)

    with pytest.raises(ValidationError):
        promoter_target_set(
            promoter=promoter, period_kind=PeriodKind.QUARTER, period_start=Q2, conversion_rate=120
        )


def test_the_database_refuses_a_negative_target_too():
    promoter = mailed_promoter(1)
    target = promoter_target_set(
        promoter=promoter, period_kind=PeriodKind.QUARTER, period_start=Q2, signings=1
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        type(target).objects.filter(pk=target.pk).update(signings=-1)


def test_weights_must_add_up_to_100():
    with pytest.raises(ValidationError) as exc:
        appraisal_weight_set(effective_from=dt.date(2024, 1, 1), signings=30)  # 100 - 20 + 30 = 110

    assert "110" in " ".join(exc.value.messages)
    assert AppraisalWeight.objects.count() == 1


def test_effort_cannot_outweigh_outcomes():
    # activities 5 → 25: effort 5 + 25 + 5 = 35 > 30, and signings 20 → 0 keeps the total at 100
    with pytest.raises(ValidationError) as exc:
        appraisal_weight_set(effective_from=dt.date(2024, 1, 1), activities=25, signings=0)

    assert "35" in " ".join(exc.value.messages)


def test_a_negative_weight_is_refused():
    with pytest.raises(ValidationError):
        appraisal_weight_set(effective_from=dt.date(2024, 1, 1), signings=-5, actual_tax_yuan=45)


def test_the_database_refuses_weights_that_do_not_add_up():
    with pytest.raises(IntegrityError), transaction.atomic():
        AppraisalWeight.objects.create(
            effective_from=dt.date(2024, 1, 1), **{**DEFAULT_WEIGHTS, "signings": 10}
        )


def test_new_weights_apply_from_their_date(quarter):
    # given weights from 1 April 2024 that count signings only... within the caps: move everything
    # but 15 effort points onto signings
    weights = {m: 0 for m in DEFAULT_WEIGHTS}
    appraisal_weight_set(effective_from=Q2, **{**weights, "signings": 85, "activities": 15})
    promoter_target_set(
        promoter=quarter["a"], period_kind=PeriodKind.QUARTER, period_start=Q2, signings=4, activities=4
    )

    snapshots = {s.promoter_id: s for s in appraisal_compute(period_kind=PeriodKind.QUARTER, period_start=Q2)}

    # signings 2/4 = .5, activities 4/4 = 1: (85 × .5 + 15 × 1) / 100 × 100 = 57.5
    assert snapshots[quarter["a"].pk].score == Decimal("57.50")

"""Follow-ups: what the scan finds due, one reminder per lead and date, one digest each, escalation, holds."""

import datetime as dt
import socket

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings

from crm.constants import ActivityKind, LeadStage, UnitStatus
from crm.models import Notification, Reminder, ReminderDigest, Reservation, StageLimit
from crm.services.activities import activity_log
from crm.services.followups import (
    followups_escalate,
    followups_run,
    followups_scan,
    reminder_digest_send,
    reminder_digests_due,
    reminder_digests_send,
    reminders_resolve,
    reservation_expiry_notify,
    reservations_nightly,
    stage_limit_set,
)
from tests.factories import LeadFactory, UnitFactory, UserFactory
from tests.workers.conftest import NOW, mailed_promoter, stale_lead

pytestmark = pytest.mark.django_db


def test_the_seeded_stage_limits_are_data():
    limits = dict(StageLimit.objects.values_list("stage", "days"))

    assert limits == {"new": 3, "contacted": 5, "visiting": 5, "negotiating": 7}


def test_a_stage_limit_of_zero_days_is_refused():
    with pytest.raises(ValidationError) as exc:
        stage_limit_set(stage=LeadStage.NEW, days=0)

    assert "at least one day" in " ".join(exc.value.message_dict["days"])
    assert StageLimit.objects.get(stage=LeadStage.NEW).days == 3


def test_the_database_refuses_a_zero_day_limit_too():
    with pytest.raises(IntegrityError), transaction.atomic():
        StageLimit.objects.filter(stage=LeadStage.NEW).update(days=0)


def test_a_lead_quiet_longer_than_its_stage_limit_gets_one_reminder(promoter):
    # given a new lead (limit 3 days) quiet for 4 days: last activity 11 May 09:00
    lead = stale_lead(promoter, days_quiet=4)

    # when
    result = followups_scan(now=NOW)

    # then it was due at 11 May 09:00 + 3 days = 14 May 09:00
    reminder = Reminder.objects.get(lead=lead)
    assert (result.due, result.created) == (1, 1)
    assert reminder.reason == Reminder.Reason.STALE
    assert reminder.due_on == dt.date(2024, 5, 14)
    assert reminder.due_at == NOW - dt.timedelta(days=1)
    assert reminder.act_by == NOW + dt.timedelta(days=1)  # due_at + 2 days
    assert reminder.promoter == promoter


def test_a_lead_inside_its_stage_limit_is_not_due(promoter):
    stale_lead(promoter, days_quiet=2)  # new: 2 < 3 days
    stale_lead(promoter, days_quiet=4, stage=LeadStage.NEGOTIATING)  # negotiating: 4 < 7 days

    assert followups_scan(now=NOW).due == 0


def test_the_stage_decides_the_limit(promoter):
    # given contacted (5 days) leads quiet exactly 5 and 4 days
    due = stale_lead(promoter, days_quiet=5, stage=LeadStage.CONTACTED)
    stale_lead(promoter, days_quiet=4, stage=LeadStage.CONTACTED)

    followups_scan(now=NOW)

    assert list(Reminder.objects.values_list("lead_id", flat=True)) == [due.pk]


def test_a_planned_follow_up_that_is_reached_is_due(promoter):
    # given a call on 10 May that planned the next follow-up for 13 May 10:00
    lead = stale_lead(promoter, days_quiet=6, stage=LeadStage.CONTACTED)
    planned = NOW - dt.timedelta(days=2) + dt.timedelta(hours=1)
    activity_log(
        lead=lead, kind=ActivityKind.CALL, occurred_at=NOW - dt.timedelta(days=5), next_follow_up_at=planned
    )

    followups_scan(now=NOW)

    reminder = Reminder.objects.get(lead=lead)
    assert reminder.reason == Reminder.Reason.FOLLOW_UP
    assert reminder.due_at == planned
    assert reminder.due_on == dt.date(2024, 5, 13)


def test_a_follow_up_planned_for_later_holds_off_the_stage_limit(promoter):
    # given a new lead quiet for 14 days whose last call planned a follow-up on 20 May
    lead = stale_lead(promoter, days_quiet=20)
    activity_log(
        lead=lead,
        kind=ActivityKind.CALL,
        occurred_at=NOW - dt.timedelta(days=14),
        next_follow_up_at=NOW + dt.timedelta(days=5),
    )

    assert followups_scan(now=NOW).due == 0


def test_closed_and_unowned_leads_are_never_due(promoter):
    stale_lead(promoter, days_quiet=30, stage=LeadStage.SIGNED)
    stale_lead(promoter, days_quiet=30, stage=LeadStage.LOST, lost_reason="选址外地")
    stale_lead(None, days_quiet=30)

    assert followups_scan(now=NOW).due == 0


def test_a_second_scan_adds_no_reminder_and_no_notification(promoter):
    stale_lead(promoter, days_quiet=4)
    followups_scan(now=NOW)

    second = followups_scan(now=NOW + dt.timedelta(hours=1))

    assert second.due == 0
    assert Reminder.objects.count() == 1
    assert Notification.objects.filter(kind=Notification.Kind.REMINDER, user=promoter.user).count() == 1


def test_the_database_keeps_one_reminder_per_lead_and_due_date(promoter):
    lead = stale_lead(promoter, days_quiet=4)
    followups_scan(now=NOW)
    first = Reminder.objects.get(lead=lead)

    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            lead=lead,
            promoter=promoter,
            reason=Reminder.Reason.STALE,
            stage=lead.stage,
            due_on=first.due_on,
            due_at=first.due_at + dt.timedelta(hours=3),
            act_by=first.act_by,
            created_at=NOW,
        )


def test_an_activity_after_the_reminder_starts_a_new_stretch(promoter):
    # given a reminder due 14 May, then a call on 14 May 12:00 with no follow-up planned
    lead = stale_lead(promoter, days_quiet=4)
    followups_scan(now=NOW)
    activity_log(lead=lead, kind=ActivityKind.CALL, occurred_at=NOW - dt.timedelta(hours=21))

    # when scanned again four days later (3 days after the call)
    followups_scan(now=NOW + dt.timedelta(days=4))

    # then a second reminder is due on 14 May 12:00 + 3 days = 17 May
    assert sorted(Reminder.objects.values_list("due_on", flat=True)) == [
        dt.date(2024, 5, 14),
        dt.date(2024, 5, 17),
    ]


def test_each_promoter_gets_one_digest_listing_all_their_due_leads(promoter):
    # given two due leads of one promoter and one of another
    first = stale_lead(promoter, days_quiet=4)
    second = stale_lead(promoter, days_quiet=10)
    other = mailed_promoter(2)
    stale_lead(other, days_quiet=4)

    # when
    digest_ids = followups_run(now=NOW).digest_ids
    for digest_id in digest_ids:
        reminder_digest_send(digest_id=digest_id, now=NOW)

    # then one mail each, the first listing both leads under the digest's Message-ID
    assert len(digest_ids) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["promoter1@example.com", "promoter2@example.com"]
    mine = next(m for m in mail.outbox if m.to == ["promoter1@example.com"])
    assert first.ref in mine.body and second.ref in mine.body
    assert "2 条" in mine.subject
    digest = ReminderDigest.objects.get(promoter=promoter)
    assert mine.extra_headers["Message-ID"] == digest.message_id
    assert digest.state == ReminderDigest.State.SENT
    assert set(Reminder.objects.values_list("state", flat=True)) == {Reminder.State.SENT}


def test_a_digest_is_sent_once_however_often_its_task_runs(promoter):
    stale_lead(promoter, days_quiet=4)
    (digest_id,) = followups_run(now=NOW).digest_ids

    sent = [reminder_digest_send(digest_id=digest_id, now=NOW) for _ in range(3)]

    assert sent == [True, False, False]
    assert len(mail.outbox) == 1


def test_a_second_run_sends_nothing_new(promoter):
    stale_lead(promoter, days_quiet=4)
    for digest_id in followups_run(now=NOW).digest_ids:
        reminder_digest_send(digest_id=digest_id, now=NOW)

    again = followups_run(now=NOW + dt.timedelta(minutes=5)).digest_ids

    assert again == []
    assert ReminderDigest.objects.count() == 1


def test_a_digest_held_by_a_live_worker_is_left_alone_until_its_lease_runs_out(promoter):
    # given a digest claimed at NOW by a worker that then went silent
    stale_lead(promoter, days_quiet=4)
    (digest_id,) = followups_run(now=NOW).digest_ids
    ReminderDigest.objects.filter(pk=digest_id).update(state=ReminderDigest.State.SENDING, claimed_at=NOW)

    # when another worker tries 5 minutes later, then 16 minutes later (the lease is 15)
    early = reminder_digest_send(digest_id=digest_id, now=NOW + dt.timedelta(minutes=5))
    late = reminder_digest_send(digest_id=digest_id, now=NOW + dt.timedelta(minutes=16))

    # then only the second one sends, with the same Message-ID
    assert (early, late) == (False, True)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == ReminderDigest.objects.get().message_id


def test_a_stale_claim_is_enqueued_again_by_the_scan(promoter):
    stale_lead(promoter, days_quiet=4)
    (digest_id,) = followups_run(now=NOW).digest_ids
    ReminderDigest.objects.filter(pk=digest_id).update(state=ReminderDigest.State.SENDING, claimed_at=NOW)

    assert reminder_digests_due(now=NOW + dt.timedelta(minutes=5)) == []
    assert reminder_digests_due(now=NOW + dt.timedelta(minutes=16)) == [digest_id]


def test_a_ready_digest_is_enqueued_again_only_after_it_went_unconsumed_for_ten_minutes(promoter):
    stale_lead(promoter, days_quiet=4)
    (digest_id,) = followups_run(now=NOW).digest_ids

    assert reminder_digests_due(now=NOW + dt.timedelta(minutes=9)) == []
    assert reminder_digests_due(now=NOW + dt.timedelta(minutes=11)) == [digest_id]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_mail_server_failure_gives_the_claim_back_and_raises_for_a_retry(promoter):
    stale_lead(promoter, days_quiet=4)
    (digest_id,) = followups_run(now=NOW).digest_ids

    # when the SMTP server does not answer
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=_closed_port(),
            EMAIL_TIMEOUT=2,
        ),
        pytest.raises(OSError),
    ):
        reminder_digest_send(digest_id=digest_id, now=NOW)

    # then the digest is ready again, and the retry sends it
    digest = ReminderDigest.objects.get(pk=digest_id)
    assert (digest.state, digest.attempts) == (ReminderDigest.State.READY, 1)
    assert "ConnectionRefusedError" in digest.last_error
    assert reminder_digest_send(digest_id=digest_id, now=NOW) is True
    assert len(mail.outbox) == 1


def test_a_promoter_without_an_address_gets_the_in_app_notification_only():
    user = UserFactory(username="noaddress", email="", role="promoter")
    promoter = mailed_promoter(3)
    promoter.user = user
    promoter.save()
    stale_lead(promoter, days_quiet=4)

    assert followups_run(now=NOW).digest_ids == []
    assert Reminder.objects.get().state == Reminder.State.SENT
    assert ReminderDigest.objects.get().state == ReminderDigest.State.NO_ADDRESS
    assert Notification.objects.filter(user=user, kind=Notification.Kind.REMINDER).count() == 1
    assert mail.outbox == []


def test_a_reminder_answered_before_its_digest_is_prepared_is_not_mailed(promoter):
    lead = stale_lead(promoter, days_quiet=4)
    followups_scan(now=NOW)
    activity_log(lead=lead, kind=ActivityKind.VISIT, occurred_at=NOW - dt.timedelta(hours=1))

    resolved = reminders_resolve(lead_id=lead.pk)

    assert resolved == 1
    assert Reminder.objects.get().state == Reminder.State.RESOLVED
    assert followups_run(now=NOW).digest_ids == []


def test_a_reminder_still_not_acted_on_escalates_to_the_team_lead_once(promoter):
    # given a reminder due 14 May 09:00 and the team's lead; escalation after 3 more days
    team_lead = mailed_promoter(9, team="一组", is_team_lead=True)
    lead = stale_lead(promoter, days_quiet=4)
    followups_scan(now=NOW)

    # when checked on 16 May (2 days after) and on 17 May 09:00 (3 days after), then again
    early = followups_escalate(now=NOW + dt.timedelta(days=1))
    on_time = followups_escalate(now=NOW + dt.timedelta(days=2))
    again = followups_escalate(now=NOW + dt.timedelta(days=3))

    # then
    assert (early, on_time, again) == (0, 1, 0)
    note = Notification.objects.get(kind=Notification.Kind.ESCALATION)
    assert note.user == team_lead.user
    assert lead.ref in note.title
    assert Reminder.objects.get().escalated_at == NOW + dt.timedelta(days=2)


def test_without_a_team_lead_the_district_office_hears_of_it(promoter):
    office = UserFactory(username="office", role="district_admin")
    stale_lead(promoter, days_quiet=4)
    followups_scan(now=NOW)

    followups_escalate(now=NOW + dt.timedelta(days=2))

    assert list(
        Notification.objects.filter(kind=Notification.Kind.ESCALATION).values_list("user", flat=True)
    ) == [office.pk]


def test_an_overdue_lead_acted_on_does_not_escalate(promoter):
    mailed_promoter(9, team="一组", is_team_lead=True)
    lead = stale_lead(promoter, days_quiet=4)
    followups_scan(now=NOW)
    activity_log(lead=lead, kind=ActivityKind.CALL, occurred_at=NOW)

    assert followups_escalate(now=NOW + dt.timedelta(days=3)) == 0


def _hold(promoter, expires_on: dt.date) -> Reservation:
    lead = LeadFactory(owner=promoter, stage=LeadStage.NEGOTIATING)
    unit = UnitFactory(status=UnitStatus.RESERVED)
    return Reservation.objects.create(
        lead=lead, unit=unit, promoter=promoter, created_at=NOW, expires_on=expires_on
    )


def test_a_holder_is_told_the_day_before_the_hold_expires_once(promoter):
    today = dt.date(2024, 5, 15)
    tomorrow = _hold(promoter, dt.date(2024, 5, 16))
    _hold(promoter, dt.date(2024, 5, 18))

    first = reservation_expiry_notify(today=today)
    second = reservation_expiry_notify(today=today)

    assert (first, second) == (1, 0)
    note = Notification.objects.get(kind=Notification.Kind.RESERVATION)
    assert note.user == promoter.user
    assert tomorrow.lead.ref in note.title


def test_the_nightly_run_releases_expired_holds(promoter):
    expired = _hold(promoter, dt.date(2024, 5, 14))

    released = reservations_nightly(today=dt.date(2024, 5, 15))

    expired.refresh_from_db()
    expired.unit.refresh_from_db()
    assert released == 1
    assert expired.released_at is not None
    assert expired.unit.status == UnitStatus.VACANT


def test_reminders_of_a_digest_whose_worker_died_after_marking_it_are_repaired(promoter):
    # given a digest marked sent whose worker died before it marked the reminders
    stale_lead(promoter, days_quiet=4)
    (digest_id,) = followups_run(now=NOW).digest_ids
    ReminderDigest.objects.filter(pk=digest_id).update(state=ReminderDigest.State.SENT, sent_at=NOW)

    # when the next scan runs
    followups_run(now=NOW + dt.timedelta(minutes=5))

    # then the reminder is sent, as of the digest's time, and nothing was mailed again
    reminder = Reminder.objects.get()
    assert (reminder.state, reminder.sent_at) == (Reminder.State.SENT, NOW)
    assert mail.outbox == []


def test_a_pass_that_hits_a_batch_limit_asks_for_another(promoter, monkeypatch):
    # given three due leads and a scan limited to two per pass
    for days in (4, 5, 6):
        stale_lead(promoter, days_quiet=days)
    monkeypatch.setattr("crm.services.followups.SCAN_BATCH", 2)

    first = followups_run(now=NOW)
    second = followups_run(now=NOW)

    assert (first.more, second.more) == (True, False)
    assert Reminder.objects.count() == 3


def test_a_promoter_with_more_than_200_due_leads_gets_them_in_digests_of_200(promoter):
    for _ in range(201):
        stale_lead(promoter, days_quiet=4)

    digest_ids = followups_run(now=NOW).digest_ids

    sizes = sorted(ReminderDigest.objects.get(pk=pk).reminders.count() for pk in digest_ids)
    assert sizes == [1, 200]  # 201 = 200 + 1


def test_a_batch_of_digests_is_sent_once_each_even_when_it_runs_twice(promoter):
    for n in (2, 3):
        stale_lead(mailed_promoter(n), days_quiet=4)
    stale_lead(promoter, days_quiet=4)
    digest_ids = followups_run(now=NOW).digest_ids

    first = reminder_digests_send(digest_ids=digest_ids)
    second = reminder_digests_send(digest_ids=digest_ids)

    assert (first, second) == (3, 0)
    assert sorted(m.to[0] for m in mail.outbox) == [f"promoter{n}@example.com" for n in (1, 2, 3)]

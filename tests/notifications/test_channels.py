"""Robot channels against the local receiver: setting one up, one message per robot, signatures
checked by the receiver, retries on 5xx and "too frequent", the rate kept, failures recorded."""

import datetime as dt
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm.models import ChannelMessage, Notification, ReminderDigest, UserScope
from crm.notifications import platforms
from crm.services import channels
from crm.services.channels import ChannelRetry, channel_message_send, channel_messages_run, channel_set
from crm.services.followups import reminder_digests_prepare
from tests.factories import LeadFactory, PromoterFactory, StreetFactory, UserFactory
from tests.workers.conftest import mailed_promoter, stale_lead

pytestmark = pytest.mark.django_db


def notify(user, n: int, *, lead=None, kind=Notification.Kind.REMINDER) -> Notification:
    return Notification.objects.create(
        user=user,
        kind=kind,
        title=f"跟进提醒:企业{n} / follow up {n}",
        lead=lead,
        dedupe_key=f"test:{n}",
        created_at=timezone.now(),
    )


def send_all() -> list[int]:
    ids = channel_messages_run().message_ids
    for message_id in ids:
        channel_message_send(message_id=message_id)
    return ids


@pytest.mark.parametrize("kind", ["dingtalk", "wecom", "feishu"])
def test_a_persons_robot_receives_their_notification_signed_as_its_platform_checks(receiver, kind):
    # given a promoter who chose a robot of `kind`, with a secret where the platform signs
    promoter = mailed_promoter(1)
    secret = "" if kind == "wecom" else "SEC-robot-1"
    url = receiver.robot(kind, "tok1", secret)
    channel_set(user=promoter.user, kind=kind, url=url, secret=secret)
    lead = LeadFactory(owner=promoter)
    notify(promoter.user, 1, lead=lead)

    # when the outbox is prepared and sent
    (message_id,) = send_all()

    # then the receiver accepted one message (its signature checked) linking to the lead
    assert [r.kind for r in receiver.accepted] == [kind]
    assert f"http://127.0.0.1:8000/leads/{lead.pk}/" in receiver.accepted[0].text
    assert "跟进提醒" in receiver.accepted[0].text
    assert ChannelMessage.objects.get(pk=message_id).state == ChannelMessage.State.SENT


@pytest.mark.parametrize(("kind", "code"), [("dingtalk", 310000), ("feishu", 19021)])
def test_a_wrong_secret_is_refused_by_the_receiver_and_recorded_with_its_code(receiver, kind, code):
    # given a robot set up with a secret other than the platform's
    user = UserFactory(role="promoter")
    url = receiver.robot(kind, "tok2", "the-right-secret")
    channel_set(user=user, kind=kind, url=url, secret="a-wrong-secret")
    notify(user, 2)

    # when it is sent
    (message_id,) = send_all()

    # then the receiver refused it and the message failed for good with the platform's code
    assert receiver.accepted == []
    message = ChannelMessage.objects.get(pk=message_id)
    assert (message.state, message.error_code, message.attempts) == (ChannelMessage.State.FAILED, code, 1)


def test_a_5xx_is_retried_after_a_backoff_and_then_sent(receiver):
    # given a DingTalk robot whose first answer is a 503
    user = UserFactory(role="promoter")
    url = receiver.robot("dingtalk", "tok3", "s3")
    channel_set(user=user, kind="dingtalk", url=url, secret="s3")
    notify(user, 3)
    receiver.answer_next("tok3", 503, {"errmsg": "busy"})
    (message_id,) = channel_messages_run().message_ids

    # when it is sent: the 503 gives the claim back with a 30 s backoff (the first retry's)
    before = timezone.now()
    with pytest.raises(ChannelRetry) as retry:
        channel_message_send(message_id=message_id)
    message = ChannelMessage.objects.get(pk=message_id)
    assert retry.value.seconds == 30
    assert (message.state, message.error_code) == (ChannelMessage.State.READY, 503)
    assert message.next_attempt_at >= before + dt.timedelta(seconds=30)
    # and before the backoff has passed it is not sent
    assert channel_message_send(message_id=message_id) is None

    # then once the backoff has passed, it goes out
    ChannelMessage.objects.filter(pk=message_id).update(next_attempt_at=timezone.now())
    assert channel_message_send(message_id=message_id) == ChannelMessage.State.SENT
    assert len(receiver.accepted) == 1
    assert ChannelMessage.objects.get(pk=message_id).attempts == 2


@pytest.mark.parametrize(("kind", "code"), [("dingtalk", 130101), ("wecom", 45009), ("feishu", 11232)])
def test_too_frequent_is_retried_no_sooner_than_a_minute(receiver, kind, code):
    # given a robot whose platform answers "too frequent"
    user = UserFactory(role="promoter")
    url = receiver.robot(kind, "tok4", "")
    channel_set(user=user, kind=kind, url=url, secret="")
    notify(user, 4)
    receiver.answer_next("tok4", 200, receiver_too_frequent(kind))
    (message_id,) = channel_messages_run().message_ids

    # when it is sent
    with pytest.raises(ChannelRetry) as retry:
        channel_message_send(message_id=message_id)

    # then it waits at least 60 s, with the platform's code recorded
    assert retry.value.seconds == 60
    assert ChannelMessage.objects.get(pk=message_id).error_code == code


def receiver_too_frequent(kind: str) -> dict:
    from tests.notifications.receiver import TOO_FREQUENT

    return TOO_FREQUENT[kind]


def test_many_notifications_at_once_make_one_digest_per_robot(receiver):
    # given 45 notifications of one promoter with a DingTalk robot
    user = UserFactory(role="promoter")
    channel_set(user=user, kind="dingtalk", url=receiver.robot("dingtalk", "tok5", "s"), secret="s")
    for n in range(45):
        notify(user, 100 + n)

    # when the outbox is prepared twice and sent
    send_all()
    send_all()

    # then two messages (30 lines, then 15), each notification in one of them
    texts = [r.text for r in receiver.accepted]
    assert [t.count("\n- ") + t.startswith("- ") for t in texts] == [30, 15]
    assert sum(t.count("跟进提醒:企业") for t in texts) == 45


def test_a_street_robot_carries_one_line_for_a_warning_two_officers_got(receiver):
    # given a street with a WeCom robot and two officers warned of the same thing
    street = StreetFactory()
    channel_set(street=street, kind="wecom", url=receiver.robot("wecom", "tok6", ""), language="en")
    for _ in (1, 2):
        officer = UserFactory(role="street_officer")
        UserScope.objects.create(user=officer, street=street)
        Notification.objects.create(
            user=officer,
            kind="warning",
            title="迁出预警 / tax fell",
            dedupe_key="warning:w1",
            created_at=timezone.now(),
        )

    # when sent
    send_all()

    # then one message with one line, in English
    (received,) = receiver.accepted
    assert received.text.count("tax fell") == 1
    assert "Warning" in received.text


def test_a_message_of_a_robot_switched_off_since_is_not_sent(receiver):
    # given a prepared message whose robot is then switched off
    user = UserFactory(role="promoter")
    url = receiver.robot("wecom", "tok13", "")
    channel_set(user=user, kind="wecom", url=url)
    notify(user, 13)
    (message_id,) = channel_messages_run().message_ids
    channel_set(user=user, kind="wecom", url=url, active=False)

    # when it is sent, then nothing is posted and the message says why
    assert channel_message_send(message_id=message_id) == ChannelMessage.State.FAILED
    assert receiver.accepted == []
    assert "switched off" in ChannelMessage.objects.get(pk=message_id).last_error


def test_a_robot_starts_from_when_it_was_set_up(receiver):
    # given a notification made before the robot existed
    user = UserFactory(role="promoter")
    old = notify(user, 7)
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    channel_set(user=user, kind="wecom", url=receiver.robot("wecom", "tok7", ""))

    # then nothing is sent for it
    assert send_all() == []


def test_the_robots_rate_is_kept_by_the_shared_limiter(receiver, monkeypatch):
    # given a DingTalk robot allowed 3 messages in 2 seconds (narrowed for the test), and 5 messages
    monkeypatch.setitem(platforms.RATE_LIMITS, "dingtalk", ((3, 2000),))
    # The receiver counts arrivals, the limiter counts sends a few ms earlier: it judges a slightly
    # shorter window, as a platform's clock is never the sender's.
    receiver.limits["dingtalk"] = [(3, 1.9)]
    monkeypatch.setattr(channels, "MAX_LINES", 1)
    user = UserFactory(role="promoter")
    channel_set(
        user=user, kind="dingtalk", url=receiver.robot("dingtalk", f"tok8-{time.time_ns()}", "s"), secret="s"
    )
    for n in range(5):
        notify(user, 200 + n)
    ids = channel_messages_run().message_ids
    assert len(ids) == 5

    # when each is sent as soon as the limiter allows
    for message_id in ids:
        while True:
            try:
                channel_message_send(message_id=message_id)
                break
            except ChannelRetry as retry:
                ChannelMessage.objects.filter(pk=message_id).update(next_attempt_at=None)
                time.sleep(retry.seconds)

    # then all five arrived, the receiver never answered "too frequent", and the fourth came 2 s
    # after the first at the earliest (by the receiver's clock, 1.9 s)
    times = [r.at for r in receiver.accepted]
    assert len(times) == 5
    assert receiver.refused == []
    assert times[3] - times[0] >= 1.9


def test_a_robot_url_must_be_a_platforms_host(settings):
    # given production's host list
    settings.NOTIFY_ALLOWED_HOSTS = ["oapi.dingtalk.com"]
    user = UserFactory(role="promoter")

    # when a robot is pointed elsewhere, then the URL is refused as a field error
    with pytest.raises(ValidationError) as error:
        channel_set(user=user, kind="dingtalk", url="http://127.0.0.1:9/robot/send?access_token=x")
    assert "url" in error.value.message_dict
    assert "NOTIFY_ALLOWED_HOSTS" in error.value.message_dict["url"][0]


def test_a_robot_url_to_a_private_address_is_refused_where_webhooks_are(settings):
    # given production's address rule, with the host allowed by name
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    settings.NOTIFY_ALLOWED_HOSTS = ["localhost"]
    user = UserFactory(role="promoter")

    # then a host that resolves to this machine is refused
    with pytest.raises(ValidationError) as error:
        channel_set(user=user, kind="wecom", url="http://localhost:9/cgi-bin/webhook/send?key=k")
    assert "loopback" in error.value.message_dict["url"][0]


def test_the_secret_is_kept_when_a_form_leaves_it_out(receiver):
    # given a robot with a secret
    user = UserFactory(role="promoter")
    url = receiver.robot("dingtalk", "tok9", "keep-me")
    channel_set(user=user, kind="dingtalk", url=url, secret="keep-me")

    # when its language is changed without a secret
    channel = channel_set(user=user, kind="dingtalk", url=url, language="en")

    # then the secret is unchanged, and it is not in the history
    assert channel.secret == "keep-me"
    assert not hasattr(channel.history.first(), "secret")


def test_a_promoter_who_chose_a_robot_is_not_mailed_the_digest(receiver):
    # given a promoter with a robot and a due lead
    promoter = mailed_promoter(10)
    channel_set(user=promoter.user, kind="wecom", url=receiver.robot("wecom", "tok10", ""))
    from crm.services.followups import followups_scan

    stale_lead(promoter, days_quiet=10, now=timezone.now())
    followups_scan()

    # when the digests are prepared
    reminder_digests_prepare()

    # then the digest is not mailed (the robot carries the reminder)
    assert ReminderDigest.objects.get(promoter=promoter).state == ReminderDigest.State.NO_ADDRESS
    send_all()
    assert len(receiver.accepted) == 1


def test_the_test_command_sends_as_the_workers_do_and_prints_the_answer(receiver, capsys):
    # given a Feishu robot with its secret
    url = receiver.robot("feishu", "tok11", "fs")

    # when the command sends to it
    call_command(
        "send_test_notification", "--channel", "feishu", "--url", url, "--secret", "fs", "--text", "你好"
    )

    # then the receiver accepted it and the answer was printed
    assert [r.text for r in receiver.accepted] == ["你好"]
    assert '"code": 0' in capsys.readouterr().out


def test_the_test_command_fails_on_a_wrong_secret(receiver, capsys):
    url = receiver.robot("dingtalk", "tok12", "right")
    with pytest.raises(CommandError) as error:
        call_command(
            "send_test_notification",
            "--channel",
            "dingtalk",
            "--url",
            url,
            "--secret",
            "wrong",
            "--text",
            "x",
        )
    assert "310000" in str(error.value)
    assert '"errcode": 310000' in capsys.readouterr().out
    assert receiver.accepted == []


def test_the_test_command_fails_when_nothing_answers():
    # given no receiver on port 9 of this machine
    with pytest.raises(CommandError) as error:
        call_command(
            "send_test_notification",
            "--channel",
            "wecom",
            "--url",
            "http://127.0.0.1:9/x?key=k",
            "--text",
            "x",
        )
    assert "ConnectionRefusedError" in str(error.value)


def test_a_street_robot_gets_the_escalation_of_its_team_lead(receiver):
    # given a street with a DingTalk robot, its team lead and a promoter of the team whose lead was
    # due 10 days ago (new: 3 days, then 3 more to escalate)
    street = StreetFactory()
    channel_set(street=street, kind="dingtalk", url=receiver.robot("dingtalk", "tok14", "s14"), secret="s14")
    lead_user = UserFactory(role="promoter")
    PromoterFactory(user=lead_user, team="东组", is_team_lead=True, street=street)
    promoter = mailed_promoter(14, team="东组")
    lead = stale_lead(promoter, days_quiet=10, now=timezone.now())
    from crm.services.followups import followups_escalate, followups_scan

    followups_scan()
    followups_escalate()

    # when the outbox is sent
    send_all()

    # then the street's group got the escalation with the link to the lead
    (received,) = receiver.accepted
    assert "逾期升级" in received.text
    assert f"/leads/{lead.pk}/" in received.text


def test_the_test_command_mails_with_email(mailoutbox):
    call_command(
        "send_test_notification", "--channel", "email", "--to", "office@example.org", "--text", "测试"
    )
    assert [m.to for m in mailoutbox] == [["office@example.org"]]
    assert mailoutbox[0].body == "测试"

"""Robot messages under a killed worker, on the real Redis and real `celery worker` processes: each
reminder and escalation reaches its robot in exactly one message, and no robot is sent past its rate.

The receiver runs in this test process on 127.0.0.1; the workers post to it as they would to the
platforms (the test settings allow this machine, as for agencies' webhooks).
"""

import re
import time
from collections import defaultdict

import pytest
import redis

from crm.constants import LeadStage
from crm.models import ChannelMessage, Reminder
from crm.services.channels import channel_set
from tests.factories import LeadFactory, UserFactory
from tests.processes import wait_for
from tests.workers.conftest import mailed_promoter
from tests.workers.test_reliability import _make_quiet, send

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LINE = re.compile(r"^- \*\*(跟进提醒|逾期升级)\*\* .*\(http://[^)]*/leads/(\d+)/\)$")
KINDS = ("dingtalk", "wecom", "feishu")


def carried(receiver) -> tuple[dict[tuple[str, int], set[str]], dict[str, int]]:
    """Which distinct message texts carried each (kind of line, lead), and how often each text came."""
    carriers: dict[tuple[str, int], set[str]] = defaultdict(set)
    copies: dict[str, int] = defaultdict(int)
    for received in receiver.accepted:
        copies[received.text] += 1
        for line in received.text.splitlines():
            match = LINE.match(line)
            if match:
                carriers[(match[1], int(match[2]))].add(received.text)
    return carriers, copies


def test_a_worker_killed_mid_send_loses_no_robot_message_and_sends_none_twice(
    broker, mail_dir, workers, receiver
):
    # given 120 promoters, each with a robot of one of the three platforms and a lead long quiet
    # (a reminder, and an escalation to the district office's robot: 120 lines, 4 messages)
    receiver.delay = 0.02
    admin = UserFactory(username="office", role="district_admin")
    channel_set(
        user=admin,
        kind="dingtalk",
        url=receiver.robot("dingtalk", "office", "office-secret"),
        secret="office-secret",
    )
    leads = []
    for n in range(120):
        kind = KINDS[n % 3]
        owner = mailed_promoter(3000 + n)
        secret = "" if kind == "wecom" else f"secret-{n}"
        channel_set(user=owner.user, kind=kind, url=receiver.robot(kind, f"robot-{n}", secret), secret=secret)
        leads.append(LeadFactory(owner=owner, stage=LeadStage.NEW).pk)
    _make_quiet(days=10)
    first = workers("first", broker, mail_dir)

    # when the scan has run and the worker is part-way through posting, it is killed
    send(broker, "workers.tasks.followups_dispatch")
    wait_for(lambda: len(receiver.accepted) >= 25, timeout=90, step=0.005, what="25 robot messages")
    first.kill()
    total = ChannelMessage.objects.count()
    assert total == 124
    assert ChannelMessage.objects.filter(state=ChannelMessage.State.SENT).count() < total, (
        "nothing was proved"
    )

    # and a new worker takes over; once the queue is drained the scan runs again as beat would after
    # the claim lease (here at once: the first worker is known to be dead)
    workers("second", broker, mail_dir)
    queue = redis.Redis.from_url(broker)
    wait_for(lambda: queue.llen("celery") == 0, timeout=60, what="the queue to drain")
    time.sleep(0.5)
    send(broker, "workers.tasks.followups_dispatch", stale_after_seconds=0)
    wait_for(
        lambda: ChannelMessage.objects.filter(state=ChannelMessage.State.SENT).count() == total,
        timeout=90,
        what="every robot message to be sent",
    )

    # then every reminder and every escalation came in exactly one message; at most the one message
    # in flight at the kill came twice, as the same text; no robot was answered "too frequent"
    carriers, copies = carried(receiver)
    assert set(carriers) == {(label, lead) for lead in leads for label in ("跟进提醒", "逾期升级")}
    assert {key: texts for key, texts in carriers.items() if len(texts) > 1} == {}
    assert sum(n - 1 for n in copies.values()) <= 1
    assert len(copies) == 124
    assert receiver.refused == []
    assert Reminder.objects.exclude(state=Reminder.State.SENT).count() == 0

"""Redis restarted under load: pages and the API answer throughout, writes succeed, and the work
queued once Redis is back, with beat's scan, drains within 60 s (issue 8).

A gunicorn web server (production settings, plain HTTP) and a real worker run on the test database
and the Redis at REDIS_URL, which the test shuts down and starts again with the machine's command
line (tests/faults/conftest.py `RedisServer`).
"""

import datetime as dt
import threading
import time
from collections import Counter

import pytest
import redis
import requests
from django.utils import timezone

from crm.models import Lead, Reminder
from tests.factories import LeadFactory
from tests.faults.conftest import logged_in
from tests.workers.conftest import mailed_promoter
from tests.workers.test_reliability import send, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OUTAGE_SECONDS = 5


class Load(threading.Thread):
    """Reads pages and API resources of one promoter in a loop, counting answers by status."""

    def __init__(self, base: str, http: requests.Session, paths: list[str]):
        super().__init__(daemon=True)
        self.base, self.http, self.paths = base, http, paths
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            for path in self.paths:
                try:
                    code = self.http.get(self.base + path, timeout=10, allow_redirects=False).status_code
                except requests.RequestException as error:
                    self.failures.append(f"{path}: {error}")
                    continue
                self.statuses[code] += 1
                if code >= 500:
                    self.failures.append(f"{path}: {code}")


def log_lead(base: str, http: requests.Session, n: int) -> int:
    """Register a lead through the API and log a call on it; the lead's id."""
    created = http.post(
        f"{base}/api/v1/leads/",
        json={"company_name": f"重启期间企业{n}有限公司", "channel": "department"},
        timeout=20,
    )
    assert created.status_code == 201, created.text
    lead_id = created.json()["id"]
    logged = http.post(
        f"{base}/api/v1/leads/{lead_id}/activities/",
        json={"kind": "call", "occurred_at": timezone.now().isoformat(), "notes": "电话沟通"},
        timeout=20,
    )
    assert logged.status_code == 201, logged.text
    return lead_id


def test_redis_restarted_under_load(redis_server, broker, mail_dir, workers, web_server):
    # given a promoter with 5 leads untouched for 10 days (due for a reminder: new leads after 3), a
    # worker and a web server, and a client reading pages and the API
    promoter = mailed_promoter(1)
    then = timezone.now() - dt.timedelta(days=10)
    quiet = LeadFactory.create_batch(5, owner=promoter, created_at=then, last_activity_at=then)
    lead = quiet[0]
    workers("steady", broker, mail_dir)
    web = web_server(broker)
    http = logged_in(promoter.user)
    paths = ["/desk/", "/leads/", f"/leads/{lead.pk}/", "/api/v1/leads/", f"/api/v1/leads/{lead.pk}/"]
    load = Load(web.url, http, paths)
    load.start()
    time.sleep(2)

    # when Redis is shut down, and while it is down the promoter registers 3 leads and logs a call on each
    before_outage = load.statuses.total()
    redis_server.stop()
    down_at = time.monotonic()
    during = [log_lead(web.url, http, n) for n in range(3)]
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
    answered_while_down = load.statuses.total() - before_outage

    # and Redis is started again; 2 more leads are logged, and beat's scan runs
    redis_server.start()
    back_at = time.monotonic()
    after = [log_lead(web.url, http, 10 + n) for n in range(2)]
    send(broker, "workers.tasks.followups_dispatch")

    # then within 60 s the quiet leads' reminders went out and the queue is empty
    queue = redis.Redis.from_url(broker)
    wait_for(
        lambda: Reminder.objects.filter(state=Reminder.State.SENT).count() == 5 and queue.llen("celery") == 0,
        timeout=60 - (time.monotonic() - back_at),
        step=0.2,
        what="the 5 reminders to be sent",
    )
    load.halt.set()
    load.join(timeout=30)

    # and no page or API call failed, before, during or after the outage
    assert load.failures == []
    assert set(load.statuses) == {200}
    assert answered_while_down > 0
    assert set(Reminder.objects.values_list("lead_id", flat=True)) == {lead.pk for lead in quiet}
    assert Lead.objects.filter(pk__in=during + after).count() == 5

"""A second beat started beside the first sends nothing; it takes over when the first dies (issue 8)."""

import json
import time

import pytest
import redis
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tests.workers.test_reliability import wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TICK_TASK = "faults.beat_tick"  # never consumed: the test counts the messages beat leaves in the queue
EVERY = 2  # seconds between two runs of the entry
LOCK_TTL = 4  # seconds; the second beat takes over at most this long after the first died


def ticks_sent(broker: str) -> int:
    queue = redis.Redis.from_url(broker)
    return sum(json.loads(m)["headers"]["task"] == TICK_TASK for m in queue.lrange("celery", 0, -1))


def test_a_second_beat_sends_nothing_until_the_first_dies(broker, beats):
    # given the schedule holds one entry only, due every 2 seconds
    PeriodicTask.objects.update(enabled=False)
    every, _ = IntervalSchedule.objects.get_or_create(every=EVERY, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="fault test tick", task=TICK_TASK, interval=every)

    # when a second beat starts beside the first, and both run for 12 seconds
    first = beats("first", broker, BEAT_LOCK_TTL=str(LOCK_TTL))
    wait_for(lambda: ticks_sent(broker) >= 1, timeout=60, what="the first tick")
    second = beats("second", broker, BEAT_LOCK_TTL=str(LOCK_TTL))
    wait_for(lambda: "another beat holds the lock" in second.text(), timeout=60, what="the second to wait")
    before = ticks_sent(broker)
    time.sleep(12)
    sent_by_one = ticks_sent(broker)

    # then the entry went out once per 2 seconds, 6 times (one either side for where the ticks fall),
    # not 12: the second beat sent nothing
    assert 5 <= sent_by_one - before <= 7
    assert "Sending due task" not in second.text()

    # when the first beat is killed
    first.kill()
    killed_at = time.monotonic()
    wait_for(lambda: "beat took the lock" in second.text(), timeout=LOCK_TTL + 10, what="the takeover")
    took_over_after = time.monotonic() - killed_at
    time.sleep(8)

    # then the second took over within the lock's TTL and sends on the same 2-second rhythm
    assert took_over_after <= LOCK_TTL + 3
    sent_after = ticks_sent(broker) - sent_by_one
    assert 8 / EVERY - 1 <= sent_after <= (time.monotonic() - killed_at) / EVERY + 1
    assert "beat took the lock" in first.text()
    assert "Sending due task" in second.text()

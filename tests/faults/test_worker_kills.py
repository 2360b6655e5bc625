"""A worker killed 20 times mid-task: every webhook delivery arrives, none twice (issue 8).

The receiver is an HTTP server in the test. For 20 of the 30 deliveries it holds the POST, and
meanwhile the test SIGKILLs the worker's pool process that sent it: the kill lands mid-task, after
the delivery was claimed and before its answer. The receiver drops a held POST without answering:
the sender died, so for both sides it was never delivered. Every later POST is answered 200 and
counted. acks_late + reject_on_worker_lost put the killed task's message back in the queue; its
delivery's claim (a lease) makes the redelivered run wait out the dead run's lease, then send.
"""

import os
import queue
import signal
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crm.models import AgencyWebhook, WebhookDelivery
from crm.services.webhooks import webhook_deliveries_create
from tests.factories import AgencyFactory, LeadFactory
from tests.faults.conftest import children_of
from tests.workers.test_reliability import send, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DELIVERIES = 30
KILLS = 20


class Receiver(ThreadingHTTPServer):
    """An agency's system: counts the deliveries it answered; the first KILLS ones it holds instead."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.lock = threading.Lock()
        self.answered: Counter[int] = Counter()
        self.held: set[int] = set()
        self.to_kill: queue.Queue[threading.Event] = queue.Queue()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        delivery_id = int(self.headers["X-Delivery-Id"])
        self.rfile.read(int(self.headers["Content-Length"]))
        server: Receiver = self.server
        with server.lock:
            hold = len(server.held) < KILLS and delivery_id not in server.held
            if hold:
                server.held.add(delivery_id)
        if hold:
            killed = threading.Event()
            server.to_kill.put(killed)
            killed.wait(timeout=30)
            self.close_connection = True
            return  # no answer: the sender is dead
        with server.lock:
            server.answered[delivery_id] += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_worker_killed_20_times_mid_task_delivers_every_webhook_once(broker, mail_dir, workers, receiver):
    # given an agency's webhook and 30 pending deliveries of its leads' stage changes
    agency = AgencyFactory()
    AgencyWebhook.objects.create(agency=agency, url=receiver.url, secret="s3cret")
    delivery_ids = []
    for n in range(DELIVERIES):
        lead = LeadFactory(agency=agency)
        delivery_ids += webhook_deliveries_create(lead=lead, event="lead.stage_changed", payload={"n": n})
    worker = workers("killed", broker, mail_dir)

    # when each delivery is queued, and the worker's process is SIGKILLed in the middle of 20 of them
    for delivery_id in delivery_ids:
        send(broker, "workers.tasks.deliver_webhook", delivery_id)
    for _ in range(KILLS):
        killed = receiver.to_kill.get(timeout=60)
        (pool_process,) = children_of(worker.process.pid)
        os.kill(pool_process, signal.SIGKILL)
        killed.set()
        # the worker forks a fresh pool process before it takes the next message
        wait_for(
            lambda dead=pool_process: children_of(worker.process.pid) not in ([], [dead]),
            timeout=30,
            what="a new pool process",
        )

    # then every delivery is sent (the killed ones after their dead run's 30 s lease) ...
    wait_for(
        lambda: WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SENT).count() == DELIVERIES,
        timeout=90,
        step=0.5,
        what="every delivery to be sent",
    )
    # ... and the receiver answered each exactly once
    assert len(receiver.held) == KILLS
    assert receiver.answered == Counter({delivery_id: 1 for delivery_id in delivery_ids})
    assert "WorkerLostError" in worker.log.read_text(errors="replace")
    attempts = Counter(WebhookDelivery.objects.values_list("attempts", flat=True))
    assert attempts == {1: DELIVERIES - KILLS, 2: KILLS}

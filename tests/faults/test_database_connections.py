"""Database connections killed under the web server and the worker at once: the next request and the
next task succeed (issue 8).

tests/workers/test_reliability.py proves the worker half alone; here both kinds of process lose
their connections in the same pg_terminate_backend, the web server's being persistent
(CONN_MAX_AGE) and health-checked before reuse (CONN_HEALTH_CHECKS).
"""

import pytest
from django.db import connection

from crm.models import AppraisalSnapshot
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


def terminate_other_connections() -> int:
    """Cut every other session on the test database, as a failover or an admin would; how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_after_the_connections_are_killed_the_next_request_and_task_succeed(
    broker, mail_dir, workers, web_server
):
    # given a web server and a worker that have each used their database connection
    promoter = mailed_promoter(1)
    lead = LeadFactory(owner=promoter)
    workers("steady", broker, mail_dir)
    web = web_server(broker)
    http = logged_in(promoter.user)
    for _ in range(4):  # both gunicorn processes, most likely, now hold a connection
        assert http.get(f"{web.url}/api/v1/leads/{lead.pk}/", timeout=20).status_code == 200
    send(broker, "workers.tasks.appraisal_period", "month", "2024-05-01")
    wait_for(lambda: AppraisalSnapshot.objects.exists(), timeout=30, what="the first appraisal")

    # when every other connection to the database is terminated
    assert terminate_other_connections() >= 1
    AppraisalSnapshot.objects.all().delete()

    # then the next requests answer (each gunicorn process finds its connection dead and reconnects)
    for path in (f"/api/v1/leads/{lead.pk}/", "/leads/", f"/leads/{lead.pk}/", "/desk/"):
        response = http.get(web.url + path, timeout=20)
        assert response.status_code == 200, (path, response.status_code)
    # and the next task succeeds
    send(broker, "workers.tasks.appraisal_period", "month", "2024-06-01")
    snapshot = wait_for(lambda: AppraisalSnapshot.objects.first(), timeout=30, what="the second appraisal")
    assert snapshot.period_start.isoformat() == "2024-06-01"

"""Request ids without a worker: the X-Request-ID header, and an eager task (no Redis) logging under it."""

import json
import logging

import pytest
from django.conf import settings

from workers.celery import app


@pytest.fixture
def eager_tasks():
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.mark.urls("tests.ops.urls")
@pytest.mark.django_db
def test_an_eager_task_logs_under_the_request_id_and_gives_it_back(client, caplog, eager_tasks):
    # when a request runs a task in-process (as on a developer's machine without Redis)
    with caplog.at_level("INFO"):
        response = client.get("/test-queue-heartbeat/", {"queue": "celery"})
    # then the task's lines carry the request's id, and the request's lines after the task still do
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    assert [r.correlation_id for r in caplog.records if r.name == "tests.ops"] == [request_id, request_id]
    traced = [r for r in caplog.records if r.name == "celery.app.trace"]
    assert traced and {r.correlation_id for r in traced} == {request_id}


@pytest.mark.django_db
def test_a_proxys_request_id_is_kept_and_a_forged_one_replaced(client):
    # a valid id from the proxy in front is kept, so its access log and ours line up
    given = "7f3c0e5a9b2d4c61a8e4f0b1c2d3e4f5"
    assert client.get("/login/", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    # anything else is replaced: a client cannot write into our logs through the header
    forged = client.get("/login/", HTTP_X_REQUEST_ID='x" injected=1')["X-Request-ID"]
    assert forged != 'x" injected=1' and len(forged) == 32


def test_json_log_lines_carry_the_request_id():
    # given the production formatter with the request-id filter
    from django_guid import set_guid
    from django_guid.log_filters import CorrelationId
    from pythonjsonlogger.json import JsonFormatter

    config = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(config["fmt"], rename_fields=config["rename_fields"])
    record = logging.LogRecord("crm.test", logging.WARNING, __file__, 1, "lead %s saved", ("LW-1",), None)
    set_guid("0123456789abcdef0123456789abcdef")
    try:
        CorrelationId().filter(record)
    finally:
        set_guid(None)
    # when
    line = json.loads(formatter.format(record))
    # then
    assert line["request_id"] == "0123456789abcdef0123456789abcdef"
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "crm.test", "lead LW-1 saved")

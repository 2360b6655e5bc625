"""One client address for the lockout, the API throttles and the logs (issue 21, item 4): a forged
X-Forwarded-For changes nothing, and no log line carries an API key sent in the URL."""

import datetime as dt
import json
import logging

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from gunicorn.config import Config
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient

from crm.api.keys import agency_api_key_create
from ops.access_log import AccessLogger
from ops.log_filters import RedactRequest
from ops.redaction import redact_query

# The whole REST_FRAMEWORK setting, one rate changed: the API's views read their authentication classes
# from it when first imported, which may happen under this override.
BRAKE = override_settings(
    REST_FRAMEWORK={
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "api_key_failure": "10/min",
        },
    }
)


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def _wrong_key(client: APIClient, **headers) -> int:
    return client.get("/api/v1/leads/", HTTP_AUTHORIZATION="Api-Key abcdefgh.wrong", **headers).status_code


@BRAKE
@override_settings(TRUSTED_PROXY_COUNT=0)
def test_forged_forwarded_addresses_do_not_escape_the_wrong_key_brake(db):
    # given no proxy in front: each attempt claims another address in X-Forwarded-For
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    # when 25 wrong keys come from one real address
    statuses = [_wrong_key(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}") for n in range(25)]
    # then the brake counts them as one client's: 10 refused as wrong, the other 15 braked
    assert statuses == [401] * 10 + [429] * 15


@BRAKE
@override_settings(TRUSTED_PROXY_COUNT=0)
def test_forging_another_clients_address_does_not_brake_that_client(db):
    # given ten wrong keys from 198.51.100.7, each claiming to come from 192.0.2.1
    attacker = APIClient(REMOTE_ADDR="198.51.100.7")
    assert [_wrong_key(attacker, HTTP_X_FORWARDED_FOR="192.0.2.1") for _ in range(10)] == [401] * 10
    _key, key, _ = agency_api_key_create(agency_name="越城中介")
    # when the agency at 192.0.2.1 calls with its right key
    victim = APIClient(REMOTE_ADDR="192.0.2.1", HTTP_AUTHORIZATION=f"Api-Key {key}")
    # then it is served, and the attacker's own address is the one braked
    assert victim.get("/api/v1/leads/").status_code == 200
    assert _wrong_key(attacker, HTTP_X_FORWARDED_FOR="192.0.2.1") == 429


@BRAKE
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_only_the_hop_it_appended_counts(db):
    # given one proxy (at 10.0.0.2) that appends the address it saw; the client prepends forged hops
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")
    statuses = [_wrong_key(proxy, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7") for n in range(11)]
    # when another client comes through the same proxy
    other = _wrong_key(proxy, HTTP_X_FORWARDED_FOR="198.51.100.8")
    # then the forged hops changed nothing: 198.51.100.7 is braked after 10, 198.51.100.8 is not
    assert statuses == [401] * 10 + [429]
    assert other == 401


def test_secret_parameters_are_blanked_in_a_query_string():
    # given a key (the library's prefix.secret shape), a password and harmless parameters
    key = "AbCdEf12." + "x" * 32
    query = f"api_key={key}&page=2&password=hunter2&q={key}&street=%E5%BA%9C%E5%B1%B1"
    # when
    shown = redact_query(query)
    # then the key goes under any name, the password too, the rest is kept (re-encoded)
    assert shown == "api_key=[redacted]&page=2&password=[redacted]&q=[redacted]&street=%E5%BA%9C%E5%B1%B1"


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_the_401_log_line_names_neither_the_key_nor_a_forged_address(db, caplog):
    # given a real key sent in the query string, which the API does not read (so a 401)
    _key, key, _ = agency_api_key_create(agency_name="越城中介")
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    # when
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(f"/api/v1/leads/?api_key={key}&page=1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    # then each record, through the console handler's filters and the production JSON formatter,
    # tells the method, the path with the key blanked, and the real client address
    assert response.status_code == 401
    assert "redact_request" in settings.LOGGING["handlers"]["console"]["filters"]
    formatter = JsonFormatter("%(levelname)s %(name)s %(message)s")
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records
    for record in records:
        assert RedactRequest().filter(record)
        line = json.loads(formatter.format(record))
        assert key not in json.dumps(line) and key.split(".")[1] not in json.dumps(line)
        assert line["request"] == "GET /api/v1/leads/?api_key=[redacted]&page=1"
        assert line["client_ip"] == "198.51.100.7"


class _Response:
    status, sent, headers = "401 Unauthorized", 120, []


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_the_access_log_names_the_client_and_blanks_the_key():
    # given a request through one proxy, with a forged hop and a key in the query
    key = "AbCdEf12." + "y" * 32
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/v1/leads/?api_key={key}",
        "PATH_INFO": "/api/v1/leads/",
        "QUERY_STRING": f"api_key={key}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.2",
        "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.7",
        "HTTP_AUTHORIZATION": f"Api-Key {key}",
    }
    headers = [("AUTHORIZATION", f"Api-Key {key}"), ("X-FORWARDED-FOR", environ["HTTP_X_FORWARDED_FOR"])]
    # when
    atoms = AccessLogger(Config()).atoms(_Response(), headers, environ, dt.timedelta(milliseconds=5))
    # then
    assert atoms["h"] == "198.51.100.7"
    assert atoms["r"] == "GET /api/v1/leads/?api_key=[redacted] HTTP/1.1"
    assert atoms["q"] == "api_key=[redacted]"
    assert atoms["{authorization}i"] == "-"
    assert key not in json.dumps(atoms, default=str)

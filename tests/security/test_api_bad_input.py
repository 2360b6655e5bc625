"""Every write of the API refuses malformed and hostile input with a 400 on the field, and writes nothing.

Each test sends its whole catalogue and lists every case answered otherwise (a 500, a 201, an error
on another field, or a row written), so that one run shows all the gaps at once.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.constants import LeadStage
from crm.models import Lead
from tests.api.conftest import api_client
from tests.factories import make_credit_code
from tests.security.hostile import (
    ACCEPTED_TEXT,
    BAD_DATES,
    BAD_DATETIMES,
    BAD_DECIMALS,
    BAD_IDS,
    BAD_INTEGERS,
    NEGATIVE,
    REFUSED_TEXT,
    SHARP_DECIMALS,
    SHARP_TEXT,
    WRONG_TYPES_FOR_TEXT,
    hostile_text,
)
from tests.security.probe import api_problem, attempt, report, send_json

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

BAD_TEXT = {**REFUSED_TEXT, **WRONG_TYPES_FOR_TEXT}
BAD_BOOLEANS = {"word": "maybe", "two": 2, "list": [True], "nul": "\x00"}
BAD_CHOICES = {"unknown": "bogus", "nul": "new\x00", "list": ["new"], "upper case": "NEW", "number": 1}


def nested(path: str, value, base: dict) -> dict:
    """`base` with the value at a dotted path replaced (profile.employees...)."""
    data = {key: dict(item) if isinstance(item, dict) else item for key, item in base.items()}
    head, _, rest = path.partition(".")
    if rest:
        data[head] = {**data[head], rest: value}
    else:
        data[head] = value
    return data


def refusals(client, method: str, url: str, base: dict, catalogue: dict[str, dict], **extra) -> list:
    """Send `base` with each bad value in its field; the problems of every answer that is not a refusal."""
    problems = []
    for path, values in catalogue.items():
        for name, value in values.items():
            payload = nested(path, value, base)
            result = attempt(
                f"{method} {url} {path}={name}",
                lambda payload=payload: send_json(client, method, url, payload, **extra),
            )
            problems.append(api_problem(result, path))
    return problems


# Each kind of field meets the whole catalogue once; the other fields of that kind, its sharpest part.
LEAD_FIELDS = {
    "company_name": BAD_TEXT,
    "credit_code": SHARP_TEXT,
    "industry": {**SHARP_TEXT, "unknown": "99"},
    "business_scope": {**SHARP_TEXT, "one megabyte": REFUSED_TEXT["one megabyte"]},
    "contact_name": SHARP_TEXT,
    "contact_phone": SHARP_TEXT,
    "area_min_m2": {**BAD_DECIMALS, **NEGATIVE, "zero": 0},
    "area_max_m2": SHARP_DECIMALS,
    "budget_rent": {**SHARP_DECIMALS, **NEGATIVE},
    "expected_annual_tax": {**SHARP_DECIMALS, **NEGATIVE},
    "employees": {**BAD_INTEGERS, **NEGATIVE},
    "is_headquarters": BAD_BOOLEANS,
    "desired_move_in": BAD_DATES,
    "preferred_streets": {
        "text": "府山街道",
        "unknown": ["不存在街道"],
        "null item": [None],
        "object item": [{"name": "府山街道"}],
        "nul": ["府山\x00街道"],
        "lone surrogate": ["\udfff"],
    },
}
# An update goes through the same input, less its required fields: its sharpest cases suffice.
LEAD_UPDATE_FIELDS = {
    "company_name": SHARP_TEXT,
    "business_scope": SHARP_TEXT,
    "area_min_m2": SHARP_DECIMALS,
    "budget_rent": SHARP_DECIMALS,
    "expected_annual_tax": NEGATIVE,
    "employees": {"minus one": -1, "ten to the thirty": 10**30},
    "desired_move_in": {"february 30": "2024-02-30"},
    "preferred_streets": {"nul": ["\x00"], "unknown": ["不存在街道"]},
}


@pytest.fixture
def signable(world):
    """The promoter's lead in negotiation with a credit code, so that it may sign in B0001."""
    Lead.objects.filter(pk=world.lead.pk).update(
        stage=LeadStage.NEGOTIATING, credit_code=make_credit_code(21)
    )
    world.lead.refresh_from_db()
    return world


def test_lead_submission_refuses_every_bad_field(world):
    # given
    client = api_client(world, "promoter")
    base = {"company_name": "安全测试有限公司", "channel": "department"}
    catalogue = {**LEAD_FIELDS, "channel": BAD_CHOICES}

    # when
    problems = refusals(client, "post", "/api/v1/leads/", base, catalogue)

    # then
    assert not any(problems), report(problems)


def test_an_agency_submission_refuses_hostile_text(world):
    # given an agency's key: its leads go through the referral check first
    client = api_client(world, "agency")
    base = {"company_name": "中介推荐有限公司"}
    text_fields = ("company_name", "credit_code", "business_scope", "contact_name", "contact_phone")
    catalogue = {name: SHARP_TEXT for name in text_fields}

    # when
    problems = refusals(client, "post", "/api/v1/leads/", base, catalogue)

    # then
    assert not any(problems), report(problems)


def test_lead_update_refuses_every_bad_field(world):
    # given
    client = api_client(world, "promoter")
    url = f"/api/v1/leads/{world.lead.pk}/"
    catalogue = {**LEAD_UPDATE_FIELDS, "version": {**BAD_INTEGERS, "zero": 0}}

    # when
    problems = refusals(client, "patch", url, {"version": world.lead.version}, catalogue)

    # then
    assert not any(problems), report(problems)


def test_a_stage_change_refuses_every_bad_field(world):
    # given
    client = api_client(world, "promoter")
    url = f"/api/v1/leads/{world.lead.pk}/transition/"
    catalogue = {
        "stage": BAD_CHOICES,
        "reason": BAD_TEXT,
        "version": {**BAD_INTEGERS, "zero": 0},
    }

    # when
    problems = refusals(client, "post", url, {"stage": "lost", "reason": "预算不足"}, catalogue)

    # then
    assert not any(problems), report(problems)


def test_an_activity_refuses_every_bad_field(world):
    # given
    client = api_client(world, "promoter")
    url = f"/api/v1/leads/{world.lead.pk}/activities/"
    base = {"kind": "site_tour", "occurred_at": "2024-05-01T10:00:00+08:00", "building": world.building.pk}
    catalogue = {
        "kind": BAD_CHOICES,
        "occurred_at": BAD_DATETIMES,
        "building": BAD_IDS,
        "unit": {**BAD_IDS, "another building's": world.other_unit.pk},
        "notes": BAD_TEXT,
        "next_follow_up_at": {**BAD_DATETIMES, "before the activity": "2024-04-30T10:00:00+08:00"},
    }

    # when
    problems = refusals(client, "post", url, base, catalogue)

    # then
    assert not any(problems), report(problems)


def test_an_activity_cannot_be_dated_into_the_far_future(world):
    # given: an activity renews the owner's protection from its time on
    client = api_client(world, "promoter")
    url = f"/api/v1/leads/{world.lead.pk}/activities/"
    base = {"kind": "call", "occurred_at": "2024-05-01T10:00:00+08:00"}
    far = {"year 9999": "9999-12-31T00:00:00+08:00", "next year": f"{dt.date.today().year + 1}-06-01T10:00"}

    # when
    problems = refusals(client, "post", url, base, {"occurred_at": far})

    # then
    assert not any(problems), report(problems)


def test_a_signing_refuses_every_bad_field(signable):
    # given
    world = signable
    client = api_client(world, "promoter")
    url = f"/api/v1/leads/{world.lead.pk}/signing/"
    base = {"building": world.building.pk, "units": [world.unit.pk], "signed_on": "2024-05-01"}
    catalogue = {
        "building": BAD_IDS,
        "units": {
            **{name: [value] for name, value in BAD_IDS.items() if name != "list"},
            "not a list": world.unit.pk,
            "empty": [],
        },
        "signed_on": BAD_DATES,
        "rent": {**BAD_DECIMALS, **NEGATIVE},
        "area_m2": {**BAD_DECIMALS, **NEGATIVE, "zero": 0},
        "start": BAD_DATES,
        "end": {**BAD_DATES, "before the start": "2024-04-01"},
    }

    # when
    problems = refusals(client, "post", url, base, catalogue)

    # then
    assert not any(problems), report(problems)


def test_the_policy_calculator_refuses_every_bad_field(world):
    # given: it writes nothing, and must answer a 400, never a 500
    client = api_client(world, "promoter")
    base = {"profile": {}, "building": world.building.pk, "offer": {"area_m2": "100"}}
    catalogue = {
        "profile.industry_code": BAD_TEXT,
        "profile.expected_annual_tax": BAD_DECIMALS,
        "profile.employees": {**BAD_INTEGERS, **NEGATIVE},
        "profile.is_headquarters": BAD_BOOLEANS,
        "building": BAD_IDS,
        "offer.area_m2": {**BAD_DECIMALS, **NEGATIVE, "zero": 0},
        "offer.rent_per_m2_day": {**BAD_DECIMALS, **NEGATIVE},
        "offer.on": BAD_DATES,
        "lead": BAD_IDS,
    }

    # when
    problems = refusals(client, "post", "/api/v1/policies/evaluate/", base, catalogue)

    # then
    assert not any(problems), report(problems)


def test_industry_suggestions_refuse_every_bad_field(world):
    # given
    client = api_client(world, "promoter")
    catalogue = {"text": BAD_TEXT, "top": {**BAD_INTEGERS, "zero": 0, "eleven": 11}}

    # when
    problems = refusals(client, "post", "/api/v1/industries/suggest/", {"text": "软件开发"}, catalogue)

    # then
    assert not any(problems), report(problems)


def test_webhook_registration_refuses_every_bad_url(world):
    # given
    client = api_client(world, "agency")
    urls = {
        **BAD_TEXT,
        "javascript": "javascript:alert(1)",
        "ftp": "ftp://example.com/hook",
        "no host": "http://",
        "not a url": "回调地址",
        "nul in host": "https://exa\x00mple.com/hook",
        "script in path": "https://example.com/<script>alert(1)</script>",
        "one megabyte": "https://example.com/" + "a" * 1_048_576,
    }

    # when
    problems = refusals(
        client, "post", "/api/v1/webhooks/", {"url": "https://example.com/hook"}, {"url": urls}
    )

    # then
    assert not any(problems), report(problems)


def test_hostile_field_names_are_refused_without_echoing_them(world):
    # given keys the response could not even encode, or that would spoof the field list
    client = api_client(world, "promoter")
    names = {"lone surrogate": "\ud800", "nul": "company\x00name", "override": "name\u202e"}
    problems = []

    # when
    for label, name in names.items():
        payload = {"company_name": "甲有限公司", "channel": "department", name: "x"}
        result = attempt(label, lambda payload=payload: send_json(client, "post", "/api/v1/leads/", payload))
        problems.append(api_problem(result, "non_field_errors"))

    # then
    assert not any(problems), report(problems)


def test_raw_json_constants_and_bad_encodings_are_a_400(world):
    # given bodies no serializer sees: JSON's NaN, a number too large for a float, bytes that are not UTF-8
    client = api_client(world, "promoter")
    bodies = {
        "nan literal": b'{"company_name": "x", "channel": "department", "area_min_m2": NaN}',
        "infinity literal": b'{"company_name": "x", "channel": "department", "budget_rent": Infinity}',
        "overflowing exponent": b'{"company_name": "x", "channel": "department", "budget_rent": 1e999}',
        "latin-1 bytes": '{"company_name": "caf\xe9", "channel": "department"}'.encode("latin-1"),
        "a list": b'[{"company_name": "x"}]',
        "a string": b'"company_name"',
        "deep nesting": b'{"company_name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    }
    problems = []

    # when
    for label, body in bodies.items():
        result = attempt(
            label,
            lambda body=body: client.generic("POST", "/api/v1/leads/", body, content_type="application/json"),
        )
        status = None if result.response is None else result.response.status_code
        if result.raised or status != 400 or result.changed:
            problems.append(f"{label}: {status} {result.raised!r} {result.changed}")

    # then
    assert problems == []


def test_hostile_text_that_is_only_text_is_stored_exactly_as_sent(world):
    # given
    client = api_client(world, "promoter")
    problems = []

    # when each is the name, the scope and the contact of a new lead
    for label, text in ACCEPTED_TEXT.items():
        payload = {
            "company_name": f"{text}"[:200],
            "channel": "department",
            "business_scope": text,
            "contact_name": text[:100],
            "lawful_basis": "consent",  # a contact needs its basis (docs/privacy.md)
        }
        with transaction.atomic():
            response = client.post("/api/v1/leads/", payload, format="json")
            if response.status_code != 201:
                problems.append(f"{label}: {response.status_code} {response.json()}")
            else:
                lead = Lead.objects.get(pk=response.json()["id"])
                stored = (lead.company_name, lead.business_scope, lead.contact_name)
                if stored != (payload["company_name"], text, payload["contact_name"]):
                    problems.append(f"{label}: stored {stored!r}")
            transaction.set_rollback(True)

    # then
    assert problems == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=hostile_text(), scope=hostile_text(), notes=st.one_of(hostile_text(), st.just("")))
def test_any_text_is_either_stored_exactly_or_refused_on_its_field(world, name, scope, notes):
    # given
    client = api_client(world, "promoter")
    payload = {
        "company_name": name,
        "channel": "department",
        "business_scope": scope,
        "contact_name": notes,
        "lawful_basis": "consent",  # a contact needs its basis (docs/privacy.md)
    }

    # when
    result = attempt("lead", lambda: send_json(client, "post", "/api/v1/leads/", payload))

    # then: never a 5xx; a 201 keeps the text (less the whitespace around it); a 400 names a field
    assert result.raised is None
    response = result.response
    assert response.status_code in (201, 400), response.content[:300]
    if response.status_code == 201:
        body = response.json()
        assert (body["company_name"], body["business_scope"]) == (name.strip(), scope.strip())
    else:
        assert set(response.json()) <= {"company_name", "business_scope", "contact_name"}, response.json()
        assert result.changed == []


def test_a_body_over_the_limit_is_a_413_and_writes_nothing(world, settings):
    # given a limit of 10 kB and a 20 kB business scope
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = api_client(world, "promoter")
    payload = {"company_name": "超大请求有限公司", "channel": "department", "business_scope": "x" * 20_000}

    # when
    result = attempt("big body", lambda: client.post("/api/v1/leads/", payload, format="json"))

    # then
    assert (result.response.status_code, result.changed) == (413, [])


def test_a_decimal_at_the_edge_of_its_column_is_stored(world):
    # given the largest area the column holds: 12 digits, 2 of them decimals
    client = api_client(world, "promoter")
    payload = {"company_name": "边界有限公司", "channel": "department", "area_max_m2": "9999999999.99"}

    # when
    response = client.post("/api/v1/leads/", payload, format="json")

    # then
    assert response.status_code == 201
    assert Lead.objects.get(pk=response.json()["id"]).area_max_m2 == Decimal("9999999999.99")

"""Every form of the pages refuses malformed and hostile input: shown again with an error on the field,
and nothing written. Text that is only text is stored as typed and shown escaped.

A browser cannot send a lone surrogate (form data is UTF-8, and Django decodes a broken sequence to
U+FFFD), so the pages' catalogue leaves it to the API's.
"""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils.html import escape

from crm.constants import LeadStage
from crm.models import Lead, StageChange
from tests.security.hostile import ACCEPTED_TEXT, BAD_DATES, REFUSED_TEXT
from tests.security.probe import attempt, page_problem, report

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PAGE_TEXT = {name: text for name, text in REFUSED_TEXT.items() if name != "lone surrogate"}
PAGE_DECIMALS = {
    "nan": "NaN",
    "infinity": "Infinity",
    "huge": "1e308",
    "ten to the thirty": "1" + "0" * 30,
    "minus one": "-1",
    "not a number": "abc",
    "thousands separator": "1,000",
}
PAGE_INTEGERS = {"huge": "1" + "0" * 30, "minus one": "-1", "fraction": "1.5", "nul": "1\x00"}
# The pages read dates as the language writes them too: 2024/01/01 is a date in Chinese.
PAGE_DATES = {name: value for name, value in BAD_DATES.items() if isinstance(value, str) and "/" not in value}
PAGE_DATETIMES = {**PAGE_DATES, "hour 25": "2024-01-01T25:00"}
PAGE_IDS = {"unknown": "987654", "huge": "1" + "0" * 30, "minus one": "-1", "text": "abc", "nul": "1\x00"}


def page_refusals(client, url: str, base: dict, catalogue: dict, *, form_key: str = "form") -> list:
    problems = []
    for field_name, values in catalogue.items():
        for label, value in values.items():
            data = {**base, field_name: value}
            result = attempt(f"{url} {field_name}={label}", lambda data=data: client.post(url, data))
            problems.append(page_problem(result, field_name, form_key=form_key))
    return problems


@pytest.fixture
def negotiating(district):
    Lead.objects.filter(pk=district.lead.pk).update(stage=LeadStage.NEGOTIATING)
    district.lead.refresh_from_db()
    return district


def test_the_quick_add_form_refuses_every_bad_field(district):
    # given
    client = district.client("promoter")
    base = {"company_name": "网页测试有限公司", "channel": "department"}
    sharp = {"nul": "甲\x00乙", "override": "甲\u202e乙"}
    sharp_decimals = {name: PAGE_DECIMALS[name] for name in ("nan", "ten to the thirty", "minus one")}
    catalogue = {
        "company_name": PAGE_TEXT,
        "credit_code": {"nul": "\x00", "too long": "9" * 40},
        "business_scope": PAGE_TEXT,
        "contact_name": sharp,
        "contact_phone": sharp,
        "industry": {name: PAGE_IDS[name] for name in ("unknown", "text", "nul")},
        "channel": {"unknown": "bogus", "nul": "department\x00"},
        "area_min_m2": {**PAGE_DECIMALS, "zero": "0"},
        "area_max_m2": sharp_decimals,
        "budget_rent": sharp_decimals,
        "expected_annual_tax": sharp_decimals,
        "employees": PAGE_INTEGERS,
        "desired_move_in": PAGE_DATES,
        "preferred_streets": {name: PAGE_IDS[name] for name in ("unknown", "text", "nul")},
    }

    # when
    problems = page_refusals(client, reverse("web:lead_add"), base, catalogue)

    # then
    assert not any(problems), report(problems)


def test_the_activity_form_refuses_every_bad_field(district):
    # given
    client = district.client("promoter")
    url = reverse("web:activity_add", args=[district.lead.pk])
    base = {"kind": "site_tour", "occurred_at": "2024-05-01T10:00", "building": district.building.pk}
    catalogue = {
        "kind": {"unknown": "bogus", "nul": "call\x00"},
        "occurred_at": {**PAGE_DATETIMES, "year 9999": "9999-12-31T10:00"},
        "building": PAGE_IDS,
        "unit": {**PAGE_IDS, "another building's": district.other_unit.pk},
        "notes": PAGE_TEXT,
        "next_follow_up_at": {**PAGE_DATETIMES, "before the activity": "2024-04-30T10:00"},
    }

    # when
    problems = page_refusals(client, url, base, catalogue, form_key="activity_form")

    # then
    assert not any(problems), report(problems)


def test_the_signing_form_refuses_every_bad_field(negotiating):
    # given
    district = negotiating
    client = district.client("promoter")
    url = reverse("web:lead_sign", args=[district.lead.pk])
    base = {"building": district.building.pk, "units": [district.unit.pk], "signed_on": "2024-05-01"}
    catalogue = {
        "building": PAGE_IDS,
        "units": {**PAGE_IDS, "leased": district.leased_unit.pk},
        "rent": PAGE_DECIMALS,
        "signed_on": PAGE_DATES,
        "end": {"february 30": "2024-02-30", "before the start": "2024-04-01"},
    }

    # when
    problems = page_refusals(client, url, base, catalogue)

    # then
    assert not any(problems), report(problems)


def test_the_tour_booking_refuses_every_bad_field(district):
    # given
    client = district.client("promoter")
    url = reverse("web:site_tour_schedule", args=[district.lead.pk])
    base = {"building": district.building.pk, "units": "", "at": "2099-05-01T10:00"}
    catalogue = {
        "building": PAGE_IDS,
        "at": {**PAGE_DATETIMES, "in the past": "2020-01-01T10:00"},
        "units": PAGE_TEXT,
    }

    # when
    problems = page_refusals(client, url, base, catalogue)

    # then
    assert not any(problems), report(problems)


@pytest.mark.parametrize("url_name", ["web:stage_change", "web:board_move"])
def test_a_stage_change_with_a_hostile_reason_is_refused_and_writes_nothing(district, url_name):
    # given the stage form and the board, which posts the reason without a form
    client = district.client("promoter")
    url = reverse(url_name, args=[district.lead.pk])
    problems = []

    # when
    for label, reason in {**PAGE_TEXT, "too long": "因" * 301}.items():
        result = attempt(
            label, lambda reason=reason: client.post(url, {"to_stage": "lost", "reason": reason})
        )
        if result.raised or result.response.status_code != 302 or result.changed:
            problems.append(f"{label}: {result.raised!r} {getattr(result.response, 'status_code', None)}")
        elif not [m for m in get_messages(result.response.wsgi_request) if m.level_tag == "error"]:
            problems.append(f"{label}: no error message")

    # then
    assert problems == []
    assert not StageChange.objects.filter(lead=district.lead).exists()


@pytest.mark.parametrize("url_name", ["web:lead_duplicate_check", "web:industry_suggestions"])
def test_the_typing_helpers_answer_hostile_text_without_an_error(district, url_name):
    # given the fragments that run as a name or a scope is typed
    client = district.client("promoter")
    problems = []

    # when
    for label, text in {**PAGE_TEXT, **ACCEPTED_TEXT}.items():
        data = {"company_name": text, "credit_code": text[:18], "business_scope": text}
        result = attempt(label, lambda data=data: client.post(reverse(url_name), data))
        if result.raised or result.response.status_code != 200 or result.changed:
            problems.append(f"{label}: {result.raised!r} {getattr(result.response, 'status_code', None)}")

    # then
    assert problems == []


def test_text_that_is_only_text_is_stored_as_typed_and_shown_escaped(district):
    # given
    client = district.client("promoter")
    problems = []

    # when each is a new lead's name and business scope
    for label, text in ACCEPTED_TEXT.items():
        data = {"company_name": text[:200], "channel": "department", "business_scope": text}
        response = client.post(reverse("web:lead_add"), data, follow=True)
        lead = Lead.objects.filter(company_name=text[:200]).first()
        if lead is None:
            problems.append(f"{label}: not stored ({response.status_code})")
            continue
        page = response.content.decode()
        if lead.business_scope != text or escape(text) not in page:
            problems.append(
                f"{label}: stored {lead.business_scope!r}, escaped on the page: {escape(text) in page}"
            )
        if "<script>alert" in page:
            problems.append(f"{label}: a script tag reached the page unescaped")

    # then
    assert problems == []

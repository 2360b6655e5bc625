"""Every form of the pages refuses malformed and hostile input: shown again with an error on the field,
and nothing written. Text that is only text is stored as typed and shown escaped.

A browser cannot send a lone surrogate (form data is UTF-8, and Django decodes a broken sequence to
U+FFFD), so the pages' catalogue leaves it to the API's.
"""

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client
from django.urls import resolve, reverse
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
PAGE_DATETIMES = {**PAGE_DATES, "hour 25": "2024-01-01T25:00", "year one": "0001-01-01T00:00"}
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
    catalogue = {
        "company_name": PAGE_TEXT,
        "credit_code": {"nul": "\x00", "too long": "9" * 40},
        "business_scope": PAGE_TEXT,
        "contact_name": sharp,
        "contact_phone": sharp,
        "lawful_basis": {"unknown": "bogus", "nul": "consent\x00"},
        "industry": {name: PAGE_IDS[name] for name in ("unknown", "text", "nul")},
        "channel": {"unknown": "bogus", "nul": "department\x00"},
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
        "next_kind": {"unknown": "bogus", "not planned": "email", "nul": "call\x00"},
        "next_assignee": {**PAGE_IDS, "another street's promoter": district.other_promoter.pk},
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


def test_the_lead_edit_form_refuses_every_bad_field(district):
    # given the form as the page fills it for the fixture's lead
    client = district.client("promoter")
    url = reverse("web:lead_edit", args=[district.lead.pk])
    base = {
        "version": "1",
        "company_name": district.lead.company_name,
        "channel": "department",
        "contact_name": "王五",
        "contact_phone": "13812345678",
        "lawful_basis": "consent",
    }
    sharp_decimals = {name: PAGE_DECIMALS[name] for name in ("nan", "ten to the thirty", "minus one")}
    catalogue = {
        "version": PAGE_INTEGERS,
        "company_name": PAGE_TEXT,
        "business_scope": PAGE_TEXT,
        "industry": {name: PAGE_IDS[name] for name in ("unknown", "text", "nul")},
        "channel": {"unknown": "bogus", "nul": "department\x00"},
        "lawful_basis": {"unknown": "bogus"},
        "area_min_m2": {**PAGE_DECIMALS, "zero": "0"},
        "budget_rent": sharp_decimals,
        "expected_annual_tax": sharp_decimals,
        "employees": PAGE_INTEGERS,
        "desired_move_in": PAGE_DATES,
        "preferred_streets": {name: PAGE_IDS[name] for name in ("unknown", "text", "nul")},
    }

    # when
    problems = page_refusals(client, url, base, catalogue)

    # then
    assert not any(problems), report(problems)


def test_the_hold_form_refuses_every_bad_field(negotiating):
    # given
    district = negotiating
    client = district.client("promoter")
    url = reverse("web:hold_add")
    base = {
        "lead": district.lead.pk,
        "building": district.building.pk,
        "units": [district.unit.pk],
        "expires_on": "2099-01-01",
    }
    catalogue = {
        "lead": PAGE_IDS,
        "units": {
            **PAGE_IDS,
            "leased": district.leased_unit.pk,
            "another building's": district.other_unit.pk,
        },
        "expires_on": {**PAGE_DATES, "in the past": "2020-01-01"},
    }

    # when
    problems = page_refusals(client, url, base, catalogue)

    # then
    assert not any(problems), report(problems)


def test_the_unit_status_form_refuses_every_bad_field(district):
    # given
    client = district.client("building_manager")
    url = reverse("web:unit", args=[district.unit.pk])
    catalogue = {
        "status": {"unknown": "bogus", "leased": "leased", "nul": "vacant\x00"},
        "available_from": PAGE_DATES,
    }

    # when
    problems = page_refusals(client, url, {"status": "vacant"}, catalogue)

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


# ---------------------------------------------------------------- every parameter of every page route

# Values that break a careless int(), date() or query: each one goes to every parameter below.
HOSTILE = {
    "text": "abc",
    "superscript two": "²",  # str.isdigit() says yes, int() says no
    "year zero": "0000",
    "thirty digits": "1" + "0" * 30,
    "minus one": "-1",
    "nul": "1\x00",
    "year one": "0001-01-01T00:00",
}


def _routes(district) -> dict[str, tuple[str, list, list[str]]]:
    """Each page route: (method, path arguments, the parameters it reads from the query or the form)."""
    lead, building = district.lead.pk, district.building.pk
    return {
        "home": ("get", [], []),
        "login": ("post", [], ["username", "password"]),
        "logout": ("post", [], ["next"]),
        "password_change": ("post", [], ["old_password", "new_password1", "new_password2"]),
        "notification_settings": ("post", [], ["kind", "url", "secret", "clear_secret", "language"]),
        "password_change_done": ("get", [], []),
        "desk": ("get", [], ["page"]),
        "notification_read": ("post", [1], []),
        "plan_done": ("post", [1], ["kind"]),
        "plan_reschedule": ("post", [1], ["due_at"]),
        "leads": ("get", [], ["q", "stage", "channel", "owner", "case_by_case", "sort", "page", "export"]),
        "board": ("get", [], ["q", "stage", "channel", "owner", "case_by_case", "sort"]),
        "lead_add": ("post", [], ["company_name", "channel", "owner", "lawful_basis"]),
        "lead_duplicate_check": ("post", [], ["company_name", "credit_code"]),
        "industry_suggestions": ("post", [], ["business_scope"]),
        "lead": ("get", [lead], ["kind", "building", "unit"]),
        "activity_add": (
            "post",
            [lead],
            ["kind", "occurred_at", "building", "unit", "next_follow_up_at", "next_kind", "next_assignee"],
        ),
        "unit_options": ("get", [lead], ["building"]),
        "stage_change": ("post", [lead], ["to_stage", "reason"]),
        "lead_entry_approve": ("post", [lead], []),
        "lead_reassign": ("post", [lead], ["owner", "reason"]),
        "signing_settle": ("post", [lead, 1], ["override_reason"]),
        "signing_cancel": ("post", [lead, 1], ["reason"]),
        "board_move": ("post", [lead], ["to_stage", "reason"]),
        "lead_matches": ("get", [lead], ["limit"]),
        "lead_excluded": ("get", [lead], []),
        "site_tour_schedule": ("post", [lead], ["building", "units", "at"]),
        "lead_sign": ("post", [lead], ["building", "units", "rent", "signed_on", "end"]),
        "lead_edit": (
            "post",
            [lead],
            ["version", "company_name", "industry", "channel", "area_min_m2", "employees", "desired_move_in"],
        ),
        "unit": ("post", [district.unit.pk], ["status", "available_from", "next"]),
        "hold_add": ("post", [], ["lead", "building", "units", "expires_on", "next"]),
        "hold_release": ("post", [1], ["next"]),
        "buildings": (
            "get",
            [],
            ["q", "street", "featured_type", "min_star", "tier", "sort", "page", "export"],
        ),
        "building": ("get", [building], ["year"]),
        "building_leads": ("get", [building], ["unit"]),
        "building_retention": ("get", [building], []),
        "retention": ("get", [], ["page"]),
        "retention_visit": ("post", [1], ["notes"]),
        "vacancies": (
            "get",
            [],
            ["street", "building", "min_area", "max_area", "max_rent", "page", "export"],
        ),
        "dashboard": ("get", [], ["year", "street", "colour", "export"]),
        "forecast": ("get", [], ["year", "street"]),
        "dashboard_streets": ("get", [], ["year", "street", "page"]),
        "dashboard_map": ("get", [], ["year", "street", "colour"]),
        "dashboard_what_if_form": ("get", [], ["year", "street"]),
        "dashboard_what_if_buildings": ("get", [], ["year", "street", "building_code_0"]),
        "what_if": ("post", [], ["year", "street", "lead_0", "building_0", "building_code_0"]),
        "leaderboard": ("get", [], ["period", "export"]),
        "appraisal_recompute": ("post", [], ["period"]),
        "appraisal": ("get", [1], []),
        "assessment": ("get", [], ["year", "export"]),
        "assessment_detail": ("get", [1], []),
        "assessment_recompute": ("post", [], ["year"]),
        "white_papers": ("post", [], ["year"]),
        "white_paper": ("get", [2023], []),
        "white_paper_pdf": ("get", [2023], []),
        "policies": ("get", [], ["scope", "active", "q", "page"]),
        "policy_calculator": (
            "get",
            [],
            ["lead", "building", "industry_code", "area_m2", "expected_annual_tax", "employees", "on"],
        ),
        "approvals": ("get", [], ["status"]),
        "policy": ("get", [1], []),
        "policy_review": ("post", [1], ["decision", "note", "next"]),
        "commitment_schedule": ("get", [], ["year", "page", "export"]),
        "commitment_payment_add": ("post", [1], ["amount_yuan", "paid_on", "note", "year"]),
        "commitment_withhold": ("post", [1], ["reason", "year"]),
        "import": ("get", [], []),
        "import_job": ("get", ["abc"], []),
        "import_progress": ("get", ["abc"], []),
        "export_district": ("get", [], []),
    }


def _as_sent(url: str) -> dict:
    """The headers a browser sends with a request to `url`: htmx's for a fragment (crm.web.fragments),
    which redirects any other GET to its page and would then never meet the hostile value."""
    return {"HTTP_HX_REQUEST": "true"} if hasattr(resolve(url.split("?")[0]).func, "fragment_page") else {}


def test_every_page_route_is_in_the_hostile_catalogue(district):
    # given every named route of the pages
    from crm.web.urls import urlpatterns

    # then each is in the catalogue below, so that a new route is probed from the day it is added
    assert {p.name for p in urlpatterns} == set(_routes(district))


def test_no_hostile_value_of_any_page_parameter_is_a_server_error(district):
    # given the office's login, which opens every page but the promoter's desk; signing in and out
    # use logins of their own, so that the others stay signed in throughout
    clients = {"office": district.client("district_admin"), "promoter": district.client("promoter")}
    own_client = {"login": Client(), "logout": district.client("auditor")}
    problems = []

    # when each hostile value goes to each parameter of each route, alone
    for name, (method, args, params) in _routes(district).items():
        client = (
            own_client.get(name)
            or clients["promoter" if name in ("desk", "site_tour_schedule") else "office"]
        )
        url = reverse(f"web:{name}", args=args)
        for param in params or [None]:
            for label, value in HOSTILE.items() if param else [("none", None)]:
                data = {} if param is None else {param: value}
                label = f"{method.upper()} {url} {param}={label}"
                # Each request in a savepoint rolled back afterwards, so that each starts alike; what a
                # refusal writes is the forms' catalogues' business above, not this one's.
                try:
                    with transaction.atomic():
                        response = getattr(client, method)(url, data, **_as_sent(url))
                        status, raised = response.status_code, None
                        transaction.set_rollback(True)
                except Exception as exc:
                    status, raised = None, exc
                if raised is not None or status is None or status >= 500:
                    problems.append(f"{label}: {raised!r} {status}")

    # then none is a server error: a 400 naming the value, a form with an error, or the page as is
    assert not problems, report(problems)
    # and the probes ran signed in to the end (a login page answers no parameter)
    assert clients["office"].get(reverse("web:dashboard")).status_code == 200


# The probes of issue 21: each a 400 that says what is wrong, and nothing written.
ISSUE_PROBES = [
    ("get", "policy_calculator", False, {"lead": "abc"}, "lead"),
    ("get", "assessment", False, {"year": "²"}, "year"),
    ("get", "unit_options", True, {"building": "abc"}, "building"),
    ("get", "leaderboard", False, {"period": "0000"}, "period"),
    ("post", "white_papers", False, {"year": "²"}, "year"),
    ("post", "white_papers", False, {"year": "99999999999"}, "year"),
    ("post", "white_papers", False, {"year": "0"}, "year"),
    ("post", "what_if", False, {"year": "2024", "lead_0": "²", "building_0": "1"}, "lead_0"),
]


@pytest.mark.parametrize(("method", "name", "on_lead", "data", "field"), ISSUE_PROBES)
def test_the_issues_malformed_values_are_a_400_naming_the_value(district, method, name, on_lead, data, field):
    # given
    client = district.client("district_admin")
    url = reverse(f"web:{name}", args=[district.lead.pk] if on_lead else [])
    # when
    result = attempt(name, lambda: getattr(client, method)(url, data, **_as_sent(url)))
    # then
    assert result.raised is None and result.response.status_code == 400, result.response.content[:300]
    page = result.response.content.decode()
    assert field in page and ("应为" in page or "周期" in page)
    assert result.changed == []


def test_a_tour_with_malformed_unit_ids_is_refused_on_the_units_field(district):
    # given
    client = district.client("promoter")
    url = reverse("web:site_tour_schedule", args=[district.lead.pk])
    data = {"building": district.building.pk, "units": "²", "at": "2099-05-01T10:00"}
    # when
    result = attempt("tour units=²", lambda: client.post(url, data))
    # then
    assert page_problem(result, "units") is None
    assert result.response.status_code == 400

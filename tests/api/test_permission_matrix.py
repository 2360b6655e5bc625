"""Every route and method of /api/v1/, for each of the six roles and anonymous, on an object of the
caller's own and on someone else's: the expected status, and no foreign rows in any list.

A route added to the URLconf without a row in EXPECTED fails test_every_route_has_an_entry.
"""

import datetime as dt

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from crm.services.webhooks import webhook_register
from matching import adapter
from tests.api.conftest import ROLES, api_client

pytestmark = pytest.mark.django_db

ALL = ROLES
EVERYONE_OK = {role: (200, 200) for role in ALL}


def row(**statuses) -> dict[str, tuple[int, int]]:
    """role -> (status on its own object, status on another's); a bare int is the same for both."""
    return {role: (s, s) if isinstance(s, int) else s for role, s in statuses.items()}


A, AU, SO, P, BM, AG = ALL
# (route name, method) -> role -> (own, other). "Own" is the caller's lead / building / record;
# "other" one outside its scope (another street, promoter or agency). Lists have no object: both same.
EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("api-schema", "GET"): EVERYONE_OK,
    ("api-docs", "GET"): EVERYONE_OK,
    ("api:building-list", "GET"): EVERYONE_OK,
    ("api:building-detail", "GET"): row(**{A: 200, AU: 200, SO: (200, 404), P: 200, BM: (200, 404), AG: 200}),
    ("api:building-units", "GET"): row(**{A: 200, AU: 200, SO: (200, 404), P: 200, BM: (200, 404), AG: 200}),
    ("api:building-lead-matches", "GET"): row(
        **{A: 200, AU: 200, SO: (200, 404), P: 403, BM: (200, 404), AG: 403}
    ),
    ("api:lead-list", "GET"): row(**{A: 200, AU: 200, SO: 200, P: 200, BM: 403, AG: 200}),
    ("api:lead-list", "POST"): row(**{A: 201, AU: 403, SO: 403, P: 201, BM: 403, AG: 201}),
    ("api:lead-detail", "GET"): row(
        **{A: 200, AU: 200, SO: (200, 404), P: (200, 404), BM: 403, AG: (200, 404)}
    ),
    ("api:lead-detail", "PATCH"): row(**{A: 200, AU: 403, SO: 403, P: (200, 404), BM: 403, AG: (200, 404)}),
    ("api:lead-transition", "POST"): row(**{A: 200, AU: 403, SO: 403, P: (200, 404), BM: 403, AG: 403}),
    ("api:lead-activities", "GET"): row(
        **{A: 200, AU: 200, SO: (200, 404), P: (200, 404), BM: 403, AG: (200, 404)}
    ),
    ("api:lead-activities", "POST"): row(**{A: 201, AU: 403, SO: 403, P: (201, 404), BM: 403, AG: 403}),
    ("api:lead-signing", "GET"): row(
        **{A: 200, AU: 200, SO: (200, 404), P: (200, 404), BM: 403, AG: (200, 404)}
    ),
    ("api:lead-signing", "POST"): row(**{A: 201, AU: 403, SO: 403, P: (201, 404), BM: 403, AG: 403}),
    # The world's leads have no signing: whoever may work the lead gets to the 404 of signing 0.
    ("api:lead-signing-settle", "POST"): row(**{A: 404, AU: 403, SO: 403, P: 404, BM: 403, AG: 403}),
    ("api:lead-signing-cancel", "POST"): row(**{A: 404, AU: 403, SO: 403, P: 403, BM: 403, AG: 403}),
    # An empty body: the office is told what the reassignment lacks.
    # The district's commitments: the office and auditor, a street its buildings, a promoter its leads.
    ("api:commitment-schedule", "GET"): row(**{A: 200, AU: 200, SO: 200, P: 200, BM: 403, AG: 403}),
    # The world has no commitment: the office gets to the 404 of period 0.
    ("api:commitment-payments", "POST"): row(**{A: 404, AU: 403, SO: 403, P: 403, BM: 403, AG: 403}),
    ("api:commitment-withhold", "POST"): row(**{A: 404, AU: 403, SO: 403, P: 403, BM: 403, AG: 403}),
    ("api:lead-reassign", "POST"): row(**{A: 400, AU: 403, SO: 403, P: 403, BM: 403, AG: 403}),
    # The world's leads meet the entry threshold: the office is told there is nothing to approve.
    ("api:lead-entry-approval", "POST"): row(**{A: 400, AU: 403, SO: 403, P: 403, BM: 403, AG: 403}),
    ("api:lead-matches", "GET"): row(
        **{A: 200, AU: 200, SO: (200, 404), P: (200, 404), BM: 403, AG: (200, 404)}
    ),
    ("api:industry-list", "GET"): EVERYONE_OK,
    ("api:industry-detail", "GET"): EVERYONE_OK,
    ("api:industry-suggest", "POST"): EVERYONE_OK,
    ("api:policy-list", "GET"): EVERYONE_OK,
    ("api:policy-detail", "GET"): row(
        **{A: 200, AU: 200, SO: (200, 404), P: (200, 404), BM: (200, 404), AG: (200, 404)}
    ),
    # The building is a field of the body: one outside the caller's scope is a 400 naming it.
    ("api:policy-evaluate", "POST"): row(
        **{A: 200, AU: 200, SO: (200, 400), P: 200, BM: (200, 400), AG: 200}
    ),
    ("api:enterprise-list", "GET"): row(**{A: 200, AU: 200, SO: 200, P: 403, BM: 200, AG: 403}),
    ("api:enterprise-detail", "GET"): row(
        **{A: 200, AU: 200, SO: (200, 404), P: 403, BM: (200, 404), AG: 403}
    ),
    ("api:tax-record-list", "GET"): row(**{A: 200, AU: 200, SO: 200, P: 403, BM: 403, AG: 403}),
    ("api:tax-record-detail", "GET"): row(**{A: 200, AU: 200, SO: (200, 404), P: 403, BM: 403, AG: 403}),
    # Indicators of the caller's street, then of the other street.
    ("api:indicators", "GET"): row(**{A: 200, AU: 200, SO: (200, 403), P: 403, BM: 403, AG: 403}),
    ("api:appraisal-list", "GET"): row(**{A: 200, AU: 200, SO: 200, P: 200, BM: 403, AG: 403}),
    ("api:appraisal-detail", "GET"): row(
        **{A: 200, AU: 200, SO: (200, 404), P: (200, 404), BM: 403, AG: 403}
    ),
    # An agency's webhooks: its own, never another agency's; only an agency registers one.
    ("api:webhook-list", "GET"): row(**{A: 200, AU: 200, SO: 403, P: 403, BM: 403, AG: 200}),
    ("api:webhook-list", "POST"): row(**{A: 403, AU: 403, SO: 403, P: 403, BM: 403, AG: 201}),
    ("api:webhook-detail", "GET"): row(**{A: 200, AU: 200, SO: 403, P: 403, BM: 403, AG: (200, 404)}),
    ("api:webhook-detail", "DELETE"): row(**{A: 204, AU: 403, SO: 403, P: 403, BM: 403, AG: (204, 404)}),
    ("api:webhook-deliveries", "GET"): row(**{A: 200, AU: 200, SO: 403, P: 403, BM: 403, AG: (200, 404)}),
}
PUBLIC = {("api-schema", "GET"), ("api-docs", "GET")}
METHODS = ("get", "post", "put", "patch", "delete")


def _api_routes() -> set[tuple[str, str]]:
    """(name, METHOD) of every pattern under /api/v1/ in the root URLconf."""
    found = set()

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("api/v1/"):
                callback = pattern.callback
                actions = getattr(callback, "actions", None)
                view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
                if actions is not None:
                    # DRF adds "head" to a viewset's actions once it has served a GET: not a route of its own.
                    methods = set(actions) & set(METHODS)
                else:
                    allowed = getattr(view_class, "http_method_names", METHODS)
                    methods = {m for m in METHODS if m in allowed and hasattr(view_class, m)}
                found.update((f"{namespace}{pattern.name}", m.upper()) for m in methods)

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_route_has_an_entry():
    # given the URLconf / when its API routes are listed / then each has a row here, and no row is stale
    assert _api_routes() == set(EXPECTED)


# ---------------------------------------------------------------------------- what each call sends


def _lead(w, role: str, which: str):
    return w.own(role) if which == "own" else w.foreign(role)


def _building(w, which: str):
    return w.building if which == "own" else w.other_building


def _webhooks(w) -> tuple:
    """The agency's webhook and the other agency's (registered once per world)."""
    if not hasattr(w, "webhooks"):
        w.webhooks = tuple(
            webhook_register(agency=agency, url=f"http://127.0.0.1:9/{n}")
            for n, agency in enumerate((w.agency, w.other_agency))
        )
    return w.webhooks


def _target(w, name: str, role: str, which: str) -> tuple[str, str]:
    """(url, query string) of route `name` on the caller's own object or on another's."""
    lead, building = _lead(w, role, which), _building(w, which)
    objects = {
        "api:building-detail": building.pk,
        "api:building-units": building.pk,
        "api:building-lead-matches": building.pk,
        "api:lead-detail": lead.pk,
        "api:lead-transition": lead.pk,
        "api:lead-activities": lead.pk,
        "api:lead-signing": lead.pk,
        "api:lead-entry-approval": lead.pk,
        "api:lead-signing-settle": (lead.pk, 0),
        "api:lead-signing-cancel": (lead.pk, 0),
        "api:lead-reassign": lead.pk,
        "api:commitment-payments": 0,
        "api:commitment-withhold": 0,
        "api:lead-matches": lead.pk,
        "api:industry-detail": "65" if which == "own" else "I",
        "api:policy-detail": (w.extras.policy if which == "own" else w.extras.case_policy).pk,
        "api:enterprise-detail": (w.enterprise if which == "own" else w.other_enterprise).pk,
        "api:tax-record-detail": (w.tax if which == "own" else w.other_tax).pk,
        "api:appraisal-detail": (w.extras.appraisal if which == "own" else w.extras.other_appraisal).pk,
        "api:webhook-detail": _webhooks(w)[0 if which == "own" else 1].pk,
        "api:webhook-deliveries": _webhooks(w)[0 if which == "own" else 1].pk,
    }
    args = objects.get(name)
    url = (
        reverse(name, args=list(args) if isinstance(args, tuple) else [args])
        if name in objects
        else reverse(name)
    )
    query = ""
    if name == "api:indicators":
        query = f"year=2023&street={(w.street if which == 'own' else w.other_street).name}"
    return url, query


def _body(w, name: str, role: str, which: str) -> dict:
    lead, building = _lead(w, role, which), _building(w, which)
    unit = w.unit if which == "own" else w.other_unit
    now = timezone.now()
    if name == "api:lead-list":
        body = {"company_name": f"新报备企业{role}有限公司"}
        return {**body, "lawful_basis": "consent"} if role == "agency" else {**body, "channel": "department"}
    return {
        "api:lead-detail": {"budget_rent": "2.80", "version": lead.version},
        "api:lead-transition": {"stage": "visiting", "reason": "再看一次房"},
        "api:lead-activities": {"kind": "call", "occurred_at": now.isoformat()},
        "api:lead-signing": {
            "building": building.pk,
            "units": [unit.pk],
            "signed_on": now.date().isoformat(),
        },
        "api:webhook-list": {"url": "http://127.0.0.1:9/hook"},
        "api:industry-suggest": {"text": "软件开发与信息技术咨询"},
        "api:policy-evaluate": {
            "profile": {"industry_code": "65"},
            "building": building.pk,
            "offer": {"area_m2": "200", "on": dt.date(2026, 1, 1).isoformat()},
        },
    }.get(name, {})


def _call(client, method: str, url: str, query: str, body: dict):
    path = f"{url}?{query}" if query else url
    if method == "GET":
        return client.get(path)
    return getattr(client, method.lower())(path, body, format="json")


def _result_keys(response) -> set:
    results = response.json()["results"]
    return {r.get("id", r.get("code")) for r in results}


def _foreign_rows(w, name: str, role: str) -> set:
    """Rows a list must never show `role`: other streets', other promoters', other agencies'."""
    if role in ("district_admin", "auditor"):
        return set()
    leads = {w.lead.pk, w.other_lead.pk, w.agency_lead.pk, w.other_agency_lead.pk}
    own_leads = {
        "promoter": {w.lead.pk},
        "agency": {w.agency_lead.pk},
        "street_officer": {w.lead.pk},
    }
    return {
        "api:building-list": {w.other_building.pk}
        if role in ("street_officer", "building_manager")
        else set(),
        "api:lead-list": leads - own_leads.get(role, set()),
        "api:enterprise-list": {w.other_enterprise.pk},
        "api:tax-record-list": {w.other_tax.pk},
        "api:appraisal-list": {w.extras.other_appraisal.pk},
        "api:policy-list": {w.extras.case_policy.pk},
        "api:webhook-list": {_webhooks(w)[1].pk},
    }.get(name, set())


@pytest.mark.parametrize("route", sorted(EXPECTED), ids=lambda r: f"{r[1]} {r[0]}")
def test_route_answers_each_role_as_expected(full_world, route):
    name, method = route
    w = full_world
    seen = {}
    for role in (*ALL, "anonymous"):
        for which in ("own", "other"):
            url, query = _target(w, name, role, which)
            body = _body(w, name, role, which)
            adapter.cache_clear()
            # given a fresh copy of the world for each call: every write is rolled back after it
            with transaction.atomic():
                response = _call(api_client(w, role), method, url, query, body)
                forbidden = _foreign_rows(w, name, role) if response.status_code == 200 else set()
                foreign = _result_keys(response) & forbidden if forbidden else set()
                transaction.set_rollback(True)
            seen[(role, which)] = (response.status_code, foreign)
    # then
    expected = {
        (role, which): (
            200
            if route in PUBLIC and role == "anonymous"
            else 401
            if role == "anonymous"
            else EXPECTED[route][role][0 if which == "own" else 1],
            set(),
        )
        for role in (*ALL, "anonymous")
        for which in ("own", "other")
    }
    assert seen == expected

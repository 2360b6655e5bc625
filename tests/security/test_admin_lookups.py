"""The admin's field policy: no query-string lookup or ordering tells a masked value apart (issue #21, 1).

One small district is built once; every registered admin model is then asked, as each role, for
every field (and every path to a contact through a relation) with `__startswith`, `__regex` and
`__in`, once with a right value and once with a wrong one, and for every sortable column before and
after the masked values are shuffled between rows, and each list whose search reaches a contact for
a whole contact name or phone. The two answers must always be the same.
"""

import re
from itertools import pairwise
from urllib.parse import parse_qsl

import pytest
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from crm.api.keys import agency_api_key_create
from crm.constants import ActivityKind, LeadChannel
from crm.models import Agency, AgencyAPIKey, AgencyWebhook, Lead, UserScope
from crm.selectors.scope import user_with_scope
from crm.services.activities import activity_log
from crm.services.leads import lead_create
from crm.services.privacy import contact_access_record
from crm.services.webhooks import webhook_register
from tests.factories import AgencyFactory, BuildingFactory, PromoterFactory, StreetFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ("district_admin", "auditor", "street_officer", "promoter", "building_manager", "agency")
# docs/privacy.md: who sees a contact person masked. Written out here, not read from the code.
CONTACT_MASKED_FOR = {"auditor", "street_officer", "building_manager"}
CONTACT_FIELDS = {Lead: ("contact_name", "contact_phone"), Agency: ("contact_name", "contact_phone")}
# Shown to nobody after it is made: a webhook's signing secret, an API key's hash.
NEVER_SHOWN = {AgencyWebhook: ("secret",), AgencyAPIKey: ("hashed_key",)}
WRONG = "☃"
# The district's contact people (two of the leads', one agency's), each of them in no other field.
CONTACTS = ("赵联系", "13900001111", "周女士", "钱经理", "13800138000")


def _masked_fields(role: str) -> dict:
    masked = {model: list(names) for model, names in NEVER_SHOWN.items()}
    if role in CONTACT_MASKED_FOR:
        for model, names in CONTACT_FIELDS.items():
            masked.setdefault(model, []).extend(names)
    return masked


def _build_district() -> dict:
    north, south = StreetFactory(name="北海街道"), StreetFactory(name="南门街道")
    tower = BuildingFactory(name="北海大厦", street=north)
    BuildingFactory(name="南门广场", street=south)
    first, second = (
        AgencyFactory(name="越城招商服务中心", contact_name="钱经理", contact_phone="13800138000"),
        AgencyFactory(name="古城中介", contact_name="孙主任", contact_phone="13700137000"),
    )
    wang, li = PromoterFactory(name="王敏", street=north), PromoterFactory(name="李强", street=south)
    leads = [
        lead_create(
            company_name=name,
            channel=LeadChannel.AGENCY,
            owner=owner,
            agency=agency,
            contact_name=contact,
            contact_phone=phone,
            lawful_basis="consent",
        )
        for name, owner, agency, contact, phone in (
            ("甲软件有限公司", wang, first, "赵联系", "13900001111"),
            ("乙数据有限公司", li, second, "周女士", "13600002222"),
            ("丙网络有限公司", wang, second, "吴先生", "15000003333"),
        )
    ]
    for lead in leads:
        activity_log(lead=lead, kind=ActivityKind.CALL, occurred_at=timezone.now())
    office = UserFactory(role="district_admin", is_staff=True)
    contact_access_record(user=office, how="admin", leads=leads)
    webhook_register(agency=first, url="https://hooks.example.com/a")
    webhook_register(agency=second, url="https://hooks.example.com/b")
    agency_api_key_create(agency_name=first.name, key_name="一号")
    agency_api_key_create(agency_name=second.name, key_name="二号")
    scopes = {"street_officer": {"street": north}, "building_manager": {"building": tower}}
    users = {"district_admin": office, "promoter": wang.user}
    for role in ROLES:
        if role not in users:
            users[role] = UserFactory(role=role, is_staff=True)
            if role in scopes or role == "agency":
                UserScope.objects.create(user=users[role], **scopes.get(role, {"agency": first}))
    for user in users.values():
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    # Loaded as a request's login is (roles and scope with the user), reused so permissions stay cached.
    return {role: user_with_scope(user.pk) for role, user in users.items()}


def _answer(model_admin, user, params: dict):
    """What the changelist tells `user` for these parameters: refused, forbidden, or its rows in order."""
    request = RequestFactory().get("/admin/", params)
    request.user = user
    if not model_admin.has_view_or_change_permission(request):
        return "403"  # changelist_view's first check, before the parameters are read
    try:
        changelist = model_admin.get_changelist_instance(request)
    except PermissionDenied:
        return "403"
    except SuspiciousOperation:  # DisallowedModelAdminLookup: a 400 over HTTP
        return "400"
    except IncorrectLookupParameters:  # a value of the wrong type: a redirect to ?e=1
        return "?e=1"
    return tuple(row.pk for row in changelist.result_list)


def _paths(model) -> list[str]:
    """Every concrete field of the model, and every path from it to a masked field one relation away."""
    paths = []
    for field in model._meta.get_fields():
        if not field.concrete:
            continue
        paths.append(field.name)
        related = field.related_model if field.is_relation else None
        for name in CONTACT_FIELDS.get(related, ()) + NEVER_SHOWN.get(related, ()):
            paths.append(f"{field.name}__{name}")
    return paths


def _reaches_contact(model, path: str) -> bool:
    """Whether a search path ends on a contact column, on the model or through relations."""
    *relations, last = path.split("__")
    for name in relations:
        model = model._meta.get_field(name).related_model
    return last in CONTACT_FIELDS.get(model, ())


def _probes(model, path: str) -> list[tuple[dict, dict]]:
    """(right, wrong) parameter pairs for one path: a stored value's prefix, a regex of it, the value."""
    stored = [
        v for v in model._default_manager.order_by("pk").values_list(path, flat=True) if v not in ("", None)
    ]
    if not stored:
        return []
    value = str(stored[0])
    prefix = value[: max(1, min(3, len(value) - 1))]
    return [
        ({f"{path}__startswith": prefix}, {f"{path}__startswith": WRONG}),
        ({f"{path}__regex": f"^{re.escape(prefix)}"}, {f"{path}__regex": f"^{WRONG}"}),
        ({f"{path}__in": value}, {f"{path}__in": WRONG}),
    ]


def _near(model, masked: dict, hops: int = 2) -> bool:
    """Whether the model holds a masked column or points at one within `hops` relations: a column
    order can depend only on values of the row or of rows it points at (a related row's ordering)."""
    if model in masked:
        return True
    if hops == 0:
        return False
    related = {f.related_model for f in model._meta.get_fields() if f.concrete and f.is_relation}
    return any(_near(other, masked, hops - 1) for other in related if other is not None)


def _orderings(model_admin, user) -> dict:
    """Every column order the changelist offers (`?o=` by position) and the rows it gives."""
    orders = [str(i) for i in range(1, len(model_admin.list_display) + 2)]
    return {order: _answer(model_admin, user, {"o": order}) for order in orders}


def _shuffle(masked: dict) -> None:
    """Give each row the masked values of the next row (the last the first's)."""
    for model, names in masked.items():
        rows = list(model._default_manager.order_by("pk").values("pk", *names))
        for row, after in pairwise([*rows, rows[0]] if rows else []):
            model._default_manager.filter(pk=row["pk"]).update(**{n: after[n] for n in names})


def test_no_admin_lookup_or_ordering_tells_a_masked_value_apart():
    # given a small district with contacts, secrets and keys, and a staff login of every role
    users = _build_district()
    registry = list(admin.site._registry.items())
    probes = {model: [p for path in _paths(model) for p in _probes(model, path)] for model, _ in registry}
    told_apart, masked_answered = [], []
    searching_contacts = [
        (model, model_admin)
        for model, model_admin in registry
        if any(_reaches_contact(model, field.lstrip("=^@")) for field in model_admin.search_fields)
    ]
    assert {model for model, _ in searching_contacts} >= {Agency}  # its search box takes contact_name

    for role, user in users.items():
        masked = _masked_fields(role)
        # when every lookup is asked with a right and a wrong value
        for model, model_admin in registry:
            for right, wrong in probes[model]:
                right_answer = _answer(model_admin, user, right)
                if right_answer != _answer(model_admin, user, wrong):
                    told_apart.append((role, model.__name__, right))
                (path,) = (key.rsplit("__", 1)[0] for key in right)
                if right_answer not in ("400", "403") and any(
                    path.endswith(name) for names in masked.values() for name in names
                ):
                    masked_answered.append((role, model.__name__, right))
        # and a search for a whole masked name or phone, on every list whose search reaches a contact
        if role in CONTACT_MASKED_FOR:
            for model, model_admin in searching_contacts:
                for value in CONTACTS:
                    if _answer(model_admin, user, {"q": value}) != _answer(model_admin, user, {"q": WRONG}):
                        told_apart.append((role, model.__name__, {"q": value}))
        # and every ordering before and after the masked values move between rows
        ordered = [(model, model_admin) for model, model_admin in registry if _near(model, masked)]
        before = {model: _orderings(model_admin, user) for model, model_admin in ordered}
        with transaction.atomic():
            _shuffle(masked)
            after = {model: _orderings(model_admin, user) for model, model_admin in ordered}
            transaction.set_rollback(True)
        told_apart += [
            (role, model.__name__, "ordering") for model in before if before[model] != after[model]
        ]

    # then no answer depended on a value, and no lookup on a masked field was even answered
    assert told_apart == [], told_apart[:20]
    assert masked_answered == [], masked_answered[:20]


def test_the_walk_reaches_the_masked_fields():
    # given the district, then the walk's probes include each masked column, on its model and through
    # a relation, so the test above cannot pass by probing nothing
    _build_district()
    keys = {
        key
        for model in admin.site._registry
        for path in _paths(model)
        for right, _wrong in _probes(model, path)
        for key in right
    }
    for expected in (
        "contact_phone__startswith",  # leads and agencies
        "lead__contact_phone__regex",  # activities, reservations, access records ...
        "agency__contact_name__in",  # leads, webhooks
        "secret__startswith",  # webhooks
        "hashed_key__startswith",  # API keys
    ):
        assert expected in keys, expected


def test_the_probes_of_issue_21_are_refused_over_http(client):
    # given the district and an auditor, a street officer of 北海街道, both seeing contacts masked
    users = _build_district()
    lead = Lead.objects.get(contact_phone="13900001111")

    for role in ("auditor", "street_officer"):
        client.force_login(users[role])
        # when they ask the lead list by a phone prefix, a name pattern, and agencies by phone
        by_phone = client.get("/admin/crm/lead/", {"id": lead.pk, "contact_phone__startswith": "139"})
        by_name = client.get("/admin/crm/lead/", {"contact_name__regex": "^赵"})
        agencies = client.get("/admin/crm/agency/", {"contact_phone__startswith": "1"})

        # then each is a 400 (the agencies' list is the auditor's only: 403 for the officer)
        assert (by_phone.status_code, by_name.status_code) == (400, 400), role
        assert agencies.status_code == (400 if role == "auditor" else 403), role


def test_the_admins_own_filters_still_filter(client):
    # given the district's three leads, two of them from 古城中介, and the office logged in
    users = _build_district()
    client.force_login(users["district_admin"])
    second = Agency.objects.get(name="古城中介")

    # when the office uses the lead list's channel filter, the date hierarchy, and a link by id
    by_channel = client.get("/admin/crm/lead/", {"channel__exact": "agency"})
    this_year = client.get("/admin/crm/lead/", {"created_at__year": timezone.localdate().year})
    by_id = client.get("/admin/crm/agency/", {"id__exact": second.pk})

    # then they answer with the rows they select
    assert len(by_channel.context["cl"].result_list) == 3
    assert len(this_year.context["cl"].result_list) == 3
    assert [agency.pk for agency in by_id.context["cl"].result_list] == [second.pk]


def test_every_filter_choice_of_every_list_is_accepted():
    # given the district and the office, which sees every list and every filter
    users = _build_district()
    office = users["district_admin"]
    refused, followed = [], 0

    for model, model_admin in admin.site._registry.items():
        request = RequestFactory().get("/admin/")
        request.user = office
        if not model_admin.has_view_or_change_permission(request):
            continue
        changelist = model_admin.get_changelist_instance(request)
        # when each choice the list's filters and date hierarchy offer is followed
        links = [
            choice["query_string"] for spec in changelist.filter_specs for choice in spec.choices(changelist)
        ]
        if model_admin.date_hierarchy:
            links.append(f"?{model_admin.date_hierarchy}__year={timezone.localdate().year}")
        # (one link per set of parameter names: the policy looks at names, not values)
        distinct = {frozenset(dict(parse_qsl(link.lstrip("?")))): link for link in links}
        for link in distinct.values():
            params = dict(parse_qsl(link.lstrip("?")))
            followed += 1
            if _answer(model_admin, office, params) == "400":
                refused.append((model.__name__, link))

    # then the policy accepts them all: it refuses only what the admin itself never sends
    assert followed > 50
    assert refused == [], refused

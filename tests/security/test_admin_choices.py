"""Every admin form offers and accepts only rows in the user's scope (issue #21, 6)."""

import pytest
from django import forms
from django.contrib import admin
from django.urls import reverse

from crm.models import Building, Lead, Promoter, Street, Unit
from tests.factories import UnitFactory
from tests.security.test_admin_lookups import _build_district

pytestmark = pytest.mark.django_db


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _foreign_rows() -> dict:
    """For each scoped role, the rows of the other street (南门街道) or of others, by model."""
    south = Street.objects.get(name="南门街道")
    plaza = Building.objects.get(name="南门广场")
    li = Promoter.objects.get(name="李强")
    others = {
        Street: {south.pk},
        Building: {plaza.pk},
        Unit: set(plaza.units.values_list("pk", flat=True)),
        Promoter: {li.pk},
        Lead: set(Lead.objects.filter(owner=li).values_list("pk", flat=True)),
    }
    return {
        "street_officer": others,
        "building_manager": others,
        "promoter": {Lead: others[Lead], Promoter: {li.pk}},
    }


def _choices(form) -> dict:
    """Every related field of a form: its model and the ids it offers."""
    offered = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.ModelChoiceField):
            offered[name] = (field.queryset.model, set(field.queryset.values_list("pk", flat=True)))
    return offered


def test_no_admin_form_offers_a_row_of_another_street_or_owner(client):
    # given the district with a unit in each building, and an officer of 北海街道, the manager of
    # 北海大厦 and the promoter 王敏
    users = _build_district()
    for building in Building.objects.all():
        UnitFactory(building=building)
    foreign = _foreign_rows()
    leaks, forms_seen = [], 0

    for role, others in foreign.items():
        user = users[role]
        client.force_login(user)
        # when they open every add page and the first row's change page they may
        for model, model_admin in admin.site._registry.items():
            pages = []
            if user.has_perm(f"{model._meta.app_label}.add_{model._meta.model_name}"):
                pages.append(_url(model, "add"))
            if user.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}"):
                request = client.get(_url(model, "changelist")).wsgi_request
                first = model_admin.get_queryset(request).order_by("pk").first()
                if first is not None:
                    pages.append(_url(model, "change", first.pk))
            for page in pages:
                response = client.get(page)
                if response.status_code != 200 or "adminform" not in response.context:
                    continue
                forms_seen += 1
                for name, (related, ids) in _choices(response.context["adminform"].form).items():
                    if ids & others.get(related, set()):
                        leaks.append((role, page, name))

    # then no form offers a row of the other street or of another promoter
    assert forms_seen >= 5  # building and unit pages for the officer, unit pages, lead/activity/hold
    assert leaks == []


def test_a_street_officer_cannot_move_a_building_to_another_street(client):
    # given an officer of 北海街道 and its building 北海大厦
    users = _build_district()
    client.force_login(users["street_officer"])
    tower, south = Building.objects.get(name="北海大厦"), Street.objects.get(name="南门街道")
    form = {
        "code": tower.code,
        "name": tower.name,
        "gross_area_m2": "10000",
        "leasable_area_m2": "8000",
        "star_rating": "3",
        "units-TOTAL_FORMS": "0",
        "units-INITIAL_FORMS": "0",
    }

    # when they post the building's form with 南门街道 as its street, then with their own
    moved = client.post(_url(Building, "change", tower.pk), {**form, "street": south.pk})
    tower.refresh_from_db()
    street_after_refusal = tower.street_id
    kept = client.post(
        _url(Building, "change", tower.pk), {**form, "street": tower.street_id, "name": "北海中心"}
    )

    # then the move is refused on the street field and nothing changed; the own street saves
    assert moved.status_code == 200
    assert "street" in moved.context["adminform"].form.errors
    assert street_after_refusal != south.pk
    assert kept.status_code == 302
    tower.refresh_from_db()
    assert (tower.name, tower.street.name) == ("北海中心", "北海街道")


def test_a_building_manager_cannot_put_a_unit_in_another_building(client):
    # given the manager of 北海大厦 and a unit of it
    users = _build_district()
    client.force_login(users["building_manager"])
    tower, plaza = Building.objects.get(name="北海大厦"), Building.objects.get(name="南门广场")
    unit = UnitFactory(building=tower, number="901")
    form = {"floor": "9", "number": "901", "area_m2": "120", "status": "vacant"}

    # when they post the unit into 南门广场, and add a new unit there
    moved = client.post(_url(Unit, "change", unit.pk), {**form, "building": plaza.pk})
    added = client.post(_url(Unit, "add"), {**form, "number": "902", "building": plaza.pk})

    # then both are refused on the building field and 南门广场 has no unit from them
    for response in (moved, added):
        assert response.status_code == 200
        assert "building" in response.context["adminform"].form.errors
    unit.refresh_from_db()
    assert unit.building_id == tower.pk
    assert not plaza.units.filter(number="902").exists()


def test_a_save_that_leaves_the_users_scope_rolls_back_even_if_a_form_offered_it(client, monkeypatch):
    # given an officer of 北海街道 and, as if a form's choices were wrong, every street offered
    users = _build_district()
    client.force_login(users["street_officer"])
    monkeypatch.setattr("crm.admin.base._link_choices", lambda request, db_field, queryset: queryset)
    tower, south = Building.objects.get(name="北海大厦"), Street.objects.get(name="南门街道")
    form = {
        "code": tower.code,
        "name": "搬走的大厦",
        "street": south.pk,
        "gross_area_m2": "10000",
        "leasable_area_m2": "8000",
        "star_rating": "3",
        "units-TOTAL_FORMS": "0",
        "units-INITIAL_FORMS": "0",
    }

    # when they move 北海大厦 to 南门街道
    response = client.post(_url(Building, "change", tower.pk), form)

    # then the check after the save refuses it and the whole save is rolled back
    assert response.status_code == 403
    tower.refresh_from_db()
    assert (tower.name, tower.street.name) == ("北海大厦", "北海街道")
    assert tower.history.count() == 1

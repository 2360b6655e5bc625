"""A building with many units is saved in the admin: the units inline edits the first 50 (issue #21, 7)."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from crm.models import Building, Unit
from tests.factories import BuildingFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def _value(bound_field):
    value = bound_field.value()
    if value is None or value is False:
        return None
    if value is True:
        return "on"
    return str(value)


def _post_data(response) -> dict:
    """What the browser would post back for the change page as rendered: form, inlines, management."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        data[form.add_prefix(name)] = _value(form[name])
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for unit_form in formset.forms:
            for name in unit_form.fields:
                data[unit_form.add_prefix(name)] = _value(unit_form[name])
    return {key: value for key, value in data.items() if value is not None}


def test_a_building_of_130_units_is_saved_and_its_first_units_edited_in_the_admin(client):
    # given a building with 130 units on 13 floors, floor 1 first, and the district office
    building = BuildingFactory(name="千户大厦")
    for floor in range(1, 14):
        for door in range(1, 11):
            UnitFactory(
                building=building, floor=floor, number=f"{floor}{door:02d}", asking_rent=Decimal("3.00")
            )
    client.force_login(UserFactory(role="district_admin", is_staff=True))
    url = reverse("admin:crm_building_change", args=[building.pk])

    # when the office opens the building, renames it and changes the rent of unit 101 in the inline
    page = client.get(url)
    data = _post_data(page)
    data["name"] = "千户中心"
    first = next(k for k, v in data.items() if k.startswith("units-") and k.endswith("-id") and v)
    prefix = first.removesuffix("-id")
    unit_101 = Unit.objects.get(pk=data[first])
    data[f"{prefix}-asking_rent"] = "4.50"
    response = client.post(url, data)

    # then the inline held the first 50 units (floors 1-5) so the post stays under Django's field
    # limit, the page links to all 130, and the save wrote the name and the one rent
    inline = page.context["inline_admin_formsets"][0].formset
    assert sorted(form.instance.floor for form in inline.forms) == sorted(list(range(1, 6)) * 10)
    assert len(data) < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    assert f"?building__id__exact={building.pk}" in page.content.decode()
    assert response.status_code == 302
    assert Building.objects.get(pk=building.pk).name == "千户中心"
    assert unit_101.number == "101"
    unit_101.refresh_from_db()
    assert unit_101.asking_rent == Decimal("4.50")
    rents = set(building.units.exclude(pk=unit_101.pk).values_list("asking_rent", flat=True))
    assert rents == {Decimal("3.00")}
    assert building.units.count() == 130


def test_the_unit_list_link_of_a_building_lists_its_units(client):
    # given two buildings with two and one units, and the district office
    building, other = BuildingFactory(), BuildingFactory()
    UnitFactory.create_batch(2, building=building)
    UnitFactory(building=other)
    client.force_login(UserFactory(role="district_admin", is_staff=True))

    # when the building page's link to all its units is followed
    response = client.get(reverse("admin:crm_unit_changelist"), {"building__id__exact": building.pk})

    # then the list holds that building's two units
    assert response.status_code == 200
    assert {unit.building_id for unit in response.context["cl"].result_list} == {building.pk}
    assert len(response.context["cl"].result_list) == 2

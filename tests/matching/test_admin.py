"""Entry conditions are edited in the admin and checked on save; model versions are read-only."""

import pytest
from django.urls import reverse

from matching.models import EntryRule
from tests.factories import BuildingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_client(client):
    user = UserFactory(role="district_admin", is_staff=True)
    client.force_login(user)
    return client


def test_an_entry_condition_is_saved_from_the_admin(office_client):
    building = BuildingFactory()

    response = office_client.post(
        reverse("admin:matching_entryrule_add"),
        {"building": building.pk, "condition": 'industry_section == "J"', "note": "金融楼"},
    )

    assert response.status_code == 302
    assert EntryRule.objects.get().building == building


def test_a_condition_with_an_unknown_field_is_refused_with_the_allowed_names(office_client):
    building = BuildingFactory()

    response = office_client.post(
        reverse("admin:matching_entryrule_add"), {"building": building.pk, "condition": "floor_count > 3"}
    )

    assert response.status_code == 200
    assert "floor_count" in response.content.decode()
    assert not EntryRule.objects.exists()


def test_model_versions_cannot_be_added_by_hand(office_client):
    assert office_client.get(reverse("admin:matching_rankingmodel_add")).status_code == 403
    assert office_client.get(reverse("admin:matching_rankingmodel_changelist")).status_code == 200

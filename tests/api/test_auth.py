"""API keys: issued once by a command, stored hashed, revocable, listed in admin; wrong keys are braked."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from crm.models import Agency, AgencyAPIKey
from tests.api.conftest import api_client

pytestmark = pytest.mark.django_db


def _key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def _create_key(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_the_command_creates_the_agency_and_prints_a_working_key_once():
    # when
    key, message = _create_key("--agency", "新成立的中介")
    # then the agency exists, the key works, and only its hash is stored
    agency = Agency.objects.get(name="新成立的中介")
    stored = AgencyAPIKey.objects.get(agency=agency)
    assert key.startswith(f"{stored.prefix}.")
    assert key not in stored.hashed_key and key not in stored.id
    assert "只显示这一次" in message
    assert _key_client(key).get("/api/v1/leads/").status_code == 200


def test_the_command_gives_an_existing_agency_another_key():
    # given
    first, _ = _create_key("--agency", "越城中介")
    # when
    second, message = _create_key("--agency", "越城中介", "--name", "CRM对接")
    # then
    assert first != second
    assert Agency.objects.filter(name="越城中介").count() == 1
    assert AgencyAPIKey.objects.filter(agency__name="越城中介").count() == 2
    assert "已创建机构" not in message


def test_the_command_refuses_a_missing_agency_name():
    with pytest.raises(CommandError, match="--agency"):
        _create_key()


def test_a_revoked_key_is_refused_with_401(world):
    # given
    prefix = world.keys["agency"].split(".")[0]
    # when
    call_command("create_api_key", "--revoke", prefix, stdout=io.StringIO())
    response = api_client(world, "agency").get("/api/v1/leads/")
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "API密钥无效、已吊销或已过期"}


def test_an_expired_key_is_refused(world):
    # given
    AgencyAPIKey.objects.filter(agency=world.agency).update(
        expiry_date=timezone.now() - dt.timedelta(minutes=1)
    )
    # when
    response = api_client(world, "agency").get("/api/v1/leads/")
    # then
    assert response.status_code == 401


def test_a_key_of_an_agency_no_longer_active_is_refused(world):
    # given
    Agency.objects.filter(pk=world.agency.pk).update(active=False)
    # when
    response = api_client(world, "agency").get("/api/v1/leads/")
    # then
    assert response.status_code == 401


def test_a_wrong_secret_with_a_real_prefix_is_refused(world):
    # given
    prefix = world.keys["agency"].split(".")[0]
    # when
    response = _key_client(f"{prefix}.not-the-secret").get("/api/v1/leads/")
    # then
    assert response.status_code == 401


def test_no_credentials_get_401_with_the_api_key_challenge():
    # when
    response = APIClient().get("/api/v1/leads/")
    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"


@override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"api_key_failure": "3/minute"}})
def test_repeated_wrong_keys_from_one_address_are_braked_with_429(world):
    # given three wrong keys (the rate allows 3 a minute)
    client = _key_client("abcdefgh.wrong")
    statuses = [client.get("/api/v1/leads/").status_code for _ in range(3)]
    # when the fourth attempt comes, even with the right key, from the same address
    response = api_client(world, "agency").get("/api/v1/leads/")
    # then
    assert statuses == [401, 401, 401]
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


@override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"api_key": "2/minute"}})
def test_requests_are_limited_per_api_key(world):
    # given two requests with the agency's key (the rate allows 2 a minute)
    agency = api_client(world, "agency")
    first = [agency.get("/api/v1/industries/").status_code for _ in range(2)]
    # when a third comes with that key, and one with the other agency's key
    third = agency.get("/api/v1/industries/")
    other = _key_client(world.keys["other_agency"]).get("/api/v1/industries/")
    # then only the first key is held back
    assert first == [200, 200]
    assert third.status_code == 429
    assert other.status_code == 200


@override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"api_user": "1/minute"}})
def test_requests_are_limited_per_user(world):
    # given one request of the promoter (the rate allows 1 a minute)
    assert api_client(world, "promoter").get("/api/v1/industries/").status_code == 200
    # when the promoter and another user ask again
    promoter_again = api_client(world, "promoter").get("/api/v1/industries/")
    officer = api_client(world, "street_officer").get("/api/v1/industries/")
    # then
    assert promoter_again.status_code == 429
    assert officer.status_code == 200


def test_keys_are_listed_in_the_admin_for_the_district_office(world, client):
    # given
    world.users["district_admin"].is_staff = True
    world.users["district_admin"].save()
    client.force_login(world.users["district_admin"])
    # when
    page = client.get("/admin/crm/agencyapikey/")
    # then both agencies' keys are listed by prefix
    assert page.status_code == 200
    for key in world.keys.values():
        assert key.split(".")[0] in page.content.decode()


def test_a_key_issued_in_the_admin_acts_as_the_agency(world, client):
    # given
    admin = world.users["district_admin"]
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    # when
    client.post("/admin/crm/agencyapikey/add/", {"agency": world.other_agency.pk, "name": "后台签发"})
    # then the key is bound to the agency's API account, whose scope is that agency
    issued = AgencyAPIKey.objects.get(name="后台签发")
    assert issued.user.scope.agency == world.other_agency
    assert issued.user.groups.filter(name="agency").exists()


def test_the_admin_hides_keys_from_other_roles(world, client):
    # given a promoter with admin access
    user = world.users["promoter"]
    user.is_staff = True
    user.save()
    client.force_login(user)
    # when
    page = client.get("/admin/crm/agencyapikey/")
    # then
    assert page.status_code == 403

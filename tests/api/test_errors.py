"""Errors: {"field": ["message"]} bodies in the caller's language, the right status, never a traceback."""

import pytest
from django.db import IntegrityError
from django.test import override_settings

from crm.api.exceptions import in_language
from tests.api.conftest import api_client

pytestmark = pytest.mark.django_db


def test_a_bilingual_message_is_split_by_language():
    # given a service message "中文 / English", one without the space before the slash, and a plain one
    message = "面积必须大于0,实为 -5 / area must be greater than 0, got -5"
    tight = "未知行业代码 99(应为两位大类代码)/ unknown industry code 99"
    # then
    assert in_language(message, "zh-hans") == "面积必须大于0,实为 -5"
    assert in_language(message, "en") == "area must be greater than 0, got -5"
    assert in_language(tight, "en") == "unknown industry code 99"
    assert in_language("yuan/m²/day", "en") == "yuan/m²/day"


def test_a_400_names_the_field_in_chinese_by_default(world):
    # when
    response = api_client(world, "promoter").post(
        "/api/v1/leads/",
        {"company_name": "癸有限公司", "channel": "department", "area_min_m2": "-5"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"area_min_m2": ["面积必须大于0,实为 -5.00"]}


def test_a_400_is_in_english_when_asked(world):
    # when
    response = api_client(world, "promoter").post(
        "/api/v1/leads/",
        {"company_name": "癸有限公司", "channel": "department", "area_min_m2": "-5"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    # then
    assert response.json() == {"area_min_m2": ["the area must be greater than 0, not -5.00"]}


def test_a_wrong_credit_code_is_a_400_on_its_field(world):
    # when (the last character should be 3: see tests/crm/test_credit_code.py)
    response = api_client(world, "agency").post(
        "/api/v1/leads/",
        {"company_name": "子有限公司", "credit_code": "91330602000000001X", "lawful_basis": "public"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["credit_code"]


def test_an_unknown_industry_is_a_400_on_its_field(world):
    # when
    response = api_client(world, "agency").post(
        "/api/v1/leads/",
        {"company_name": "丑有限公司", "industry": "99", "lawful_basis": "public"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["industry"]


def test_inverted_areas_are_a_400(world):
    # when
    response = api_client(world, "agency").post(
        "/api/v1/leads/",
        {"company_name": "寅有限公司", "area_min_m2": "500", "area_max_m2": "100", "lawful_basis": "public"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["area_max_m2"]


def test_malformed_json_is_a_400(world):
    # when
    response = api_client(world, "agency").post(
        "/api/v1/leads/", "{not json", content_type="application/json"
    )
    # then
    assert response.status_code == 400
    assert "detail" in response.json()


def test_a_bad_filter_value_is_a_400(world):
    # when
    response = api_client(world, "promoter").get("/api/v1/leads/?stage=bogus")
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["stage"]


def test_a_page_past_the_end_is_a_404(world):
    # when
    response = api_client(world, "promoter").get("/api/v1/leads/?page=9")
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "页码超出范围"}


def test_put_is_not_allowed_on_a_lead(world):
    # when
    response = api_client(world, "promoter").put(f"/api/v1/leads/{world.lead.pk}/", {}, format="json")
    # then
    assert response.status_code == 405


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_limit_is_a_413(world):
    # when (a business scope of 2,000 characters is over 1,000 bytes)
    response = api_client(world, "agency").post(
        "/api/v1/leads/", {"company_name": "卯有限公司", "business_scope": "经" * 2000}, format="json"
    )
    # then
    assert response.status_code == 413


def test_an_unexpected_error_is_a_500_without_a_traceback(world, monkeypatch):
    # given a service that fails
    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("crm.api.views.leads.lead_transition", broken)
    # when
    response = api_client(world, "promoter").post(
        f"/api/v1/leads/{world.lead.pk}/transition/", {"stage": "contacted"}, format="json"
    )
    # then
    assert response.status_code == 500
    assert response.json() == {"detail": "服务器内部错误"}
    assert b"secret" not in response.content and b"Traceback" not in response.content


def test_a_constraint_caught_by_the_database_is_a_409(world, monkeypatch):
    # given a concurrent write that the database refuses
    def racing(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr("crm.api.views.leads.lead_transition", racing)
    # when
    response = api_client(world, "promoter").post(
        f"/api/v1/leads/{world.lead.pk}/transition/", {"stage": "contacted"}, format="json"
    )
    # then
    assert response.status_code == 409
    assert "duplicate" not in response.json()["detail"]


def test_a_path_no_route_matches_is_a_json_404(world):
    # when (ids are whole numbers: "-5" matches no route)
    response = api_client(world, "promoter").get("/api/v1/leads/-5/matches/")
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到,或无权查看"}


def test_a_time_the_database_cannot_hold_is_a_400(world):
    # when (PostgreSQL holds offsets up to ±15:59; found by schemathesis)
    response = api_client(world, "promoter").get("/api/v1/leads/?updated_after=2026-01-01T00:00:00-22:25")
    # then: refused by the database (PostgreSQL) or answered (SQLite), never a 500
    assert response.status_code in (200, 400)

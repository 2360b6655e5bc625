"""The OpenAPI 3 schema at /api/v1/schema/ is valid and complete; the docs page serves it."""

import io

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

from tests.api.test_permission_matrix import EXPECTED

pytestmark = pytest.mark.django_db


def test_the_schema_endpoint_serves_a_valid_openapi_3_document(client):
    # when
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    # then
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 meta-schema
    assert schema["openapi"].startswith("3.")


def test_every_api_operation_is_in_the_schema(client):
    # given the routes of the permission matrix, less the schema and docs themselves
    routes = {(name, method) for name, method in EXPECTED if name.startswith("api:")}
    # when
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    operations = {(path, method.upper()) for path, item in schema["paths"].items() for method in item}
    # then one operation per route and method
    assert len(operations) == len(routes)


def test_the_schema_declares_the_api_key_and_the_session(client):
    # when
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    # then
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["ApiKey"]["description"],
    }
    assert "cookieAuth" in schemes


def test_the_schema_generates_without_a_warning():
    # when / then: --fail-on-warn turns any warning of drf-spectacular into an error
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())


def test_the_docs_page_is_served(client):
    # when
    page = client.get("/api/v1/docs/")
    script = client.get("/api/v1/docs/?script=")
    # then the page loads Swagger UI's start-up script as a file (the CSP allows no inline script),
    # and that script reads the schema
    assert page.status_code == 200
    assert b'<script src="/api/v1/docs/?script="></script>' in page.content
    assert script.status_code == 200
    assert b"/api/v1/schema/" in script.content


def test_the_schema_states_each_indicators_precision(client):
    # when
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    value = schema["components"]["schemas"]["Indicator"]["properties"]["value"]

    # then: a decimal string, and per indicator how exact it is
    assert (value["type"], value["format"]) == ("string", "decimal")
    for words in (
        "gross_area: 万㎡, exact, 6 decimals",
        "building_tax: 亿元, exact, 10 decimals",
        "billion_buildings: 幢, whole number",
        "occupancy_rate: %, unrounded ratio",
        "tax_per_m2: 元/㎡, unrounded ratio",
    ):
        assert words in value["description"]


def _schema(client) -> dict:
    return yaml.safe_load(client.get("/api/v1/schema/").content)


def _query_parameter(schema: dict, path: str, name: str) -> dict:
    parameters = schema["paths"][path]["get"]["parameters"]
    return next(p for p in parameters if p["name"] == name)["schema"]


def test_the_schema_declares_the_limits_and_each_roles_lead_input(client):
    # when
    schema = _schema(client)
    # then the bounds int_param refuses outside of (a 400) are in the schema, for clients to keep to
    year = {"type": "integer", "minimum": 1990, "maximum": 2100}
    assert _query_parameter(schema, "/api/v1/indicators/", "year") == year
    assert _query_parameter(schema, "/api/v1/buildings/", "year") == year
    limit = {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}
    assert _query_parameter(schema, "/api/v1/leads/{id}/matches/", "limit") == limit
    assert _query_parameter(schema, "/api/v1/buildings/{id}/lead-matches/", "limit") == limit
    components = schema["components"]["schemas"]
    body = schema["paths"]["/api/v1/leads/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    choices = [ref["$ref"].rsplit("/", 1)[1] for ref in components[body["$ref"].rsplit("/", 1)[1]]["oneOf"]]
    # and the lead's input is one per role, the agency's with none of the fields refused to it
    assert choices == ["LeadAgencyInputRequest", "LeadStaffInputRequest", "LeadOfficeInputRequest"]
    agency_fields = set(components["LeadAgencyInputRequest"]["properties"])
    assert not agency_fields & {"channel", "owner", "case_by_case", "stage", "agency"}
    assert {"channel", "owner"} <= set(components["LeadOfficeInputRequest"]["properties"])

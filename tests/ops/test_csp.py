"""The Content-Security-Policy: its header, no inline script in the pages, and no violation in Chromium on
the pages with charts, the admin and the API docs."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.web.conftest import build_district
from tests.web.test_browser import browser, go, log_in, page  # noqa: F401 - fixtures shared with tests/web

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.django_db
def test_pages_send_a_policy_that_allows_scripts_from_this_site_only(client):
    # when
    response = client.get(reverse("web:login"))
    # then
    policy = directives(response)
    assert policy["script-src"][0] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'self'"]


@pytest.mark.django_db
def test_the_pages_with_scripts_have_no_inline_script_or_handler(district):
    # given the office's and the promoter's pages, charts and the quick add among them
    office, promoter = district.client("district_admin"), district.client("promoter")
    pages = [
        office.get(reverse("web:dashboard") + f"?year={district.tax_year}"),
        office.get(reverse("web:building", args=[district.building.pk])),
        promoter.get(reverse("web:lead_add")),
        promoter.get(reverse("web:lead", args=[district.lead.pk])),
    ]
    for response in pages:
        assert response.status_code == 200, response.request["PATH_INFO"]
        html = response.content.decode()
        # then only script files, and JSON data blocks (which CSP does not run), appear
        assert INLINE_SCRIPT.findall(html) == [], response.request["PATH_INFO"]
        assert INLINE_HANDLER.findall(html) == [], response.request["PATH_INFO"]


def test_no_page_template_holds_an_inline_script_or_handler():
    # every template of the pages (partials too, e.g. the industry suggestions' buttons)
    templates = sorted((ROOT / "crm" / "templates" / "web").rglob("*.html"))
    assert len(templates) > 40
    for template in templates:
        source = template.read_text(encoding="utf-8")
        assert INLINE_SCRIPT.findall(source) == [], template.name
        assert INLINE_HANDLER.findall(source) == [], template.name


def watch_violations(tab) -> list[str]:
    """Chromium reports each refused script, style, frame or connection on the console."""
    violations: list[str] = []

    def note(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    tab.on("console", note)
    return violations


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_dashboard_draws_its_charts_without_a_policy_violation(page, tmp_path):  # noqa: F811
    # given
    district = build_district()
    violations = watch_violations(page)
    log_in(page, "office")
    # when
    go(page, reverse("web:dashboard") + f"?year={district.tax_year}")
    page.locator("#forecast-table").wait_for()
    go(page, reverse("web:building", args=[district.building.pk]))
    # then every chart was drawn by app.js, and nothing was refused
    assert page.locator("canvas[data-drawn]").count() >= 2  # the building's trend and mix
    assert violations == []
    page.screenshot(path=tmp_path / "building-under-csp.png", full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_admin_and_the_api_docs_work_under_the_policy(page, tmp_path):  # noqa: F811
    # given the office's login, which is staff
    from tests.factories import UserFactory

    UserFactory(username="office", role="district_admin", is_staff=True, is_superuser=True)
    violations = watch_violations(page)
    # when the admin and Swagger UI are opened
    go(page, "/admin/login/")
    page.fill("#id_username", "office")
    page.fill("#id_password", "pass-word-123")
    page.click("input[type=submit]")
    page.wait_for_load_state("networkidle")
    go(page, "/admin/crm/lead/add/")
    page.locator("#lead_form").wait_for()
    go(page, "/api/v1/docs/")
    # then Swagger UI rendered the schema's operations, and nothing was refused
    page.locator(".swagger-ui .opblock").first.wait_for()
    page.screenshot(path=tmp_path / "api-docs-under-csp.png", full_page=True)
    assert violations == []

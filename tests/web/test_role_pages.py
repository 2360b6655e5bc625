"""Role-aware pages: no link a role cannot follow, styled 403/404/500 pages, and GET on the what-if."""

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from crm.web import errors

# Every page link or form target of a page: the paths a person could follow from it.
HREF = re.compile(r'(?:href|action|hx-get|hx-post)="(/[^"#?]*)')


def page_links(html: str) -> set[str]:
    return {path for path in HREF.findall(html) if not path.startswith(("/static/", "/i18n/"))}


def test_a_street_officers_desk_offers_neither_quick_add_nor_the_board(district):
    # given
    officer = district.client("street_officer")

    # when
    response = officer.get(reverse("web:desk"))

    # then: both pages answer the officer 403, so neither is linked
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("web:lead_add") not in html
    assert reverse("web:board") not in html
    assert officer.get(reverse("web:lead_add")).status_code == 403
    assert officer.get(reverse("web:board")).status_code == 403


def test_a_promoters_desk_offers_quick_add_and_the_board(district):
    # given
    promoter = district.client("promoter")

    # when
    html = promoter.get(reverse("web:desk")).content.decode()

    # then
    assert f'href="{reverse("web:lead_add")}"' in html
    assert f'href="{reverse("web:board")}"' in html


@pytest.mark.parametrize("role", ["street_officer", "auditor", "agency", "building_manager", "promoter"])
def test_no_link_on_a_roles_home_pages_answers_it_403(district, role):
    # given: the pages each role reaches from its navigation
    client = district.client(role)
    home = client.get(reverse("web:home"), follow=True)
    start = page_links(home.content.decode())

    # when: every GET-able link of the home page and of each navigation entry is opened
    seen, refused = set(), []
    for path in sorted(start):
        response = client.get(path)
        seen.add(path)
        if response.status_code == 403:
            refused.append(path)

    # then
    assert seen, "the home page links somewhere"
    assert refused == []


def test_a_refused_page_is_styled_with_the_navigation_in_chinese(district):
    # given
    officer = district.client("street_officer")

    # when
    response = officer.get(reverse("web:lead_add"))

    # then: the site's page, the navigation, the refusal's Chinese half only
    html = response.content.decode()
    assert response.status_code == 403
    assert 'class="nav"' in html
    assert "无权查看此页面" in html
    assert "you may not open this page" not in html
    assert "403 Forbidden" not in html
    assert "{#" not in html  # no template comment leaks onto the page


def test_a_refused_page_follows_the_chosen_language(district):
    # given
    officer = district.client("street_officer")
    officer.cookies["django_language"] = "en"

    # when
    response = officer.get(reverse("web:board"))

    # then
    html = response.content.decode()
    assert response.status_code == 403
    assert "you may not open this page" in html
    assert "无权查看此页面" not in html
    assert 'href="/desk/"' in html  # the navigation, in English: 工作台 is "Desk"


def test_a_missing_page_is_styled_with_the_navigation(district):
    # given
    promoter = district.client("promoter")

    # when
    response = promoter.get("/no-such-page/")

    # then
    html = response.content.decode()
    assert response.status_code == 404
    assert 'class="nav"' in html
    assert "未找到此页面" in html


def test_a_missing_api_path_still_answers_json(district):
    # given
    promoter = district.client("promoter")

    # when
    response = promoter.get("/api/v1/no-such-endpoint/")

    # then
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_a_server_error_is_styled_with_the_navigation(district, rf):
    # given: a request as the logged-in promoter, as the middleware would have left it
    promoter = district.client("promoter")
    request = promoter.get(reverse("web:desk")).wsgi_request

    # when
    response = errors.server_error(request)

    # then
    html = response.content.decode()
    assert response.status_code == 500
    assert 'class="nav"' in html
    assert "服务器出错" in html


@override_settings(DEBUG_PROPAGATE_EXCEPTIONS=False)
def test_a_view_that_raises_answers_the_styled_500(district, monkeypatch):
    # given: the desk breaks
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("crm.web.desk.pipeline", broken)
    client = Client(raise_request_exception=False)
    client.force_login(district.users["promoter"])

    # when
    response = client.get(reverse("web:desk"))

    # then
    assert response.status_code == 500
    assert "服务器出错" in response.content.decode()


def test_get_on_the_what_if_goes_to_the_dashboards_what_if(district):
    # given
    office = district.client("district_admin")

    # when
    response = office.get(reverse("web:what_if") + "?year=2024")

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("web:dashboard") + "?year=2024#whatif-heading"


def test_get_on_the_what_if_is_still_refused_to_a_promoter(district):
    # given
    promoter = district.client("promoter")

    # when
    response = promoter.get(reverse("web:what_if"))

    # then
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["agency", "building_manager", "district_admin"])
def test_the_policy_list_links_the_commitment_schedule_only_to_roles_it_opens_for(district, role):
    # given
    client = district.client(role)
    schedule = reverse("web:commitment_schedule")

    # when
    html = client.get(reverse("web:policies")).content.decode()
    opened = client.get(schedule).status_code

    # then: the link is there exactly when the schedule answers the role
    assert (f'href="{schedule}"' in html) == (opened == 200)

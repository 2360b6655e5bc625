"""The lead board in headless Chromium at 1366×768, the smallest office screen: every column is on
screen, and a lead moves 新线索 → 已接洽 → 看房中 → 谈判中 and is lost with its reason without a page
reload, alert or prompt. Screenshots go to var/screenshots/."""

import pytest
from django.conf import settings
from django.urls import reverse

from crm.constants import LeadStage
from tests.web.conftest import build_district
from tests.web.test_browser import TIMEOUT_MS, browser, go, log_in  # noqa: F401 (browser: a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WIDTH, HEIGHT = 1366, 768
SCREENSHOTS = settings.VAR_DIR / "screenshots"
STAGES = ("new", "contacted", "visiting", "negotiating", "signed", "settled", "lost")


@pytest.fixture
def page(browser, live_server):  # noqa: F811 (the module's browser fixture)
    context = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": HEIGHT})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.base = live_server.url
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    # A dialog (alert, confirm, prompt) is what the board must no longer use.
    tab.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield tab
    context.close()
    assert problems == []


def _card_in(page, stage: str, pk: int):
    return page.locator(f'section[data-stage="{stage}"] #card-{pk}')


def test_every_board_column_is_on_a_1366_pixel_screen(page):
    # given
    build_district()
    log_in(page, "promoter")

    # when
    go(page, reverse("web:board"))

    # then: each of the seven columns lies within the viewport's width, and nothing scrolls sideways
    for stage in STAGES:
        box = page.locator(f'section[data-stage="{stage}"]').bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (stage, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    page.screenshot(path=SCREENSHOTS / "board-1366.png")


def test_a_lead_moves_through_the_funnel_and_is_lost_with_its_reason_without_a_reload(page):
    # given
    district = build_district()
    pk = district.lead.pk
    log_in(page, "promoter")
    go(page, reverse("web:board"))
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again

    # when: 新线索 → 已接洽 → 看房中 → 谈判中 by the card's stage control
    for stage in ("contacted", "visiting", "negotiating"):
        page.select_option(f"#to-{pk}", stage)
        page.locator(f"#card-{pk} form.stage-move button[type=submit]").click()
        _card_in(page, stage, pk).wait_for()
    page.screenshot(path=SCREENSHOTS / "board-negotiating.png")

    # and dropped on 已流失 without a reason, then with one
    page.locator(f"#card-{pk}").drag_to(page.locator('section[data-stage="lost"]'))
    reason = page.locator(f"#reason-{pk}")
    reason.wait_for(state="visible")
    page.locator(f"#card-{pk} form.stage-move button[type=submit]").click()
    error = page.locator(f"#reason-error-{pk}")
    error.wait_for()
    page.screenshot(path=SCREENSHOTS / "board-lost-needs-a-reason.png")
    assert "流失须填写原因" in error.inner_text()
    assert page.locator(f"#to-{pk}").input_value() == "lost"  # the choice is kept
    page.fill(f"#reason-{pk}", "选择了外区园区")
    page.locator(f"#card-{pk} form.stage-move button[type=submit]").click()
    _card_in(page, "lost", pk).wait_for(state="attached")

    # then: the same document all along, and the lead lost with its reason
    assert page.evaluate("window.sameDocument") is True
    district.lead.refresh_from_db()
    assert district.lead.stage == LeadStage.LOST
    assert district.lead.lost_reason == "选择了外区园区"
    page.locator('details[data-fold="lost"] > summary').click()
    page.screenshot(path=SCREENSHOTS / "board-lost-unfolded.png")

"""The lead board as a day's work: cards with expected tax, area and next follow-up, columns with
counts and tax totals, terminal columns folded, refusals inline on the card (no alert, no prompt)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.constants import ActivityKind, LeadStage
from crm.models import Activity, StageChange
from tests.factories import LeadFactory, make_credit_code

pytestmark = pytest.mark.django_db


def _column(body: str, stage: str) -> str:
    return body.split(f'data-stage="{stage}" aria-labelledby')[1].split("</section>")[0]


def test_a_card_shows_expected_tax_area_range_and_next_follow_up(district):
    # given: the lead (150–250 m², 500,000 yuan a year) has a call whose next follow-up is tomorrow 10:00
    follow_up = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + dt.timedelta(
        days=1
    )
    Activity.objects.create(
        lead=district.lead,
        kind=ActivityKind.CALL,
        occurred_at=timezone.now(),
        promoter=district.promoter,
        next_follow_up_at=follow_up,
    )

    # when
    body = district.client("promoter").get(reverse("web:board")).content.decode()

    # then
    card = body.split(f'id="card-{district.lead.pk}"')[1].split("</article>")[0]
    assert "50.0 万元" in card
    assert "150–250㎡" in card
    assert follow_up.strftime("%m-%d 10:00") in card
    assert "已逾期" not in card


def test_an_overdue_follow_up_is_marked(district):
    # given
    Activity.objects.create(
        lead=district.lead,
        kind=ActivityKind.CALL,
        occurred_at=timezone.now() - dt.timedelta(days=3),
        promoter=district.promoter,
        next_follow_up_at=timezone.now() - dt.timedelta(days=1),
    )

    # when
    body = district.client("promoter").get(reverse("web:board")).content.decode()

    # then
    assert "已逾期" in body.split(f'id="card-{district.lead.pk}"')[1].split("</article>")[0]


def test_each_column_counts_its_leads_and_totals_their_expected_tax(district):
    # given: two more new leads of 1,200,000 and of no stated tax, and one contacted of 300,000
    for n, tax in ((1, Decimal("1200000")), (2, None)):
        LeadFactory(
            owner=district.promoter, credit_code=make_credit_code(720000 + n), expected_annual_tax=tax
        )
    LeadFactory(
        owner=district.promoter,
        stage=LeadStage.CONTACTED,
        credit_code=make_credit_code(720003),
        expected_annual_tax=Decimal("300000"),
    )

    # when
    body = district.client("promoter").get(reverse("web:board")).content.decode()

    # then: new has 3 leads and 500,000 + 1,200,000 = 1,700,000 yuan = 170.0 万元; contacted 1 and 30.0
    new, contacted = _column(body, "new"), _column(body, "contacted")
    assert re.search(r"data-count>3<", new) and 'data-tax="1700000.00"' in new and "170.0 万元" in new
    assert re.search(r"data-count>1<", contacted) and "30.0 万元" in contacted
    assert re.search(r"data-count>0<", _column(body, "lost")) and "0.0 万元" in _column(body, "lost")


def test_the_terminal_columns_start_folded(district):
    # when
    body = district.client("promoter").get(reverse("web:board")).content.decode()

    # then: settled and lost fold behind their heading; the working stages do not
    assert '<details class="fold" data-fold="settled">' in _column(body, "settled")
    assert '<details class="fold" data-fold="lost">' in _column(body, "lost")
    assert "<details" not in _column(body, "new")


def test_the_board_asks_for_the_lost_reason_in_the_card_not_in_a_dialog(district):
    # when
    body = district.client("promoter").get(reverse("web:board")).content.decode()

    # then: a reason field in the card's own form; the script asks nothing of window.alert or prompt
    card = body.split(f'id="card-{district.lead.pk}"')[1].split("</article>")[0]
    assert f'<label for="reason-{district.lead.pk}"' in card and 'name="reason"' in card
    script = (district.client("promoter").get("/static/web/app.js")).getvalue().decode()
    assert "window.alert" not in script and "window.prompt" not in script


def test_lost_without_a_reason_keeps_the_choice_and_puts_the_error_under_the_field(district):
    # when
    response = district.client("promoter").post(
        reverse("web:board_move", args=[district.lead.pk]),
        {"to_stage": "lost", "reason": "  "},
        HTTP_HX_REQUEST="true",
    )

    # then: nothing changed; the card alone comes back for its own place, 已流失 still chosen, the
    # reason field shown with its error below it, in Chinese
    district.lead.refresh_from_db()
    assert district.lead.stage == LeadStage.NEW
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#card-{district.lead.pk}"
    body = response.content.decode()
    assert body.startswith('<article class="lead-card"')
    assert '<option value="lost" selected>' in body
    assert "data-lost-reason hidden" not in body
    field, error = (
        body.index(f'id="reason-{district.lead.pk}"'),
        body.index(f'id="reason-error-{district.lead.pk}"'),
    )
    assert field < error
    assert "流失须填写原因" in body and "a lost lead needs a reason" not in body


def test_a_refusal_is_in_english_for_an_english_reader(district):
    # given
    client = district.client("promoter")
    client.cookies["django_language"] = "en"

    # when: new → negotiating is not an edge of the funnel
    response = client.post(
        reverse("web:board_move", args=[district.lead.pk]),
        {"to_stage": "negotiating"},
        HTTP_HX_REQUEST="true",
    )

    # then: one language, under the stage control
    body = response.content.decode()
    error = body.split(f'id="to-error-{district.lead.pk}"')[1].split("</p>")[0]
    assert re.search(r"[A-Za-z]", error) and not re.search(r"[\u4e00-\u9fff]", error)


def test_a_lead_moves_new_contacted_visiting_negotiating_by_its_card(district):
    # given
    client = district.client("promoter")

    # when: three moves, each answered with the board to swap in
    for stage in ("contacted", "visiting", "negotiating"):
        response = client.post(
            reverse("web:board_move", args=[district.lead.pk]), {"to_stage": stage}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        assert response.content.decode().startswith('<div id="board"')
        assert f'id="card-{district.lead.pk}"' in _column(response.content.decode(), stage)

    # then: three logged stage changes, and the negotiating card offers the signing form
    district.lead.refresh_from_db()
    assert district.lead.stage == LeadStage.NEGOTIATING
    assert StageChange.objects.filter(lead=district.lead).count() == 3
    assert reverse("web:lead_sign", args=[district.lead.pk]) in response.content.decode()

"""Planned activities on the pages: planned from the lead page or by booking a tour, done or moved
from the desk in one click, overdue ones marked."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.constants import ActivityKind
from crm.models import Activity
from crm.services.activities import activity_log

pytestmark = pytest.mark.django_db

LOCAL = "%Y-%m-%dT%H:%M"


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    return (timezone.now() + dt.timedelta(days=days, hours=hours)).replace(second=0, microsecond=0)


def planned(district, *, due: dt.datetime, kind: str = ActivityKind.VISIT) -> Activity:
    """A call an hour before `due` (or now, whichever is earlier) that planned a `kind`."""
    return activity_log(
        lead=district.lead,
        kind=ActivityKind.CALL,
        occurred_at=min(due, at()) - dt.timedelta(hours=1),
        next_follow_up_at=due,
        next_kind=kind,
        building=district.building if kind == ActivityKind.SITE_TOUR else None,
    )


def test_the_activity_form_plans_a_typed_next_activity_with_an_assignee(district):
    # when
    due = timezone.localtime(at(days=3))
    response = district.client("promoter").post(
        reverse("web:activity_add", args=[district.lead.pk]),
        {
            "kind": ActivityKind.CALL,
            "occurred_at": timezone.localtime(at(hours=-1)).strftime(LOCAL),
            "next_follow_up_at": due.strftime(LOCAL),
            "next_kind": ActivityKind.MEETING,
            "next_assignee": district.promoter.pk,
        },
    )

    # then
    assert response.status_code == 302
    activity = Activity.objects.get(lead=district.lead)
    assert (activity.next_kind, activity.next_assignee) == (ActivityKind.MEETING, district.promoter)
    assert activity.next_follow_up_at == due


def test_a_planned_kind_without_a_time_is_refused_under_its_field(district):
    # when
    response = district.client("promoter").post(
        reverse("web:activity_add", args=[district.lead.pk]),
        {
            "kind": ActivityKind.CALL,
            "occurred_at": timezone.localtime(at(hours=-1)).strftime(LOCAL),
            "next_kind": ActivityKind.VISIT,
        },
    )

    # then: the Chinese half only, beside 下次跟进
    html = response.content.decode()
    assert response.status_code == 400
    assert "请填写下次跟进时间" in html
    assert "the planned activity needs a time" not in html
    assert not Activity.objects.exists()


def test_booking_a_tour_plans_a_site_tour_in_that_building(district):
    # when
    due = timezone.localtime(at(days=2))
    district.client("promoter").post(
        reverse("web:site_tour_schedule", args=[district.lead.pk]),
        {"building": district.building.pk, "units": f"{district.unit.pk}", "at": due.strftime(LOCAL)},
        HTTP_HX_REQUEST="true",
    )

    # then
    note = Activity.objects.get(lead=district.lead)
    assert note.kind == ActivityKind.NOTE
    assert (note.next_kind, note.next_follow_up_at) == (ActivityKind.SITE_TOUR, due)
    assert (note.building, note.unit) == (district.building, district.unit)


def test_booking_a_tour_in_the_past_answers_the_reason_and_the_form_again(district):
    # when
    past = timezone.localtime(at(days=-1))
    response = district.client("promoter").post(
        reverse("web:site_tour_schedule", args=[district.lead.pk]),
        {"building": district.building.pk, "units": f"{district.unit.pk}", "at": past.strftime(LOCAL)},
        HTTP_HX_REQUEST="true",
    )

    # then: a 400 (which the page's htmx config swaps in), saying why under the field's label
    html = response.content.decode()
    assert response.status_code == 400
    assert "看房时间</strong>: 看房时间不能早于现在" in html
    assert "the tour cannot be in the past" not in html
    assert f'name="at" value="{past.strftime(LOCAL)}"' in html
    assert not Activity.objects.exists()


def test_the_pages_htmx_swaps_refused_answers():
    # given the base template's htmx configuration
    from django.template.loader import get_template

    source = get_template("web/base.html").template.source

    # then: 400, 409 and 422 are swapped, not dropped
    assert '{"code": "^(400|409|422)$", "swap": true, "error": false}' in source


def test_the_desk_shows_an_overdue_plan_highlighted_with_its_kind_and_actions(district):
    # given a visit planned for two days ago
    plan = planned(district, due=at(days=-2))

    # when
    html = district.client("promoter").get(reverse("web:desk")).content.decode()

    # then
    assert f'id="plan-{plan.pk}" class="plan overdue"' in html
    assert "拜访" in html
    assert reverse("web:plan_done", args=[plan.pk]) in html
    assert reverse("web:plan_reschedule", args=[plan.pk]) in html


def test_a_plan_later_today_is_listed_today_and_not_overdue(district):
    # given: an hour from now, unless that is tomorrow already
    due = at(hours=1)
    if timezone.localdate(due) != timezone.localdate():
        pytest.skip("an hour from now is tomorrow")
    plan = planned(district, due=due)

    # when
    html = district.client("promoter").get(reverse("web:desk")).content.decode()

    # then
    assert f'id="plan-{plan.pk}" class="plan"' in html
    assert 'id="plans-today"' in html


def test_done_from_the_desk_logs_the_planned_visit_and_answers_the_row(district):
    # given
    plan = planned(district, due=at(hours=-3))

    # when
    response = district.client("promoter").post(
        reverse("web:plan_done", args=[plan.pk]), HTTP_HX_REQUEST="true"
    )

    # then: the row of the plan, now done, in place of the old one
    assert response.status_code == 200
    assert f'<li id="plan-{plan.pk}" class="plan done"' in response.content.decode()
    assert "已完成" in response.content.decode()
    done = Activity.objects.filter(lead=district.lead).order_by("-occurred_at").first()
    assert (done.kind, done.promoter) == (ActivityKind.VISIT, district.promoter)


def test_done_twice_answers_400_with_the_reason_in_the_row(district):
    # given
    plan = planned(district, due=at(hours=-3))
    promoter = district.client("promoter")
    promoter.post(reverse("web:plan_done", args=[plan.pk]), HTTP_HX_REQUEST="true")

    # when
    response = promoter.post(reverse("web:plan_done", args=[plan.pk]), HTTP_HX_REQUEST="true")

    # then
    assert response.status_code == 400
    assert "此计划已完成或已被新的跟进取代" in response.content.decode()
    assert Activity.objects.filter(lead=district.lead).count() == 2


def test_reschedule_from_the_desk_moves_the_plan(district):
    # given
    plan = planned(district, due=at(hours=-3))
    new = timezone.localtime(at(days=1))

    # when
    response = district.client("promoter").post(
        reverse("web:plan_reschedule", args=[plan.pk]),
        {"due_at": new.strftime(LOCAL)},
        HTTP_HX_REQUEST="true",
    )

    # then: the row, no longer overdue
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="plan-{plan.pk}" class="plan"' in html
    assert "已改期" in html
    plan.refresh_from_db()
    assert plan.next_follow_up_at == new


def test_reschedule_into_the_past_answers_400_in_the_row(district):
    # given
    plan = planned(district, due=at(hours=-3))

    # when
    response = district.client("promoter").post(
        reverse("web:plan_reschedule", args=[plan.pk]),
        {"due_at": timezone.localtime(at(days=-1)).strftime(LOCAL)},
        HTTP_HX_REQUEST="true",
    )

    # then
    assert response.status_code == 400
    assert "新的跟进时间不能早于现在" in response.content.decode()
    plan.refresh_from_db()
    assert plan.next_follow_up_at == at(hours=-3)


def test_a_street_officer_sees_the_plans_of_the_street_but_no_buttons(district):
    # given
    plan = planned(district, due=at(days=-1))

    # when
    officer = district.client("street_officer")
    html = officer.get(reverse("web:desk")).content.decode()

    # then
    assert f'id="plan-{plan.pk}"' in html
    assert reverse("web:plan_done", args=[plan.pk]) not in html
    assert officer.post(reverse("web:plan_done", args=[plan.pk])).status_code == 403


def test_another_promoter_cannot_complete_the_plan(district):
    # given
    plan = planned(district, due=at(days=-1))

    # when
    response = district.client("other_promoter").post(reverse("web:plan_done", args=[plan.pk]))

    # then: not theirs to see
    assert response.status_code == 404
    assert Activity.objects.filter(lead=district.lead).count() == 1


def test_the_api_exposes_the_planned_kind_and_assignee(district):
    # given
    plan = planned(district, due=at(days=1), kind=ActivityKind.MEETING)

    # when
    response = district.client("promoter").get(f"/api/v1/leads/{district.lead.pk}/activities/")

    # then
    row = response.json()["results"][0]
    assert row["id"] == plan.pk
    assert (row["next_kind"], row["next_assignee"]) == ("meeting", None)


def test_the_api_plans_an_activity_for_an_assignee(district):
    # when
    response = district.client("promoter").post(
        f"/api/v1/leads/{district.lead.pk}/activities/",
        {
            "kind": "call",
            "occurred_at": at(hours=-1).isoformat(),
            "next_follow_up_at": at(days=2).isoformat(),
            "next_kind": "visit",
            "next_assignee": district.promoter.pk,
        },
        content_type="application/json",
    )

    # then
    assert response.status_code == 201, response.content
    assert (response.json()["next_kind"], response.json()["next_assignee"]) == ("visit", "promoter")

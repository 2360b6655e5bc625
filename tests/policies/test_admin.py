"""The policies admin: a bad condition or benefit is shown on the form and nothing is stored; a good policy is
stored through the services; packages are approved by action; the what-if calculator answers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from crm.constants import Role
from policies.engine import BenefitKind
from policies.models import ApprovalStatus, Benefit, Policy
from policies.services import case_by_case_propose, policy_create
from tests.factories import BuildingFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client):
    user = get_user_model().objects.create_superuser("office", "office@example.com", "pass-word-123")
    client.force_login(user)
    return user


def _form(**overrides) -> dict:
    data = {
        "name": "入驻房租补贴",
        "description": "",
        "active": "on",
        "priority": "0",
        "stacking_group": "",
        "scope": "district",
        "valid_from": "2026-01-01",
        "valid_to": "",
        "condition": "area_m2 >= 100",
        "benefits-TOTAL_FORMS": "1",
        "benefits-INITIAL_FORMS": "0",
        "benefits-MIN_NUM_FORMS": "0",
        "benefits-MAX_NUM_FORMS": "1000",
        "benefits-0-kind": "rent_subsidy",
        "benefits-0-percent": "50",
        "benefits-0-months": "6",
    }
    data.update(overrides)
    return data


def test_a_policy_added_in_the_admin_is_stored_with_its_benefit_and_author(client, office):
    response = client.post(reverse("admin:policies_policy_add"), _form())

    assert response.status_code == 302, response.content.decode()[:2000]
    policy = Policy.objects.get()
    assert list(policy.benefits.values_list("kind", "percent", "months")) == [
        ("rent_subsidy", Decimal("50.00"), 6)
    ]
    assert policy.history.get().history_user == office


def test_a_bad_condition_is_shown_on_the_form_and_nothing_is_stored(client, office):
    response = client.post(reverse("admin:policies_policy_add"), _form(condition="expected_anual_tax >= 5"))

    assert response.status_code == 200
    assert "unknown field &#x27;expected_anual_tax&#x27;" in response.content.decode()
    assert not Policy.objects.exists() and not Benefit.objects.exists()


def test_a_benefit_over_100_percent_of_rent_is_shown_on_the_form(client, office):
    response = client.post(reverse("admin:policies_policy_add"), _form(**{"benefits-0-percent": "120"}))

    assert response.status_code == 200
    assert "cannot exceed 100%" in response.content.decode()
    assert not Policy.objects.exists()


def test_a_policy_needs_a_benefit_in_the_admin(client, office):
    data = _form(**{"benefits-0-kind": "", "benefits-0-percent": "", "benefits-0-months": ""})

    response = client.post(reverse("admin:policies_policy_add"), data)

    assert response.status_code == 200
    assert "a policy needs at least one benefit" in response.content.decode()
    assert not Policy.objects.exists()


def test_the_approve_action_approves_a_pending_package(client, office):
    # given a package proposed by the lead's promoter
    lead = LeadFactory(case_by_case=True)
    package = case_by_case_propose(
        lead=lead,
        building=BuildingFactory(),
        name="一事一议",
        benefits=[{"kind": BenefitKind.ONE_OFF_AWARD, "amount_yuan": 1_000_000}],
        valid_from=dt.date(2026, 1, 1),
        by=lead.owner.user,
    )

    # when
    response = client.post(
        reverse("admin:policies_policy_changelist"),
        {"action": "approve", "_selected_action": [package.pk], "note": "同意"},
    )

    # then
    assert response.status_code == 302
    package.refresh_from_db()
    assert (package.approval_status, package.reviewed_by, package.review_note) == (
        ApprovalStatus.APPROVED,
        office,
        "同意",
    )


def test_the_what_if_calculator_shows_amounts_and_reasons(client, office):
    # given a rent subsidy for everyone and an award for 5,000,000 of tax
    building = BuildingFactory(rent_min=Decimal("2.8"), rent_max=Decimal("2.8"))
    policy_create(
        name="房租补贴",
        valid_from=dt.date(2026, 1, 1),
        benefits=[{"kind": BenefitKind.RENT_SUBSIDY, "percent": 50, "months": 6}],
    )
    policy_create(
        name="纳税大户奖励",
        valid_from=dt.date(2026, 1, 1),
        condition="expected_annual_tax >= 5000000",
        benefits=[{"kind": BenefitKind.ONE_OFF_AWARD, "amount_yuan": 100_000}],
    )

    # when a company of 3,000,000 tax asks about 300 m²
    response = client.get(
        reverse("admin:policies_policy_what_if"),
        {
            "building": building.pk,
            "industry_code": "J",
            "expected_annual_tax": "3000000",
            "area_m2": "300",
            "on": "2026-03-01",
        },
    )

    # then 300 × 2.8 × 365 × 50% × 6/12 = 76,650, and why the award does not apply
    page = response.content.decode()
    assert response.status_code == 200
    assert "300 m² × 2.8 yuan/m²/day × 365 × 50% × 6/12 = 76,650" in page
    assert "expected annual tax 3,000,000 &lt; required 5,000,000" in page


def test_the_what_if_calculator_refuses_an_unknown_industry(client, office):
    building = BuildingFactory()

    response = client.get(
        reverse("admin:policies_policy_what_if"),
        {"building": building.pk, "industry_code": "ZZ", "area_m2": "300"},
    )

    assert "unknown industry code ZZ" in response.content.decode()


def test_a_promoter_reads_policies_and_uses_the_what_if_but_cannot_write_policies(client):
    # promoters quote incentives to companies, so they read policies; the office writes them
    client.force_login(UserFactory(role=Role.PROMOTER, is_staff=True))

    assert client.get(reverse("admin:policies_policy_what_if")).status_code == 200
    assert client.get(reverse("admin:policies_policy_changelist")).status_code == 200
    assert client.get(reverse("admin:policies_policy_add")).status_code == 403

"""Case-by-case packages (一事一议): proposed for a flagged lead and a building, in force only once a district
admin approves; who proposed and who approved is recorded."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.constants import Role
from policies.adapter import profile_from_lead
from policies.engine import BenefitKind, Offer
from policies.models import ApprovalStatus, Policy
from policies.services import (
    case_by_case_propose,
    policy_approve,
    policy_reject,
    policy_update,
    policy_what_if,
)
from tests.factories import BuildingFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 3, 1)
AWARD = [{"kind": BenefitKind.ONE_OFF_AWARD, "amount_yuan": 2_000_000}]


@pytest.fixture
def setting():
    building = BuildingFactory(rent_min=Decimal("2.50"), rent_max=Decimal("3.10"))
    lead = LeadFactory(case_by_case=True, expected_annual_tax=Decimal("30000000"))
    promoter = lead.owner.user
    admin = UserFactory(role=Role.DISTRICT_ADMIN)
    return building, lead, promoter, admin


def _propose(lead, building, by):
    return case_by_case_propose(
        lead=lead,
        building=building,
        name="一事一议:总部落户",
        benefits=AWARD,
        valid_from=dt.date(2026, 1, 1),
        by=by,
    )


def _what_if(lead, building):
    return policy_what_if(
        profile=profile_from_lead(lead), building=building, offer=Offer(area_m2=1000, on=ON)
    )


def test_a_proposal_waits_for_approval_and_pays_nothing_yet(setting):
    building, lead, promoter, _ = setting

    package = _propose(lead, building, promoter)

    assert (package.approval_status, package.proposed_by, package.lead) == (
        ApprovalStatus.PENDING,
        promoter,
        lead,
    )
    assert package.proposed_at is not None
    result = _what_if(lead, building)
    assert result.total == Decimal("0.00")
    assert result.ineligible[0].reason_en == "case-by-case terms await approval"


def test_a_lead_not_flagged_case_by_case_cannot_get_a_package(setting):
    building, _, promoter, _ = setting
    ordinary = LeadFactory(case_by_case=False)

    with pytest.raises(ValidationError) as error:
        _propose(ordinary, building, promoter)

    assert f"lead {ordinary.ref} is not flagged case-by-case" in " ".join(error.value.message_dict["lead"])
    assert not Policy.objects.exists()


def test_a_district_admin_approves_and_both_names_are_recorded(setting):
    # given a pending package proposed by the lead's promoter
    building, lead, promoter, admin = setting
    package = _propose(lead, building, promoter)

    # when
    approved = policy_approve(policy=package, by=admin, note="会议通过")

    # then
    approved.refresh_from_db()
    assert (approved.approval_status, approved.proposed_by, approved.reviewed_by) == (
        ApprovalStatus.APPROVED,
        promoter,
        admin,
    )
    assert approved.reviewed_at is not None and approved.review_note == "会议通过"
    assert approved.history.first().history_user == admin


def test_an_approved_package_applies_to_its_lead_in_its_building_only(setting):
    building, lead, promoter, admin = setting
    policy_approve(policy=_propose(lead, building, promoter), by=admin)
    other_lead = LeadFactory(case_by_case=True)

    assert _what_if(lead, building).total == Decimal("2000000.00")
    assert _what_if(other_lead, building).total == Decimal("0.00")
    assert _what_if(lead, BuildingFactory(street=building.street)).total == Decimal("0.00")


def test_a_promoter_cannot_approve(setting):
    building, lead, promoter, _ = setting
    package = _propose(lead, building, promoter)

    with pytest.raises(ValidationError) as error:
        policy_approve(policy=package, by=UserFactory(role=Role.PROMOTER))

    assert "only a district admin can review" in " ".join(error.value.messages)
    package.refresh_from_db()
    assert package.approval_status == ApprovalStatus.PENDING


def test_the_proposer_cannot_approve_their_own_proposal(setting):
    building, lead, _, admin = setting
    package = _propose(lead, building, admin)

    with pytest.raises(ValidationError) as error:
        policy_approve(policy=package, by=admin)

    assert "the proposer cannot review their own proposal" in " ".join(error.value.messages)


def test_a_rejection_needs_a_reason_and_is_recorded(setting):
    building, lead, promoter, admin = setting
    package = _propose(lead, building, promoter)

    with pytest.raises(ValidationError):
        policy_reject(policy=package, by=admin, note=" ")
    rejected = policy_reject(policy=package, by=admin, note="超出财力")

    assert (rejected.approval_status, rejected.reviewed_by, rejected.review_note) == (
        ApprovalStatus.REJECTED,
        admin,
        "超出财力",
    )
    assert _what_if(lead, building).total == Decimal("0.00")


def test_an_approved_package_cannot_be_approved_twice(setting):
    building, lead, promoter, admin = setting
    package = policy_approve(policy=_propose(lead, building, promoter), by=admin)

    with pytest.raises(ValidationError) as error:
        policy_approve(policy=package, by=UserFactory(role=Role.DISTRICT_ADMIN))

    assert "only a pending policy can be reviewed" in " ".join(error.value.messages)


def test_changing_the_terms_of_an_approved_package_sends_it_back_for_approval(setting):
    # given an approved package
    building, lead, promoter, admin = setting
    package = policy_approve(policy=_propose(lead, building, promoter), by=admin)

    # when its award is raised
    policy_update(policy=package, benefits=[{"kind": BenefitKind.ONE_OFF_AWARD, "amount_yuan": 3_000_000}])

    # then it pays nothing until approved again
    package.refresh_from_db()
    assert (package.approval_status, package.reviewed_by) == (ApprovalStatus.PENDING, None)
    assert _what_if(lead, building).total == Decimal("0.00")


def test_renaming_an_approved_package_keeps_its_approval(setting):
    building, lead, promoter, admin = setting
    package = policy_approve(policy=_propose(lead, building, promoter), by=admin)

    policy_update(policy=package, name="一事一议:总部落户(更名)", benefits=AWARD)

    package.refresh_from_db()
    assert package.approval_status == ApprovalStatus.APPROVED

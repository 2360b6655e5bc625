"""One 撞单 rule for promoters, agencies and imports: whoever's open lead holds a company holds it for
LEAD_PROTECTION_DAYS from its last activity; a lapsed lead is taken over; the office reassigns with a
reason."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from crm.api.referrals import ReferralClaimedEarlier, lead_referral_submit
from crm.constants import LeadChannel, LeadStage, Role
from crm.models import Lead
from crm.services.leads import lead_create, lead_reassign, lead_update
from tests.factories import AgencyFactory, PromoterFactory, UserFactory, make_credit_code

pytestmark = pytest.mark.django_db

CODE = make_credit_code(4242)


def _idle(lead: Lead, days: int) -> None:
    Lead.objects.filter(pk=lead.pk).update(last_activity_at=timezone.now() - dt.timedelta(days=days))


def _messages(exc, field: str) -> str:
    return " ".join(exc.value.message_dict[field])


def test_an_agency_claim_protects_the_company_from_a_promoter():
    claim = lead_referral_submit(agency=AgencyFactory(), company_name="甲科技有限公司", credit_code=CODE)

    with pytest.raises(ValidationError) as exc:
        lead_create(
            company_name="甲科技(绍兴)有限公司",
            credit_code=CODE,
            channel="department",
            owner=PromoterFactory(),
        )

    message = _messages(exc, "credit_code")
    assert "claimed by an agency" in message and claim.ref in message
    assert claim.agency.name not in message  # never whose claim


def test_a_promoter_lead_protects_the_company_from_an_agency_for_the_same_period():
    lead = lead_create(company_name="乙公司", credit_code=CODE, channel="department", owner=PromoterFactory())
    _idle(lead, 89)

    with pytest.raises(ReferralClaimedEarlier):
        lead_referral_submit(agency=AgencyFactory(), company_name="乙公司")


@override_settings(LEAD_PROTECTION_DAYS=90)
def test_after_the_protection_an_agency_gets_in_like_a_promoter_and_takes_the_lead_over():
    # given a promoter's lead idle for 215 days
    stale = lead_create(
        company_name="丙公司", credit_code=CODE, channel="department", owner=PromoterFactory()
    )
    _idle(stale, 215)

    claim = lead_referral_submit(agency=AgencyFactory(), company_name="丙公司", credit_code=CODE)

    # then the company is open once: the stale lead is lost to the new claim, with the reason logged
    stale.refresh_from_db()
    assert stale.stage == LeadStage.LOST
    assert claim.ref in stale.lost_reason
    assert stale.stage_changes.get(to_stage=LeadStage.LOST).reason == stale.lost_reason
    assert list(Lead.objects.filter(credit_code=CODE, stage=LeadStage.NEW)) == [claim]


@override_settings(LEAD_PROTECTION_DAYS=90)
def test_an_agency_claim_idle_past_the_period_is_taken_over_by_a_promoter_like_any_lead():
    # given an agency's claim idle for 91 days, and a second one idle for 89 days on another company
    lapsed = lead_referral_submit(agency=AgencyFactory(), company_name="壬公司", credit_code=CODE)
    held = lead_referral_submit(agency=AgencyFactory(), company_name="癸公司")
    _idle(lapsed, 91)
    _idle(held, 89)

    # when a promoter registers both companies
    taken = lead_create(
        company_name="壬公司", credit_code=CODE, channel="department", owner=PromoterFactory()
    )
    with pytest.raises(ValidationError) as exc:
        lead_create(company_name="癸公司", channel="department", owner=PromoterFactory())

    # then the 91-day claim is lost to the promoter's lead; the 89-day one still holds its company,
    # protected until 89 days ago + 90 days = tomorrow
    lapsed.refresh_from_db()
    assert (lapsed.stage, taken.ref in lapsed.lost_reason) == (LeadStage.LOST, True)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert f"protected until {tomorrow:%Y-%m-%d}" in _messages(exc, "company_name")


def test_reopening_a_lost_lead_is_refused_while_another_lead_holds_the_company():
    # given the owner lost a lead, and since then the company was registered again by someone else
    from crm.services.leads import lead_transition

    owner = PromoterFactory()
    old = lead_create(company_name="子公司", channel=LeadChannel.DEPARTMENT, owner=owner)
    lead_transition(lead=old, to_stage=LeadStage.LOST, reason="暂缓选址")
    new = lead_create(company_name="子公司", channel=LeadChannel.DEPARTMENT, owner=PromoterFactory())

    # when the owner reopens the old lead (lost → contacted)
    with pytest.raises(ValidationError) as exc:
        lead_transition(lead=Lead.objects.get(pk=old.pk), to_stage=LeadStage.CONTACTED)

    # then the company stays once in the open pipeline: the new lead holds it
    assert new.ref in _messages(exc, "company_name")
    assert Lead.objects.get(pk=old.pk).stage == LeadStage.LOST


def test_the_office_assigns_an_agency_lead_even_when_a_promoter_had_the_company_before():
    claim = lead_referral_submit(agency=AgencyFactory(), company_name="丁公司", credit_code=CODE)
    promoter = PromoterFactory()

    # the promoter cannot register it (the claim holds it), so the office assigns the claim instead
    with pytest.raises(ValidationError):
        lead_create(company_name="丁公司", channel="department", owner=promoter)
    assigned = lead_update(lead=claim, owner=promoter)

    assert assigned.owner == promoter


def test_the_office_reassigns_with_a_reason_and_it_is_audited():
    first, second = PromoterFactory(), PromoterFactory()
    lead = lead_create(company_name="戊公司", channel=LeadChannel.DEPARTMENT, owner=first)
    admin = UserFactory(role=Role.DISTRICT_ADMIN)

    with pytest.raises(ValidationError) as exc:
        lead_update(lead=lead, owner=second)
    assert "reason" in _messages(exc, "owner")
    with pytest.raises(ValidationError) as exc:
        lead_reassign(lead=lead, owner=second, reason=" ", by=admin)
    assert "needs a reason" in _messages(exc, "reason")
    with pytest.raises(ValidationError) as exc:
        lead_reassign(lead=lead, owner=second, reason="调岗", by=first.user)
    assert "only the district office" in _messages(exc, "owner")

    lead = lead_reassign(lead=lead, owner=second, reason="原负责人调岗", by=admin)

    assert Lead.objects.get(pk=lead.pk).owner == second
    record = lead.history.first()
    assert (record.owner_id, record.history_user, record.history_change_reason) == (
        second.pk,
        admin,
        "改派 / reassigned: 原负责人调岗",
    )


IMPORT_HEADER = "ref,company_name,channel,stage,lost_reason,created_at"


def _leads_file(tmp_path, *rows: str):
    directory = tmp_path / "leads"
    directory.mkdir()
    (directory / "leads.csv").write_text("\n".join([IMPORT_HEADER, *rows]) + "\n", encoding="utf-8")
    return directory


def test_an_import_keeps_the_same_rule(tmp_path):
    from crm.district_io import DistrictImportError, district_import

    held = lead_create(company_name="己科技有限公司", channel="department", owner=PromoterFactory())
    # given a file with the company held in the database, one company twice, and a lost duplicate
    source = _leads_file(
        tmp_path,
        "M1,己科技有限公司,department,new,,2024-01-01",
        "M2,庚公司,department,new,,2024-01-01",
        "M3,庚公司,department,contacted,,2024-01-02",
        "M4,庚公司,department,lost,重复登记,2024-01-03",
    )

    with pytest.raises(DistrictImportError) as raised:
        district_import(source=source)

    errors = [(e.line, e.column, e.message) for e in raised.value.row_errors]
    assert [(line, column) for line, column, _ in errors] == [(2, "company_name"), (4, "company_name")]
    assert held.ref in errors[0][2] and "M2" in errors[1][2]
    assert not Lead.objects.filter(ref__startswith="M").exists()


def test_the_office_reassigns_through_the_api_and_the_lead_page():
    from rest_framework.test import APIClient

    first, second, third = PromoterFactory(), PromoterFactory(), PromoterFactory()
    lead = lead_create(company_name="辛公司", channel=LeadChannel.DEPARTMENT, owner=first)
    admin = APIClient()
    admin.force_login(UserFactory(role=Role.DISTRICT_ADMIN))
    promoter = APIClient()
    promoter.force_login(first.user)

    assert admin.post(
        f"/api/v1/leads/{lead.pk}/reassign/", {"owner": second.user.username}
    ).json().keys() == {"reason"}
    refused = promoter.post(
        f"/api/v1/leads/{lead.pk}/reassign/", {"owner": second.user.username, "reason": "x"}
    )
    assert refused.status_code == 403
    done = admin.post(f"/api/v1/leads/{lead.pk}/reassign/", {"owner": second.user.username, "reason": "调岗"})
    assert (done.status_code, done.json()["owner"]) == (200, second.user.username)

    page = admin.get(f"/leads/{lead.pk}/").content.decode()
    assert f"/leads/{lead.pk}/reassign/" in page
    admin.post(f"/leads/{lead.pk}/reassign/", {"owner": third.pk, "reason": "再次调整"})
    assert Lead.objects.get(pk=lead.pk).owner == third
    assert lead.history.first().history_change_reason == "改派 / reassigned: 再次调整"

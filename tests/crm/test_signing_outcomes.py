"""Verified outcomes: a signing settles on the district's records or an admin's recorded override, and a
signing that fell through is cancelled with a reason, releasing its units and leaving the totals."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from crm.constants import LeadStage, Role, UnitStatus
from crm.models import Enterprise, Lead, Signing, StageChange, Unit
from crm.services.signings import signing_cancel, signing_complete, signing_settle
from policies.models import Commitment, CommitmentLine
from policies.selectors import commitments_by_year
from tests.factories import (
    BuildingFactory,
    LeadFactory,
    PromoterFactory,
    TaxRecordFactory,
    UnitFactory,
    UserFactory,
    make_credit_code,
)

pytestmark = pytest.mark.django_db


def _signed(n: int, *, start: dt.date | None = None, owner=None):
    building = BuildingFactory()
    unit = UnitFactory(building=building, area_m2=Decimal("120"))
    lead = LeadFactory(
        stage=LeadStage.NEGOTIATING, credit_code=make_credit_code(700 + n), owner=owner or PromoterFactory()
    )
    signing = signing_complete(
        lead=lead, building=building, units=[unit], signed_on=start or dt.date(2026, 3, 1), start=start
    )
    return signing, unit


def _errors(exc) -> dict[str, str]:
    return {field: " ".join(messages) for field, messages in exc.value.message_dict.items()}


def test_settling_needs_registration_and_a_tax_record_from_the_tenancy_start_on():
    # given a signing of a lead that intends to register here: the intention is not the record, so
    # its new enterprise is not yet registered in the district
    signing, _ = _signed(1, start=dt.date(2026, 3, 10))
    enterprise = signing.enterprise
    assert enterprise.registered_in_district is False
    # A record from before the move (February) proves nothing about this signing.
    TaxRecordFactory(enterprise=enterprise, year=2026, month=2, amount_yuan=Decimal("5000"))

    with pytest.raises(ValidationError) as exc:
        signing_settle(signing=signing)

    message = _errors(exc)["settled"]
    assert "not registered in the district" in message and "no tax record since 2026-03" in message
    signing.refresh_from_db()
    assert signing.settled_at is None
    assert Lead.objects.get(pk=signing.lead_id).stage == LeadStage.SIGNED

    # when the records arrive: registered, and March's tax
    Enterprise.objects.filter(pk=enterprise.pk).update(registered_in_district=True)
    TaxRecordFactory(enterprise=enterprise, year=2026, month=3, amount_yuan=Decimal("8000"))
    signing = signing_settle(signing=signing)

    assert signing.settled_at is not None and signing.settle_override_reason == ""
    assert Lead.objects.get(pk=signing.lead_id).stage == LeadStage.SETTLED
    assert signing.history.first().settled_at == signing.settled_at  # audited


def test_a_yearly_total_counts_as_december_of_its_year():
    signing, _ = _signed(2, start=dt.date(2025, 6, 1))
    Enterprise.objects.filter(pk=signing.enterprise_id).update(registered_in_district=True)
    TaxRecordFactory(enterprise=signing.enterprise, year=2025, month=None)

    assert signing_settle(signing=signing).settled_at is not None


def test_only_a_district_admin_may_override_and_the_reason_is_kept():
    signing, _ = _signed(3)
    promoter_user = Lead.objects.get(pk=signing.lead_id).owner.user

    with pytest.raises(ValidationError) as exc:
        signing_settle(signing=signing, by=promoter_user, override_reason="企业说已经注册")
    assert "only the district office" in _errors(exc)["override_reason"]

    admin = UserFactory(role=Role.DISTRICT_ADMIN)
    signing = signing_settle(signing=signing, by=admin, override_reason="税务迁入办理中,合同已核")

    assert (signing.settled_by, signing.settle_override_reason) == (admin, "税务迁入办理中,合同已核")
    change = StageChange.objects.get(lead_id=signing.lead_id, to_stage=LeadStage.SETTLED)
    assert (change.changed_by, change.reason) == (admin, "税务迁入办理中,合同已核")


def test_the_settled_stage_is_no_longer_a_click():
    from crm.services.leads import lead_transition

    signing, _ = _signed(4)

    with pytest.raises(ValidationError) as exc:
        lead_transition(lead=signing.lead, to_stage=LeadStage.SETTLED)
    assert "verified" in _errors(exc)["stage"]
    with pytest.raises(ValidationError):
        lead_transition(lead=signing.lead, to_stage=LeadStage.LOST, reason="不来了")


def test_cancelling_releases_the_units_loses_the_lead_and_reverses_the_commitment():
    # given a signing whose tenancy began a month ago, and a promise recorded for it
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    signing, unit = _signed(5, start=yesterday - dt.timedelta(days=30))
    other, _ = _signed(6)
    for s, amount in ((signing, "70000"), (other, "30000")):
        c = Commitment.objects.get(signing=s)
        CommitmentLine.objects.create(
            commitment=c,
            policy_name="租金补贴",
            benefit_kind=c.lines.model._meta.get_field("benefit_kind").choices[0][0],
            beneficiary="enterprise",
            year_index=1,
            year=2026,
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 12, 31),
            amount_yuan=Decimal(amount),
        )
    assert {r["year"]: r["total"] for r in commitments_by_year()}[2026] >= Decimal("100000")
    before = {r["year"]: r["total"] for r in commitments_by_year()}[2026]
    admin = UserFactory(role=Role.DISTRICT_ADMIN)

    signing = signing_cancel(signing=signing, by=admin, reason="企业改选外区")

    assert (signing.cancelled_by, signing.cancel_reason, signing.status) == (
        admin,
        "企业改选外区",
        "cancelled",
    )
    tenancy = signing.tenancy
    tenancy.refresh_from_db()
    assert tenancy.end == yesterday  # it ends the day before the cancellation
    assert Unit.objects.get(pk=unit.pk).status == UnitStatus.VACANT
    lead = Lead.objects.get(pk=signing.lead_id)
    assert (lead.stage, lead.lost_reason) == (LeadStage.LOST, "签约取消:企业改选外区")
    # the 70,000 promised to the cancelled signing leaves the total; its rows stay as the audit
    assert {r["year"]: r["total"] for r in commitments_by_year()}[2026] == before - Decimal("70000")
    assert CommitmentLine.objects.filter(commitment__signing=signing).exists()


def test_a_signing_not_yet_begun_gives_its_units_back_for_the_same_day():
    start = timezone.localdate() + dt.timedelta(days=10)
    signing, unit = _signed(7, start=start)
    admin = UserFactory(role=Role.DISTRICT_ADMIN)

    signing_cancel(signing=signing, by=admin, reason="合同未生效")

    assert Unit.objects.get(pk=unit.pk).status == UnitStatus.VACANT
    lead = LeadFactory(stage=LeadStage.NEGOTIATING, credit_code=make_credit_code(777))
    again = signing_complete(lead=lead, building=unit.building, units=[unit], signed_on=start, start=start)
    assert again.tenancy.start == start


def test_cancelling_needs_an_admin_and_a_reason():
    signing, _ = _signed(8)
    admin = UserFactory(role=Role.DISTRICT_ADMIN)

    with pytest.raises(ValidationError) as exc:
        signing_cancel(signing=signing, by=signing.lead.owner.user, reason="不来了")
    assert "only the district office" in _errors(exc)["reason"]
    with pytest.raises(ValidationError) as exc:
        signing_cancel(signing=signing, by=admin, reason="  ")
    assert "needs a reason" in _errors(exc)["reason"]
    signing_cancel(signing=signing, by=admin, reason="不来了")
    with pytest.raises(ValidationError) as exc:
        signing_cancel(signing=signing, by=admin, reason="再取消一次")
    assert "was cancelled" in _errors(exc)["signing"]
    assert Signing.objects.get(pk=signing.pk).cancel_reason == "不来了"


def test_a_district_admin_cancels_a_settled_signing_and_its_results_are_reversed():
    # given a signing settled on 15 April 2026 (Q2), its tenancy begun on 1 March 2026
    from crm.services.appraisal import Period, promoter_metrics

    signing, unit = _signed(11, start=dt.date(2026, 3, 1))
    promoter = signing.lead.owner
    admin = UserFactory(role=Role.DISTRICT_ADMIN)
    settled_at = timezone.make_aware(dt.datetime(2026, 4, 15, 10))
    signing_settle(signing=signing, by=admin, override_reason="合同已核", at=settled_at)
    q2 = Period.of("quarter", dt.date(2026, 4, 1))
    assert promoter_metrics(q2)[promoter.pk]["signings"] == 1
    with pytest.raises(ValidationError) as exc:
        signing_cancel(signing=signing, by=promoter.user, reason="企业迁出")
    assert "only the district office" in _errors(exc)["reason"]

    # when the district admin cancels it: the company left
    signing = signing_cancel(signing=signing, by=admin, reason="企业迁出")

    # then it is cancelled, not settled, the lead is lost, the unit vacant again, Q2 counts no result
    signing.refresh_from_db()
    assert (signing.status, signing.settled_at, signing.settle_override_reason) == ("cancelled", None, "")
    lead = Lead.objects.get(pk=signing.lead_id)
    assert (lead.stage, lead.lost_reason) == (LeadStage.LOST, "已入驻签约取消:企业迁出")
    change = StageChange.objects.get(lead=lead, from_stage=LeadStage.SETTLED)
    assert (change.to_stage, change.changed_by) == (LeadStage.LOST, admin)
    assert Unit.objects.get(pk=unit.pk).status == UnitStatus.VACANT
    assert promoter_metrics(q2).get(promoter.pk, {}).get("signings", 0) == 0
    # audited: the history keeps that it had been settled, by whom and why
    before = signing.history.all()[1]
    assert (before.settled_at, before.settled_by, before.settle_override_reason) == (
        settled_at,
        admin,
        "合同已核",
    )


def test_the_api_settles_overrides_and_cancels_with_field_level_errors():
    owner = PromoterFactory()
    signing, _ = _signed(9, owner=owner)
    base = f"/api/v1/leads/{signing.lead_id}/signing/{signing.pk}"
    promoter = APIClient()
    promoter.force_login(owner.user)
    admin = APIClient()
    admin.force_login(UserFactory(role=Role.DISTRICT_ADMIN))

    refused = promoter.post(f"{base}/settle/", {}, format="json")
    assert refused.status_code == 400
    assert "尚未登记为区内注册" in " ".join(refused.json()["settled"])
    assert "尚无税收记录" in " ".join(refused.json()["settled"])
    assert promoter.post(f"{base}/cancel/", {"reason": "x"}, format="json").status_code == 403
    assert admin.post(f"{base}/cancel/", {}, format="json").json().keys() == {"reason"}

    settled = admin.post(f"{base}/settle/", {"override_reason": "合同已核"}, format="json")
    assert settled.status_code == 200
    body = settled.json()
    assert (body["status"], body["settle_override_reason"]) == ("settled", "合同已核")
    listed = promoter.get(f"/api/v1/leads/{signing.lead_id}/signing/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows[0]["status"] == "settled"


def test_the_lead_page_offers_settle_to_workers_and_cancel_to_the_admin():
    owner = PromoterFactory()
    signing, unit = _signed(10, owner=owner)
    page = f"/leads/{signing.lead_id}/"
    promoter = APIClient()
    promoter.force_login(owner.user)
    admin = APIClient()
    admin.force_login(UserFactory(role=Role.DISTRICT_ADMIN))

    html = promoter.get(page).content.decode()
    assert f"/leads/{signing.lead_id}/signing/{signing.pk}/settle/" in html
    assert "/cancel/" not in html
    assert "尚无税收记录" in html  # what the records still lack

    html = admin.get(page).content.decode()
    assert f"/leads/{signing.lead_id}/signing/{signing.pk}/cancel/" in html
    response = admin.post(f"/leads/{signing.lead_id}/signing/{signing.pk}/cancel/", {"reason": "企业放弃"})
    assert response.status_code == 302
    assert Signing.objects.get(pk=signing.pk).cancel_reason == "企业放弃"
    assert Unit.objects.get(pk=unit.pk).status == UnitStatus.VACANT


def test_the_lead_page_offers_the_admin_to_cancel_a_settled_signing():
    # given a settled signing
    signing, _ = _signed(12)
    admin_user = UserFactory(role=Role.DISTRICT_ADMIN)
    signing_settle(signing=signing, by=admin_user, override_reason="合同已核")
    admin = APIClient()
    admin.force_login(admin_user)

    # when the admin opens the lead page
    html = admin.get(f"/leads/{signing.lead_id}/").content.decode()

    # then it offers cancelling, not settling again nor a stage move
    assert f"/leads/{signing.lead_id}/signing/{signing.pk}/cancel/" in html
    assert f"/signing/{signing.pk}/settle/" not in html
    assert f"/leads/{signing.lead_id}/stage/" not in html


def test_cancelling_a_settled_signing_recomputes_the_month_it_had_been_verified_in():
    # given a signing settled on 15 April 2026 and April's stored appraisal counting it
    from crm.models import AppraisalSnapshot
    from crm.services import dispatch
    from crm.services.appraisal import appraisal_compute
    from workers.tasks import appraisal_for_signing

    signing, _ = _signed(13, start=dt.date(2026, 3, 1))
    admin = UserFactory(role=Role.DISTRICT_ADMIN)
    verified = timezone.make_aware(dt.datetime(2026, 4, 15))
    signing_settle(signing=signing, by=admin, override_reason="合同已核", at=verified)
    appraisal_compute(period_kind="month", period_start=dt.date(2026, 4, 1))
    april = AppraisalSnapshot.objects.filter(
        period_kind="month", period_start=dt.date(2026, 4, 1), promoter=signing.lead.owner
    )
    assert april.get().signings == 1
    events = []
    previous = dispatch.dispatcher_register(lambda event, **payload: events.append((event, payload)))

    # when it is cancelled, and the task runs on what the cancellation dispatched
    try:
        signing_cancel(signing=signing, by=admin, reason="企业迁出")
    finally:
        dispatch.dispatcher_register(previous)
    signed = [payload for event, payload in events if event == dispatch.SIGNING_COMPLETED]
    assert signed == [{"signing_id": signing.pk, "unsettled_on": "2026-04-15"}]
    appraisal_for_signing(**signed[0])

    # then April counts it no more
    assert april.get().signings == 0

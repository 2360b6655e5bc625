"""The leaderboard and a promoter's detail read the same figures; the street assessment recomputes on
request as the appraisal does."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from crm.constants import LeadStage, Role
from crm.models import AppraisalSnapshot, StreetAssessmentSnapshot
from crm.models.appraisal import PeriodKind
from crm.services.appraisal import Period, appraisal_compute, promoter_target_set
from crm.services.signings import signing_complete, signing_settle
from tests.factories import LeadFactory, UnitFactory, UserFactory, make_credit_code

pytestmark = pytest.mark.django_db


def _signed(district, *, area: str, signed_on: dt.date, number: str, code: int):
    lead = LeadFactory(
        owner=district.promoter,
        stage=LeadStage.NEGOTIATING,
        credit_code=make_credit_code(code),
        expected_annual_tax=Decimal("400000"),
    )
    unit = UnitFactory(building=district.building, floor=8, number=number, area_m2=Decimal(area))
    return signing_complete(lead=lead, building=district.building, units=[unit], signed_on=signed_on)


@pytest.fixture
def month(district):
    """张招商's month: one signing of 472 m² verified in it (by the office's override), one of 128 m²
    signed in it and still waiting; a signings target of 2 (weight 20 alone: 50 points)."""
    today = timezone.localdate()
    period = Period.containing(PeriodKind.MONTH, today)
    admin = UserFactory(role=Role.DISTRICT_ADMIN)
    verified = _signed(district, area="472", signed_on=period.start, number="801", code=810001)
    signing_settle(
        signing=verified,
        by=admin,
        override_reason="合同与税务登记已核对",
        at=timezone.make_aware(dt.datetime.combine(period.start, dt.time(15))),
    )
    _signed(district, area="128", signed_on=period.start, number="802", code=810002)
    promoter_target_set(
        promoter=district.promoter, period_kind=period.kind, period_start=period.start, signings=2
    )
    appraisal_compute(period_kind=period.kind, period_start=period.start)
    return period


def _cells(body: str, promoter_name: str) -> dict[str, str]:
    row = next(r for r in body.split("<tr>") if promoter_name in r)
    return dict(re.findall(r'data-metric="(\w+)">([^<]*)</td>', row))


def test_the_leaderboard_row_and_the_promoters_detail_agree(district, month):
    # given
    snapshot = AppraisalSnapshot.objects.get(
        promoter=district.promoter, period_kind=month.kind, period_start=month.start
    )
    client = district.client("district_admin")

    # when
    board = client.get(reverse("web:leaderboard"), {"period": str(month)}).content.decode()
    detail = client.get(reverse("web:appraisal", args=[snapshot.pk])).content.decode()

    # then: one verified signing of 472 m² on both; the 128 m² one waits, on the detail only
    cells = _cells(board, "张招商")
    assert cells["signings"] == "1"
    assert cells["signed_area_m2"] == "472"
    assert cells["expected_tax_yuan"] == "400,000"
    listed = re.findall(
        r'<li data-area="([\d.]+)">', detail.split('id="appraisal-signings"')[1].split("</ul>")[0]
    )
    assert [Decimal(a) for a in listed] == [Decimal("472.00")]
    assert "128㎡" in detail.split('id="appraisal-pipeline"')[1]
    # and the score: 1 of 2 signings, the only target, is 50.0 on both
    assert "<strong>50.0</strong>" in board
    assert '<span class="stat">50.00</span>' in detail


def test_the_office_queues_a_street_assessment_and_sees_it(district, monkeypatch):
    # given: what the page queues is run here, as a worker would
    queued = []
    monkeypatch.setattr("crm.web.appraisal.enqueue", lambda task, *args: queued.append((task, args)))
    year = timezone.localdate().year
    client = district.client("district_admin")

    # when
    response = client.post(reverse("web:assessment_recompute"), {"year": year})
    for task, args in queued:
        task(*args)

    # then: the year's assessment was queued; every street has its snapshot, and the list shows them
    assert response.status_code == 302
    assert [(task.name, args) for task, args in queued] == [
        ("workers.tasks.street_assessment_nightly", (year,))
    ]
    assert StreetAssessmentSnapshot.objects.filter(year=year).count() == 2
    page = client.get(reverse("web:assessment"), {"year": year}).content.decode()
    assert "甲街道" in page and "乙街道" in page


def test_only_the_office_recomputes_the_assessment(district):
    # when
    response = district.client("street_officer").post(
        reverse("web:assessment_recompute"), {"year": timezone.localdate().year}
    )

    # then
    assert response.status_code == 403
    assert not StreetAssessmentSnapshot.objects.exists()


def test_the_assess_command_computes_a_years_streets(district):
    # when
    out = io.StringIO()
    call_command("assess", "--year", "2025", stdout=out)

    # then
    assert out.getvalue().startswith("2025: 2 streets")
    assert StreetAssessmentSnapshot.objects.filter(year=2025).count() == 2

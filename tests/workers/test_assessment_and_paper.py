"""Street assessment, the white paper, and the beat schedule seeded as data."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from crm.constants import IndicatorKey, LeadStage
from crm.models import AppraisalSnapshot, StreetAssessmentSnapshot, WhitePaper
from crm.models.appraisal import PeriodKind
from crm.services.assessment import street_assessment_compute, street_target_set
from crm.services.signings import signing_complete
from crm.services.white_paper import render_pdf, white_paper_generate, white_paper_request
from crm.web.templatetags.web import progress
from tests.factories import (
    BuildingFactory,
    LeadFactory,
    StreetFactory,
    TaxRecordFactory,
    TenancyFactory,
    UnitFactory,
    make_credit_code,
)
from tests.workers.conftest import mailed_promoter
from workers.celery import app
from workers.schedule import DEFAULT_SCHEDULE

pytestmark = pytest.mark.django_db


@pytest.fixture
def street():
    """城东街道 in 2024: one building (8,000 m² leasable), an old tenant of 100 m² whose tax rose from
    1,000,000 (2023) to 1,250,000 (2024), a 200 m² signing on 1 March 2024, two appraised promoters."""
    street = StreetFactory(name="城东街道")
    building = BuildingFactory(street=street, name="城东大厦", gross_area_m2=10000, leasable_area_m2=8000)
    tenant = TenancyFactory(building=building, area_m2=Decimal("100"))
    TaxRecordFactory(enterprise=tenant.enterprise, year=2023, amount_yuan=Decimal("1000000"))
    TaxRecordFactory(enterprise=tenant.enterprise, year=2024, amount_yuan=Decimal("1250000"))
    promoters = [mailed_promoter(n, street=street) for n in (1, 2)]
    lead = LeadFactory(owner=promoters[0], stage=LeadStage.NEGOTIATING, credit_code=make_credit_code(31))
    signing_complete(
        lead=lead,
        building=building,
        units=[UnitFactory(building=building, area_m2=Decimal("200"))],
        signed_on=dt.date(2024, 3, 1),
    )
    for promoter, score in zip(promoters, ("80", "61"), strict=True):
        AppraisalSnapshot.objects.create(
            promoter=promoter,
            period_kind=PeriodKind.YEAR,
            period_start=dt.date(2024, 1, 1),
            period_end=dt.date(2024, 12, 31),
            street=street,
            score=Decimal(score),
            computed_at=timezone.now(),
        )
    StreetFactory(name="空白镇")
    return street


def test_a_street_is_assessed_on_its_targets_signings_tax_growth_and_promoters(street):
    street_target_set(street=street, year=2024, key=IndicatorKey.OCCUPANCY_RATE, value=Decimal("1"))
    street_target_set(street=street, year=2024, key=IndicatorKey.BUILDING_TAX, value=Decimal("1"))

    snapshots = {s.street.name: s for s in street_assessment_compute(year=2024)}

    mine = snapshots["城东街道"]
    # occupancy (100 + 200) / 8,000 = 3.75% ≥ 1 (met); tax 1,250,000 / 10^8 = 0.0125 亿 < 1 (not met)
    assert mine.indicators["occupancy_rate"] == "3.75"
    assert (mine.targets_set, mine.targets_met) == (2, 1)
    assert (mine.signings, mine.signed_area_m2) == (1, Decimal("200.00"))
    assert (mine.tax_yuan, mine.previous_tax_yuan) == (Decimal("1250000.00"), Decimal("1000000.00"))
    assert mine.tax_growth == Decimal("25.00")  # (1,250,000 − 1,000,000) / 1,000,000
    assert (mine.promoters, mine.promoter_score) == (2, Decimal("70.50"))  # (80 + 61) / 2


def test_the_assess_command_prints_a_streets_tax_as_the_pages_write_it(street):
    from io import StringIO

    from django.core.management import call_command

    # when
    out = StringIO()
    call_command("assess", "--year", "2024", stdout=out)

    # then 城东街道: the 200 m² signing, 1,250,000 yuan of tax, up (1,250,000 − 1,000,000) / 1,000,000 = 25%;
    # 空白镇 has no tax a year before, so no growth
    lines = {row.split()[0]: row for row in out.getvalue().splitlines()[1:]}
    assert "signings=1 area=200.00㎡ tax=1,250,000 元 growth=25.00%" in lines["城东街道"]
    assert "tax=0 元 growth=—" in lines["空白镇"]


def test_a_street_without_buildings_gets_zeros_and_a_note(street):
    empty = next(s for s in street_assessment_compute(year=2024) if s.street.name == "空白镇")

    assert (empty.signings, empty.tax_yuan, empty.tax_growth) == (0, Decimal("0.00"), None)
    assert "no building data" in empty.note


def test_assessing_again_replaces_the_year(street):
    street_assessment_compute(year=2024)
    street_assessment_compute(year=2024)

    assert StreetAssessmentSnapshot.objects.filter(year=2024).count() == 2


def test_a_negative_street_target_is_refused(street):
    with pytest.raises(ValidationError):
        street_target_set(street=street, year=2024, key=IndicatorKey.BUILDING_TAX, value=Decimal("-1"))


def test_the_white_paper_shows_indicators_streets_tiers_and_appraisal(street):
    white_paper_request(year=2024)

    paper = white_paper_generate(year=2024)

    assert paper.state == WhitePaper.State.READY
    for text in (
        "2024 年楼宇经济发展白皮书",
        "企业入驻率",
        "城东街道",
        "空白镇",
        "<svg",
        "税收层级",
        "招商人员考核",
    ):
        assert text in paper.html
    # the street's tax in the street table: 1,250,000 / 10^8 = 0.01 亿元 (to two places)
    assert "0.01" in paper.html


def test_the_white_paper_writes_the_years_first_year_tax_by_the_one_yuan_formatter(street):
    # given the two promoters' yearly snapshots carry 1,234.5 and 1,000,000.25 yuan of first-year tax
    AppraisalSnapshot.objects.filter(score=Decimal("80")).update(actual_tax_yuan=Decimal("1234.50"))
    AppraisalSnapshot.objects.filter(score=Decimal("61")).update(actual_tax_yuan=Decimal("1000000.25"))
    white_paper_request(year=2024)

    paper = white_paper_generate(year=2024)

    # then the summary reads 1,234.50 + 1,000,000.25 = 1,001,234.75 yuan, to the fen as on the pages
    assert "实缴首年税收(元)<strong>1,001,234.75</strong>" in paper.html


def test_the_white_paper_has_a_pdf_where_weasyprint_runs(street):
    pytest.importorskip("weasyprint")

    paper = white_paper_generate(year=2024)

    assert bytes(paper.pdf).startswith(b"%PDF")
    assert paper.pdf_note == ""


def test_the_html_report_needs_no_pdf_library():
    pdf, note = render_pdf("<p>白皮书</p>")

    assert (pdf is None and "weasyprint" in note) or bytes(pdf).startswith(b"%PDF")


def test_the_beat_schedule_is_seeded_as_editable_rows_of_registered_tasks():
    rows = {task.name: task for task in PeriodicTask.objects.all()}

    for entry in DEFAULT_SCHEDULE:
        assert entry.name in rows
        assert rows[entry.name].task in app.tasks
    assert rows["跟进提醒扫描 / follow-up scan"].interval.every == 5


@pytest.mark.parametrize(
    ("achieved", "shown"),
    [
        (Decimal("99.97"), "99.97%"),  # one decimal would round it up to a target met
        (Decimal("99.996"), "99.99%"),  # closer still: never 100.00
        (Decimal("99.94"), "99.9%"),
        (Decimal(100), "100.0%"),
        (Decimal("100.04"), "100.0%"),  # at or above target, 100.0 is true
        (Decimal("61.25"), "61.3%"),
        (None, "—"),
    ],
)
def test_the_papers_share_of_target_reached_never_reads_100_below_target(achieved, shown):
    # The paper shows one decimal by the pages' one progress rule.
    assert progress(achieved, 1) == shown

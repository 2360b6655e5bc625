"""The pipeline forecast and the what-if, worked by hand on the small district of conftest.py.

The district in the tax year Y: buildings 甲大厦 (leasable 1,000 m², main industry 65) and 乙中心
(leasable 2,000 m², no main industry); one tenant in 甲大厦 on 500 m², registered, industry 65,
paying 2,000,000 yuan in Y. The promoter's lead asks for 150–250 m² (200 in the middle), expects
500,000 yuan of tax a year and is in division 65.
"""

import datetime as dt
from decimal import Decimal

import pytest

from crm.constants import IndicatorKey, LeadStage
from crm.indicators import district_values
from crm.models import Industry, Lead, StageChange
from crm.services.leads import lead_transition
from crm.web.forecast import (
    SummedAdditions,
    addition_for,
    additions_summed,
    indicators_with,
    pipeline_additions,
    pipeline_forecast,
    stage_conversion_rates,
    summed_from_json,
    summed_to_json,
    year_share,
)
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
ONE = Decimal(1)


def test_with_nothing_added_the_indicators_are_the_indicators_themselves(district):
    # when
    ours = indicators_with(year=district.tax_year)

    # then: every key, to the last digit
    assert ours == district_values(year=district.tax_year)


def test_signing_the_lead_into_its_building_lifts_occupancy_and_tax(district):
    # given
    lead = district.lead

    # when
    after = indicators_with(
        year=district.tax_year,
        additions=[addition_for(lead, district.building.pk, weight=ONE, tax_share=ONE)],
    )

    # then
    # occupancy: (500 + 200) / (1,000 + 2,000) = 700 / 3,000 = 23.333…%
    assert after[IndicatorKey.OCCUPANCY_RATE].quantize(Decimal("0.001")) == Decimal("23.333")
    # building tax: (2,000,000 + 500,000) / 100,000,000 = 0.025 亿元
    assert after[IndicatorKey.BUILDING_TAX] == Decimal("0.025")
    # registration: (1 + 1) / (1 + 1) = 100%; concentration: both in division 65 of a 65 building
    assert after[IndicatorKey.REGISTRATION_RATE] == Decimal(100)
    assert after[IndicatorKey.INDUSTRY_CONCENTRATION] == Decimal(100)


def test_a_lead_outside_the_main_industry_lowers_the_concentration(district):
    # given: the lead is in division 62 (section H), not the building's 65
    catering, _ = Industry.objects.get_or_create(
        code="62", defaults={"level": "division", "section": "H", "name_zh": "餐饮业"}
    )
    district.lead.industry = catering
    district.lead.save()

    # when
    after = indicators_with(
        year=district.tax_year,
        additions=[addition_for(district.lead, district.building.pk, weight=ONE, tax_share=ONE)],
    )

    # then: 1 of 2 settled enterprises in the main industry = 50%
    assert after[IndicatorKey.INDUSTRY_CONCENTRATION] == Decimal(50)


def test_a_lead_in_a_building_without_main_industry_leaves_the_concentration(district):
    # when
    after = indicators_with(
        year=district.tax_year,
        additions=[addition_for(district.lead, district.other_building.pk, weight=ONE, tax_share=ONE)],
    )

    # then: 乙中心 has no main industry, so only 甲大厦's one tenant counts: 1 / 1
    assert after[IndicatorKey.INDUSTRY_CONCENTRATION] == Decimal(100)


def _history(district):
    """Two decided leads that had reached negotiation: one signed, one lost there."""
    LeadFactory(owner=district.promoter, stage=LeadStage.SIGNED)
    lost = LeadFactory(owner=district.promoter, stage=LeadStage.LOST, lost_reason="预算不足")
    StageChange.objects.create(
        lead=lost, from_stage=LeadStage.NEGOTIATING, to_stage=LeadStage.LOST, changed_at=lost.created_at
    )


def test_a_stages_conversion_rate_is_the_share_of_its_decided_leads_that_signed(district):
    # given
    _history(district)

    # when
    rates = stage_conversion_rates()

    # then: of the 2 decided leads that reached negotiation, 1 signed
    assert (rates["negotiating"].won, rates["negotiating"].decided) == (1, 2)
    assert rates["negotiating"].rate == Decimal("0.5")
    # visiting: the lost lead never visited and the signed one left no trace of it: no history
    assert rates["visiting"].decided == 0


def test_the_rest_of_the_year_is_counted_from_today_on():
    # when: 2 July to 31 December 2025 is 183 of 365 days
    share = year_share(today=dt.date(2025, 7, 2))

    # then
    assert share == Decimal(183) / Decimal(365)


def test_the_forecast_counts_an_open_lead_at_its_stages_rate(district):
    # given: the lead in negotiation (rate 1/2), placed in 甲大厦; today is 2 July of the tax year
    _history(district)
    lead = district.lead
    lead_transition(lead=lead, to_stage=LeadStage.CONTACTED)
    lead_transition(lead=lead, to_stage=LeadStage.NEGOTIATING)
    today = dt.date(district.tax_year, 7, 2)

    # when
    result = pipeline_forecast(
        leads=Lead.objects.filter(pk=lead.pk),
        best_buildings={lead.pk: [(district.building.pk, 0.9)]},
        today=today,
    )

    # then
    assert result.leads_counted == 1
    # occupancy: (500 + 0.5 × 200) / 3,000 = 600 / 3,000 = 20%
    assert result.year_end[IndicatorKey.OCCUPANCY_RATE] == Decimal(20)
    # tax: 2,000,000 + 0.5 × 500,000 × 183/365 = 2,000,000 + 125,342.4657… yuan
    expected = (
        Decimal(2_000_000) + Decimal("0.5") * Decimal(500_000) * Decimal(183) / Decimal(365)
    ) / Decimal(100_000_000)
    assert result.year_end[IndicatorKey.BUILDING_TAX].quantize(Decimal("1e-9")) == expected.quantize(
        Decimal("1e-9")
    )
    # today's figure is the indicator itself: 500 / 3,000
    assert result.now[IndicatorKey.OCCUPANCY_RATE].quantize(Decimal("0.001")) == Decimal("16.667")


def test_a_lead_without_a_fitting_building_is_left_out_of_the_forecast(district):
    # when
    result = pipeline_forecast(
        leads=Lead.objects.all(), best_buildings={}, today=dt.date(district.tax_year, 7, 2)
    )

    # then
    assert (result.leads_counted, result.leads_unplaced) == (0, 1)
    assert result.year_end == result.now


def test_a_lead_that_will_not_pay_tax_here_adds_no_tax(district):
    # given: the lead will register and settle here but pay its tax elsewhere
    lead = district.lead
    lead.pays_tax_in_district = False

    # when
    after = indicators_with(
        year=district.tax_year,
        additions=[addition_for(lead, district.building.pk, weight=ONE, tax_share=ONE)],
    )

    # then: the tax stays the tenant's 2,000,000 / 100,000,000 = 0.02 亿元, and of 2 settled
    # enterprises 1 pays tax: 50%; the space still counts: (500 + 200) / 3,000
    assert after[IndicatorKey.BUILDING_TAX] == Decimal("0.02")
    assert after[IndicatorKey.TAX_SOURCE_RATE] == Decimal(50)
    assert after[IndicatorKey.OCCUPANCY_RATE].quantize(Decimal("0.001")) == Decimal("23.333")


def test_a_lead_that_will_not_register_here_lowers_the_registration_rate(district):
    # given
    lead = district.lead
    lead.registers_in_district = False

    # when
    after = indicators_with(
        year=district.tax_year,
        additions=[addition_for(lead, district.building.pk, weight=ONE, tax_share=ONE)],
    )

    # then: 1 registered of 2 settled
    assert after[IndicatorKey.REGISTRATION_RATE] == Decimal(50)


def test_the_leads_summed_per_building_give_the_same_forecast_as_lead_by_lead(district):
    # given: five open leads more, in two buildings, in and outside the main industry, with and
    # without expected tax, one that will not register here
    _history(district)
    leads = [district.lead]
    for i in range(5):
        leads.append(
            LeadFactory(
                owner=district.promoter,
                stage=[LeadStage.NEW, LeadStage.CONTACTED, LeadStage.NEGOTIATING][i % 3],
                industry=district.lead.industry if i % 2 else Industry.objects.get(code="62"),
                area_min_m2=Decimal(100 + 10 * i),
                area_max_m2=Decimal(300),
                expected_annual_tax=Decimal(0) if i == 4 else Decimal(100_000 * (i + 1)),
                registers_in_district=i != 3,  # summed apart from those who register here
            )
        )
    buildings = [district.building.pk, district.other_building.pk]
    best = {lead.pk: [(buildings[n % 2], 0.5)] for n, lead in enumerate(leads)}
    today = dt.date(district.tax_year, 7, 2)
    rates = stage_conversion_rates()
    one_by_one = pipeline_forecast(leads=Lead.objects.all(), best_buildings=best, today=today, rates=rates)

    # when
    additions, unplaced, expected = pipeline_additions(
        leads=Lead.objects.all(), best_buildings=best, rates=rates, share=year_share(today=today)
    )
    summed = summed_from_json(
        summed_to_json(SummedAdditions(additions_summed(additions), unplaced, expected, len(additions)))
    )
    from_sums = pipeline_forecast(
        leads=Lead.objects.none(), best_buildings={}, today=today, rates=rates, summed=summed
    )

    # then: the same indicators, the same counts
    assert len(summed.additions) < len(additions)
    for key, value in one_by_one.year_end.items():
        assert (
            from_sums.year_end[key] == pytest.approx(value, abs=Decimal("1e-12"))
            if value is not None
            else True
        )
    assert (from_sums.leads_counted, from_sums.expected_signings) == (6, one_by_one.expected_signings)

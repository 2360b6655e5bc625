"""The forecast counts the expected move-outs apart from the pipeline's gains, worked by hand on the
small district of conftest.py (甲大厦: 1,000 m² leasable, one tenant on 500 m² paying 2,000,000 yuan
in the tax year; 乙中心: 2,000 m² leasable, empty)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.constants import IndicatorKey
from crm.services.stored_results import RETENTION, TODAY, stored_result_save
from crm.web.forecast import departure_removals, indicators_with, year_share

pytestmark = pytest.mark.django_db
ONE = Decimal(1)


def test_expected_move_outs_lower_occupancy_and_building_tax(district):
    # given the tenant leaves with probability 0.4: 200 m² and 800,000 yuan expected to go
    removals = departure_removals(
        {str(district.building.pk): {"expected_area_m2": "200.00", "expected_tax_yuan": "800000.00"}},
        share=ONE,
    )
    # when
    after = indicators_with(year=district.tax_year, additions=removals)
    # then occupancy (500 − 200) / 3,000 = 10 %; building tax (2,000,000 − 800,000) / 1e8 = 0.012 亿元
    assert after[IndicatorKey.OCCUPANCY_RATE] == Decimal(10)
    assert after[IndicatorKey.BUILDING_TAX] == Decimal("0.012")
    # and the settled count stays: registration is still 1 / 1
    assert after[IndicatorKey.REGISTRATION_RATE] == Decimal(100)


def test_a_likely_departure_can_take_a_building_out_of_the_key_buildings(district):
    # given 甲大厦's tenant paid 12,000,000 yuan (千万元楼, 24,000 yuan per m²), half of it at risk
    district.leased_unit.building.tenancies.get().enterprise.tax_records.update(
        amount_yuan=Decimal("12000000")
    )
    removals = departure_removals(
        {str(district.building.pk): {"expected_area_m2": "250.00", "expected_tax_yuan": "6000000.00"}},
        share=ONE,
    )
    # when
    before = indicators_with(year=district.tax_year)
    after = indicators_with(year=district.tax_year, additions=removals)
    # then
    assert before[IndicatorKey.TAX_PER_M2] == Decimal(24000)
    assert after[IndicatorKey.TAX_PER_M2] is None  # 6,000,000 < 10,000,000: no key building left


def test_the_forecast_shows_the_move_outs_apart_from_the_pipeline(district):
    # given stored expected move-outs of 甲大厦 over the next 12 months
    stored_result_save(
        kind=RETENTION,
        key=TODAY,
        version=0,
        payload={
            "on": timezone.localdate().isoformat(),
            "model_version": 1,
            "buildings": {
                str(district.building.pk): {"expected_area_m2": "300.00", "expected_tax_yuan": "0.00"}
            },
        },
        seconds=0.0,
    )
    share = year_share(today=timezone.localdate())
    # when
    response = district.client("district_admin").get(reverse("web:forecast"), HTTP_HX_REQUEST="true")
    # then the move-outs' column is the occupancy lost by year-end alone: 300 × share / 3,000 × 100
    rows = {str(row["label"]): row for row in response.context["rows"]}
    occupancy = rows[str(IndicatorKey.OCCUPANCY_RATE.label)]
    assert occupancy["departures"] == pytest.approx(-Decimal(300) * share / Decimal(30), abs=Decimal("1e-9"))
    assert occupancy["change"] == pytest.approx(
        occupancy["pipeline"] + occupancy["departures"], abs=Decimal("1e-9")
    )
    assert response.context["forecast"].departing_area_m2 == Decimal(300) * share

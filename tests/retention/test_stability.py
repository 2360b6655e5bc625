"""The white paper's tax-source stability, worked by hand."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.services.white_paper import white_paper_context
from retention.stability import tax_source_stability
from tests.factories import BuildingFactory, EnterpriseFactory, TaxRecordFactory, TenancyFactory

pytestmark = pytest.mark.django_db
YEAR = 2023


@pytest.fixture
def three_tenants():
    """On 1 January 2023: a leaver (ends 30 June, 100,000 yuan in 2022), a mover (ends 30 June, in
    another building from 10 July, 200,000) and a stayer (300,000)."""
    first, second = BuildingFactory(), BuildingFactory()
    leaver, mover, stayer = EnterpriseFactory(), EnterpriseFactory(), EnterpriseFactory()
    TenancyFactory(enterprise=leaver, building=first, start=dt.date(2020, 1, 1), end=dt.date(2023, 6, 30))
    TenancyFactory(enterprise=mover, building=first, start=dt.date(2020, 1, 1), end=dt.date(2023, 6, 30))
    TenancyFactory(enterprise=mover, building=second, start=dt.date(2023, 7, 10))
    TenancyFactory(enterprise=stayer, building=first, start=dt.date(2020, 1, 1))
    for enterprise, amount in ((leaver, "100000"), (mover, "200000"), (stayer, "300000")):
        TaxRecordFactory(enterprise=enterprise, year=YEAR - 1, amount_yuan=Decimal(amount))


def test_the_year_counts_leavers_apart_from_moves_within_the_district(three_tenants):
    # when
    figures = tax_source_stability(year=YEAR, today=dt.date(2024, 3, 1))
    # then 1 of 3 left (kept 2/3); it had paid 100,000 of 600,000 (kept 5/6 of the tax)
    assert (figures["tenancies"], figures["left"], figures["relocated"]) == (3, 1, 1)
    assert float(figures["kept_share"]) == pytest.approx(2 / 3)
    assert figures["tax"] == Decimal("600000.0") and figures["tax_left"] == Decimal("100000.0")
    assert float(figures["tax_kept_share"]) == pytest.approx(5 / 6)
    assert figures["final"] is True  # 1 March 2024 is past the 60 days after 31 December


def test_the_white_paper_has_the_stability_section(three_tenants):
    # when
    stability = white_paper_context(year=YEAR)["stability"]
    # then, rounded for the page: 66.7 % kept, 10.0 万元 left, 83.3 % of the tax kept
    assert (stability["kept_share"], stability["tax_left"], stability["tax_kept_share"]) == (
        "66.7",
        "10.0",
        "83.3",
    )

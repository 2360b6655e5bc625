"""The fourteen plan indicators on a small district computed by hand, and `manage.py indicators`."""

import datetime as dt
import json
from decimal import Decimal
from fractions import Fraction
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from crm.constants import IndicatorKey, UnitStatus
from crm.indicators import building_indicators, district_indicators, district_values, exact, street_values
from crm.models import Industry
from crm.services.assessment import street_target_set
from tests.factories import (
    BuildingFactory,
    EnterpriseFactory,
    StreetFactory,
    TaxRecordFactory,
    TenancyFactory,
    UnitFactory,
    UserFactory,
)

K = IndicatorKey
YEAR = 2021  # D = 2021-12-31
SECTIONS = {"I": "信息传输、软件和信息技术服务业", "J": "金融业", "L": "租赁和商务服务业"}
DIVISIONS = {
    "64": ("I", "互联网和相关服务"),
    "65": ("I", "软件和信息技术服务业"),
    "66": ("J", "货币金融服务"),
    "69": ("J", "其他金融业"),
    "72": ("L", "商务服务业"),
}


def exactly(value) -> object:
    """Equal up to rounding noise far below any displayed digit (ratios like 2/3 do not terminate)."""
    return pytest.approx(Decimal(value), abs=Decimal("1e-9"))


def industry(code: str) -> Industry:
    # Migration 0004 ships these rows; get_or_create keeps the test independent of its timing.
    if code in SECTIONS:
        defaults = {"level": "section", "section": code, "name_zh": SECTIONS[code]}
    else:
        section, name = DIVISIONS[code]
        defaults = {"level": "division", "section": section, "name_zh": name, "parent": industry(section)}
    return Industry.objects.get_or_create(code=code, defaults=defaults)[0]


@pytest.fixture
def district(db) -> SimpleNamespace:
    """Two streets, four buildings (D not yet in service), nine enterprises; year 2021.

    bldg street gross leasable in service   main industry party    intermediary smart    star / featured
    A    东     20000 16000    2010-01-01   65 (division) 2021-06  2022-01 ✗    —        3 since 2020 / fin.
    B    东     10000  8000    always       J (section)   —        2021-12-31   2021-01  4 since 2022 ✗ / —
    C    西     30000 24000    2019-01-01   —             2020-01  —            —        0 / HQ since 2022 ✗
    D    西     50000 40000    2022-06-01 ✗ 65            2020-01  2020-01      2020-01  5 / maker
    Self-used units: A 500 m², B 300 m², D 1000 m² (A also has a vacant 400 m² unit: not counted).

    ent. industry registered tenancies on 2021-12-31                tax of 2021
    E1   65       yes        A 300 m² + C 100 m² (both open)         8,000,000 (yearly)
    E2   64       yes        A 200 m², ends 2021-12-31: settled      12 × 100,000 monthly = 1,200,000
    E3   65       no         A 250 m², ended 2021-12-30: not settled 5,000,000 (nowhere)
    E4   66       yes        B 1000 m²                               9,000,000 + 2 × 500,000 monthly
    E5   72       no         B 500 m²                                none
    E6   69       yes        C 2000 m²                               98,000,000 (yearly)
    E7   —        yes        C 400 m², starts 2022-01-01: not yet    100
    E8   65       yes        D 800 m²: building not in service       3,000,000 (nowhere)
    E9   65       yes        A 50 m²                                 +10,000 and −10,000 monthly = 0
    """
    east, west = StreetFactory(name="城东街道"), StreetFactory(name="城西街道")
    a = BuildingFactory(
        street=east,
        gross_area_m2=Decimal(20000),
        leasable_area_m2=Decimal(16000),
        in_service_since=dt.date(2010, 1, 1),
        main_industry=industry("65"),
        party_org_since=dt.date(2021, 6, 1),
        intermediary_since=dt.date(2022, 1, 1),
        star_rating=3,
        star_since=dt.date(2020, 5, 1),
        featured_type="finance",
    )
    b = BuildingFactory(
        street=east,
        gross_area_m2=Decimal(10000),
        leasable_area_m2=Decimal(8000),
        in_service_since=None,
        main_industry=industry("J"),
        intermediary_since=dt.date(2021, 12, 31),
        smart_platform_since=dt.date(2021, 1, 1),
        star_rating=4,
        star_since=dt.date(2022, 3, 1),
    )
    c = BuildingFactory(
        street=west,
        gross_area_m2=Decimal(30000),
        leasable_area_m2=Decimal(24000),
        in_service_since=dt.date(2019, 1, 1),
        party_org_since=dt.date(2020, 1, 1),
        featured_type="headquarters",
        featured_since=dt.date(2022, 1, 1),
    )
    d = BuildingFactory(
        street=west,
        gross_area_m2=Decimal(50000),
        leasable_area_m2=Decimal(40000),
        in_service_since=dt.date(2022, 6, 1),
        main_industry=industry("65"),
        party_org_since=dt.date(2020, 1, 1),
        intermediary_since=dt.date(2020, 1, 1),
        smart_platform_since=dt.date(2020, 1, 1),
        star_rating=5,
        featured_type="maker",
    )
    UnitFactory(building=a, area_m2=Decimal(500), status=UnitStatus.SELF_USED)
    UnitFactory(building=a, area_m2=Decimal(400), status=UnitStatus.VACANT)
    UnitFactory(building=b, area_m2=Decimal(300), status=UnitStatus.SELF_USED)
    UnitFactory(building=d, area_m2=Decimal(1000), status=UnitStatus.SELF_USED)

    def enterprise(code, registered=True):
        return EnterpriseFactory(industry=industry(code) if code else None, registered_in_district=registered)

    e1, e2, e3 = enterprise("65"), enterprise("64"), enterprise("65", registered=False)
    e4, e5, e6 = enterprise("66"), enterprise("72", registered=False), enterprise("69")
    e7, e8, e9 = enterprise(None), enterprise("65"), enterprise("65")

    TenancyFactory(enterprise=e1, building=a, area_m2=Decimal(300), start=dt.date(2020, 1, 1))
    TenancyFactory(enterprise=e1, building=c, area_m2=Decimal(100), start=dt.date(2021, 3, 1))
    TenancyFactory(
        enterprise=e2, building=a, area_m2=Decimal(200), start=dt.date(2019, 1, 1), end=dt.date(2021, 12, 31)
    )
    TenancyFactory(
        enterprise=e3, building=a, area_m2=Decimal(250), start=dt.date(2019, 1, 1), end=dt.date(2021, 12, 30)
    )
    TenancyFactory(enterprise=e4, building=b, area_m2=Decimal(1000))
    TenancyFactory(enterprise=e5, building=b, area_m2=Decimal(500))
    TenancyFactory(enterprise=e6, building=c, area_m2=Decimal(2000))
    TenancyFactory(enterprise=e7, building=c, area_m2=Decimal(400), start=dt.date(2022, 1, 1))
    TenancyFactory(enterprise=e8, building=d, area_m2=Decimal(800), start=dt.date(2021, 1, 1))
    TenancyFactory(enterprise=e9, building=a, area_m2=Decimal(50))

    TaxRecordFactory(enterprise=e1, year=YEAR, amount_yuan=Decimal(8_000_000))
    TaxRecordFactory(enterprise=e1, year=YEAR - 1, amount_yuan=Decimal(777))  # another year: ignored
    for month in range(1, 13):
        TaxRecordFactory(enterprise=e2, year=YEAR, month=month, amount_yuan=Decimal(100_000))
    TaxRecordFactory(enterprise=e3, year=YEAR, amount_yuan=Decimal(5_000_000))
    TaxRecordFactory(enterprise=e4, year=YEAR, amount_yuan=Decimal(9_000_000))
    TaxRecordFactory(enterprise=e4, year=YEAR, month=1, amount_yuan=Decimal(500_000))
    TaxRecordFactory(enterprise=e4, year=YEAR, month=2, amount_yuan=Decimal(500_000))
    TaxRecordFactory(enterprise=e6, year=YEAR, amount_yuan=Decimal(98_000_000))
    TaxRecordFactory(enterprise=e7, year=YEAR, amount_yuan=Decimal(100))
    TaxRecordFactory(enterprise=e8, year=YEAR, amount_yuan=Decimal(3_000_000))
    TaxRecordFactory(enterprise=e9, year=YEAR, month=3, amount_yuan=Decimal(10_000))
    TaxRecordFactory(enterprise=e9, year=YEAR, month=4, amount_yuan=Decimal(-10_000))
    return SimpleNamespace(east=east, west=west, a=a, b=b, c=c, d=d)


# Per building on 2021-12-31 (D is not in service and counts nowhere):
#   A: settled E1, E2, E9 (E3 ended 12-30); tenancy area 300 + 200 + 50 = 550, self-used 500,
#      occupied 1050; tax = E1 8,000,000 × 300/(300+100) = 6,000,000 + E2 1,200,000 + E9 0 = 7,200,000
#   B: settled E4, E5; tenancy area 1500, self-used 300, occupied 1800;
#      tax = E4 9,000,000 + 500,000 + 500,000 = 10,000,000 (a key building, exactly at 千万)
#   C: settled E1, E6 (E7 starts 2022); occupied 100 + 2000 = 2100;
#      tax = E1 8,000,000 × 100/400 = 2,000,000 + E6 98,000,000 = 100,000,000 (exactly 亿)


@pytest.mark.django_db
def test_district_areas_count_only_buildings_in_service(district):
    # when
    values = district_values(year=YEAR)

    # then: A + B + C = 20000 + 10000 + 30000 m² = 6 万㎡; leasable 16000 + 8000 + 24000 = 4.8 万㎡
    assert values[K.GROSS_AREA] == Decimal("6")
    assert values[K.LEASABLE_AREA] == Decimal("4.8")


@pytest.mark.django_db
def test_district_occupancy_adds_self_used_units_to_active_tenancies(district):
    # when
    values = district_values(year=YEAR)

    # then: (1050 + 1800 + 2100) / 48000 = 4950 / 48000 = 10.3125 %
    assert values[K.OCCUPANCY_RATE] == exactly("10.3125")


@pytest.mark.django_db
def test_district_registration_rate_counts_each_enterprise_once(district):
    # when
    values = district_values(year=YEAR)

    # then: settled E1 (in A and C, once), E2, E9, E4, E5, E6 = 6; registered all but E5 = 5; 5/6
    assert values[K.REGISTRATION_RATE] == exactly(Decimal(500) / 6)


@pytest.mark.django_db
def test_district_industry_concentration_is_per_settlement_in_buildings_with_a_main_industry(district):
    # when
    values = district_values(year=YEAR)

    # then: A (division 65): E1 65 ✓, E2 64 ✗, E9 65 ✓; B (section J): E4 66 ✓, E5 72 ✗;
    # C has no main industry and is left out: 3 / 5 = 60 %
    assert values[K.INDUSTRY_CONCENTRATION] == exactly(60)


@pytest.mark.django_db
def test_district_tax_source_rate_needs_tax_summing_above_zero(district):
    # when
    values = district_values(year=YEAR)

    # then: of the 6 settled, E1, E2, E4, E6 paid tax; E5 has none, E9's months sum to 0: 4/6
    assert values[K.TAX_SOURCE_RATE] == exactly(Decimal(400) / 6)


@pytest.mark.django_db
def test_district_tax_indicators_split_an_enterprise_by_area(district):
    # when
    values = district_values(year=YEAR)

    # then: only C reaches 100,000,000; tax 7,200,000 + 10,000,000 + 100,000,000 = 1.172 亿元;
    # key buildings B and C: (10,000,000 + 100,000,000) / (1800 + 2100) = 110,000,000 / 3900 元/㎡
    assert values[K.BILLION_BUILDINGS] == 1
    assert values[K.BUILDING_TAX] == exactly("1.172")
    assert values[K.TAX_PER_M2] == exactly(Decimal(110_000_000) / 3900)


@pytest.mark.django_db
def test_district_service_flags_hold_from_their_date(district):
    # when
    values = district_values(year=YEAR)

    # then: party A (2021-06) and C (2020) of 3; intermediary only B (on D itself, A's is 2022);
    # smart platform only B
    assert values[K.PARTY_COVERAGE] == exactly(Decimal(200) / 3)
    assert values[K.INTERMEDIARY_COVERAGE] == exactly(Decimal(100) / 3)
    assert values[K.SMART_PLATFORM_COVERAGE] == exactly(Decimal(100) / 3)


@pytest.mark.django_db
def test_district_star_and_featured_hold_from_their_since_date(district):
    # when
    values = district_values(year=YEAR)

    # then: star A (since 2020); B's is from 2022, C has none, D is not in service;
    # featured A (no date: always); C's is from 2022
    assert values[K.STAR_BUILDINGS] == 1
    assert values[K.FEATURED_BUILDINGS] == 1


@pytest.mark.django_db
def test_street_indicators_keep_the_district_wide_area_split(district):
    # when
    values = district_values(year=YEAR, street=district.east)

    # then: buildings A and B only
    assert values == {
        K.GROSS_AREA: Decimal(3),  # 20000 + 10000
        K.LEASABLE_AREA: Decimal("2.4"),  # 16000 + 8000
        K.OCCUPANCY_RATE: exactly("11.875"),  # (1050 + 1800) / 24000
        K.REGISTRATION_RATE: exactly(80),  # E1, E2, E9, E4 of E1, E2, E9, E4, E5
        K.INDUSTRY_CONCENTRATION: exactly(60),  # (2 + 1) / (3 + 2)
        K.TAX_SOURCE_RATE: exactly(60),  # E1, E2, E4 of 5
        K.BILLION_BUILDINGS: Decimal(0),
        K.BUILDING_TAX: exactly("0.172"),  # E1 counts 6,000,000 here, not 8,000,000: 17,200,000
        K.TAX_PER_M2: exactly(Decimal(10_000_000) / 1800),  # only B is a key building
        K.PARTY_COVERAGE: exactly(50),  # A
        K.INTERMEDIARY_COVERAGE: exactly(50),  # B
        K.SMART_PLATFORM_COVERAGE: exactly(50),  # B
        K.STAR_BUILDINGS: Decimal(1),  # A
        K.FEATURED_BUILDINGS: Decimal(1),  # A
    }


@pytest.mark.django_db
def test_building_indicators_of_each_building_in_service(district):
    # when
    values = building_indicators(year=YEAR)

    # then: D is not in service on D and is absent
    assert set(values) == {district.a.pk, district.b.pk, district.c.pk}
    assert values[district.a.pk] == {
        K.GROSS_AREA: Decimal(2),
        K.LEASABLE_AREA: Decimal("1.6"),
        K.OCCUPANCY_RATE: exactly("6.5625"),  # 1050 / 16000
        K.REGISTRATION_RATE: exactly(100),  # E1, E2, E9
        K.INDUSTRY_CONCENTRATION: exactly(Decimal(200) / 3),  # E1, E9 in 65; E2 in 64
        K.TAX_SOURCE_RATE: exactly(Decimal(200) / 3),  # E1, E2; E9 sums to 0
        K.BUILDING_TAX: exactly("0.072"),  # 7,200,000
        K.TAX_PER_M2: exactly(Decimal(7_200_000) / 1050),
    }
    assert values[district.b.pk] == {
        K.GROSS_AREA: Decimal(1),
        K.LEASABLE_AREA: Decimal("0.8"),
        K.OCCUPANCY_RATE: exactly("22.5"),  # 1800 / 8000
        K.REGISTRATION_RATE: exactly(50),  # E4 of E4, E5
        K.INDUSTRY_CONCENTRATION: exactly(50),  # E4's 66 is in section J, E5's 72 is not
        K.TAX_SOURCE_RATE: exactly(50),  # E4
        K.BUILDING_TAX: exactly("0.1"),  # 10,000,000
        K.TAX_PER_M2: exactly(Decimal(10_000_000) / 1800),
    }
    assert values[district.c.pk] == {
        K.GROSS_AREA: Decimal(3),
        K.LEASABLE_AREA: Decimal("2.4"),
        K.OCCUPANCY_RATE: exactly("8.75"),  # 2100 / 24000
        K.REGISTRATION_RATE: exactly(100),  # E1, E6
        K.INDUSTRY_CONCENTRATION: None,  # no main industry
        K.TAX_SOURCE_RATE: exactly(100),
        K.BUILDING_TAX: exactly(1),  # 100,000,000
        K.TAX_PER_M2: exactly(Decimal(100_000_000) / 2100),
    }


@pytest.mark.django_db
def test_building_indicators_for_chosen_buildings_only(district):
    # when
    values = building_indicators(year=YEAR, building_ids=[district.b.pk, district.d.pk])

    # then: D is asked for but not in service
    assert list(values) == [district.b.pk]
    assert building_indicators(year=YEAR, building_ids=[]) == {}


@pytest.mark.django_db
def test_a_building_counts_from_the_year_it_enters_service(district):
    # when: on 2022-12-31 D is in service; E1 still splits 300:100, E2's tenancy has ended
    values = building_indicators(year=YEAR + 1, building_ids=[district.d.pk])

    # then: D's occupancy is E8's 800 m² + 1000 m² self-used of 40000; no tax was recorded for 2022
    assert values[district.d.pk][K.OCCUPANCY_RATE] == exactly("4.5")
    assert values[district.d.pk][K.BUILDING_TAX] == 0


@pytest.mark.django_db
def test_district_indicators_stand_beside_the_plan_targets(district):
    # when
    indicators = district_indicators(year=YEAR)

    # then: the plan's 2021 column (migration 0003); gap = value − target
    assert [item.key for item in indicators] == list(IndicatorKey.values)
    occupancy = indicators[2]
    assert (occupancy.key, occupancy.unit, occupancy.target) == ("occupancy_rate", "%", Decimal(82))
    assert occupancy.gap == exactly("-71.6875")  # 10.3125 − 82
    assert {item.direction for item in indicators} == {"higher"}


@pytest.mark.django_db
def test_a_year_without_targets_has_no_target_and_no_gap(district):
    # when
    indicators = district_indicators(year=2030)

    # then
    assert all(item.target is None and item.gap is None for item in indicators)


def test_every_street_at_once_gives_each_street_its_own_indicators(district, django_assert_num_queries):
    # given a third street with no building at all
    empty = StreetFactory(name="空街道")

    # when all three are asked for together
    with django_assert_num_queries(1):
        values = street_values(year=YEAR, street_ids=[district.east.pk, district.west.pk, empty.pk])

    # then the east street's are the hand-computed ones above, and the west's what the one-street query gives
    assert values[district.east.pk][K.OCCUPANCY_RATE] == Decimal("11.875")
    assert values[district.east.pk][K.BUILDING_TAX] == Decimal("0.172")
    assert values[district.east.pk][K.REGISTRATION_RATE] == Decimal(80)
    assert values[district.west.pk] == district_values(year=YEAR, street=district.west)
    # and the empty street has 0 area and no ratio at all
    assert values[empty.pk][K.GROSS_AREA] == 0
    assert values[empty.pk][K.OCCUPANCY_RATE] is None


@pytest.mark.django_db
def test_an_empty_district_has_no_ratios():
    # when: no buildings at all
    values = district_values(year=YEAR)

    # then: every ratio's denominator is 0; counts and sums are 0
    ratios = [
        K.OCCUPANCY_RATE,
        K.REGISTRATION_RATE,
        K.INDUSTRY_CONCENTRATION,
        K.TAX_SOURCE_RATE,
        K.TAX_PER_M2,
    ]
    ratios += [K.PARTY_COVERAGE, K.INTERMEDIARY_COVERAGE, K.SMART_PLATFORM_COVERAGE]
    assert all(values[key] is None for key in ratios)
    assert values[K.GROSS_AREA] == values[K.BUILDING_TAX] == values[K.STAR_BUILDINGS] == 0


@pytest.mark.django_db
def test_district_indicators_take_two_queries(district, django_assert_num_queries):
    # when / then: 1. the figures statement (buildings, settlements, tax, totals), 2. the street's
    # targets and the plan's rate targets (one UNION)
    with django_assert_num_queries(2):
        district_indicators(year=YEAR, street=district.east)


@pytest.mark.django_db
def test_building_indicators_take_one_query(district, django_assert_num_queries):
    # when / then: the figures statement, one row per building
    with django_assert_num_queries(1):
        building_indicators(year=YEAR)


@pytest.mark.django_db
def test_command_prints_json_keyed_by_indicator(district):
    # given
    out = StringIO()

    # when
    call_command("indicators", "--year", str(YEAR), "--format", "json", stdout=out)

    # then: exact decimal strings, not numbers rounded for a reader
    payload = json.loads(out.getvalue())
    assert list(payload) == list(IndicatorKey.values)
    assert payload["occupancy_rate"] == {"value": "10.3125", "target": "82.00", "gap": "-71.6875"}
    assert Fraction(payload["tax_per_m2"]["value"]) == pytest.approx(Fraction(110_000_000, 3900), abs=1e-9)
    assert payload["building_tax"] == {"value": "1.1720000000", "target": "9.00", "gap": "-7.8280000000"}


@pytest.mark.django_db
def test_command_scopes_to_a_street(district):
    # given
    out = StringIO()

    # when
    call_command("indicators", "--year", str(YEAR), "--street", "城东街道", "--format", "json", stdout=out)

    # then: 17,200,000 of A and B; 3 of 5 settled pay tax
    payload = json.loads(out.getvalue())
    assert payload["building_tax"]["value"] == "0.1720000000"
    assert payload["tax_source_rate"]["value"] == "60"


@pytest.mark.django_db
def test_a_street_is_held_to_its_own_targets_and_to_the_districts_rates_only(district):
    # given: 城东街道's own 2021 targets for building tax (0.5 亿元) and the tax-source rate (50%)
    street_target_set(street=district.east, year=YEAR, key=IndicatorKey.BUILDING_TAX, value=Decimal("0.5"))
    street_target_set(street=district.east, year=YEAR, key=IndicatorKey.TAX_SOURCE_RATE, value=Decimal(50))
    out = StringIO()

    # when
    call_command("indicators", "--year", str(YEAR), "--street", "城东街道", "--format", "json", stdout=out)

    # then: 0.172 − 0.5 = −0.328 against its own target, not 0.172 − 9 against the district's
    payload = json.loads(out.getvalue())
    assert payload["building_tax"] == {"value": "0.1720000000", "target": "0.50", "gap": "-0.3280000000"}
    assert payload["tax_source_rate"] == {"value": "60", "target": "50.00", "gap": "10.00"}
    # a rate without a street target is held to the district's 82%: 11.875 − 82 = −70.125
    assert payload["occupancy_rate"] == {"value": "11.875", "target": "82.00", "gap": "-70.125"}
    # an area without a street target has no target and no gap (the district's 230 万㎡ is not its)
    assert payload["gross_area"]["target"] is None and payload["gross_area"]["gap"] is None
    assert payload["billion_buildings"]["target"] is None and payload["billion_buildings"]["gap"] is None


@pytest.mark.django_db
def test_command_prints_a_table_with_dashes_for_undefined_values():
    # given: no buildings, so every ratio is undefined
    out = StringIO()

    # when
    call_command("indicators", "--year", str(YEAR), stdout=out)

    # then
    occupancy_line = next(line for line in out.getvalue().splitlines() if line.startswith("occupancy_rate"))
    assert occupancy_line.split()[1:3] == ["—", "82.00"]


@pytest.mark.django_db
def test_command_refuses_an_unknown_street(district):
    # when / then
    with pytest.raises(CommandError, match="unknown street '不存在街道'"):
        call_command("indicators", "--year", str(YEAR), "--street", "不存在街道")


# ---------------------------------------------------------------------------- exact machine output


@pytest.fixture
def uneven(db) -> SimpleNamespace:
    """Two streets with figures that do not round: areas to 0.01 m², tax to the fen, year 2021.

    street building gross     leasable  party since  intermediary  self-used
    北     N1       12345.67   9876.54  2020-01-01   —             —
    南     S1       23456.78  20000.01  —            —             50.05 m²
    南     S2        5000.05   4000.03  —            2021-05-01    —

    ent. registered tenancies               tax of 2021
    X    yes        N1 123.45 + S1 246.90   54,251,900.00: N1 gets 1/3 = 18,083,966.67, S1 36,167,933.33
    Y    no         S2 333.33               12,345,678.91
    Z    yes        N1 100.00               none
    """
    north, south = StreetFactory(name="北街道"), StreetFactory(name="南街道")
    n1 = BuildingFactory(
        street=north,
        gross_area_m2=Decimal("12345.67"),
        leasable_area_m2=Decimal("9876.54"),
        party_org_since=dt.date(2020, 1, 1),
    )
    s1 = BuildingFactory(
        street=south, gross_area_m2=Decimal("23456.78"), leasable_area_m2=Decimal("20000.01")
    )
    s2 = BuildingFactory(
        street=south,
        gross_area_m2=Decimal("5000.05"),
        leasable_area_m2=Decimal("4000.03"),
        intermediary_since=dt.date(2021, 5, 1),
    )
    UnitFactory(building=s1, area_m2=Decimal("50.05"), status=UnitStatus.SELF_USED)
    x, y, z = EnterpriseFactory(), EnterpriseFactory(registered_in_district=False), EnterpriseFactory()
    TenancyFactory(enterprise=x, building=n1, area_m2=Decimal("123.45"))
    TenancyFactory(enterprise=x, building=s1, area_m2=Decimal("246.90"))
    TenancyFactory(enterprise=y, building=s2, area_m2=Decimal("333.33"))
    TenancyFactory(enterprise=z, building=n1, area_m2=Decimal("100.00"))
    TaxRecordFactory(enterprise=x, year=YEAR, amount_yuan=Decimal("54251900.00"))
    TaxRecordFactory(enterprise=y, year=YEAR, amount_yuan=Decimal("12345678.91"))
    return SimpleNamespace(north=north, south=south)


# Hand computation per street (Fraction: an independent, exact arithmetic), as strings the machine
# outputs must carry: areas in 万㎡ to the 6th decimal, tax in 亿元 to the fen (10th), counts whole.
UNEVEN_EXPECTED = {
    "北街道": {
        "gross_area": "1.234567",
        "leasable_area": "0.987654",
        "occupancy_rate": Fraction("223.45") / Fraction("9876.54") * 100,
        "registration_rate": 100,
        "industry_concentration": None,
        "tax_source_rate": 50,
        "billion_buildings": "0",
        "building_tax": "0.1808396667",
        "tax_per_m2": Fraction("18083966.67") / Fraction("223.45"),
        "party_coverage": 100,
        "intermediary_coverage": 0,
        "smart_platform_coverage": 0,
        "star_buildings": "0",
        "featured_buildings": "0",
    },
    "南街道": {
        "gross_area": "2.845683",
        "leasable_area": "2.400004",
        "occupancy_rate": Fraction("630.28") / Fraction("24000.04") * 100,
        "registration_rate": 50,
        "industry_concentration": None,
        "tax_source_rate": 100,
        "billion_buildings": "0",
        "building_tax": "0.4851361224",  # 36,167,933.33 + 12,345,678.91 = 48,513,612.24
        "tax_per_m2": Fraction("48513612.24") / Fraction("630.28"),
        "party_coverage": 0,
        "intermediary_coverage": 50,
        "smart_platform_coverage": 0,
        "star_buildings": "0",
        "featured_buildings": "0",
    },
}


def assert_exact(actual: dict[str, str | None], expected: dict) -> None:
    """Exact-unit figures equal as strings; ratios within 1e-9 of the exact fraction."""
    assert list(actual) == list(expected)
    for key, want in expected.items():
        got = actual[key]
        if want is None or isinstance(want, str):
            assert got == want, key
        else:
            assert isinstance(got, str), key
            assert abs(Fraction(got) - Fraction(want)) < Fraction(1, 10**9), key


@pytest.mark.django_db
@pytest.mark.parametrize("street", ["北街道", "南街道"])
def test_command_json_carries_each_streets_figures_exactly(uneven, street):
    # given
    out = StringIO()

    # when
    call_command("indicators", "--year", str(YEAR), "--street", street, "--format", "json", stdout=out)

    # then
    payload = json.loads(out.getvalue())
    assert_exact({key: item["value"] for key, item in payload.items()}, UNEVEN_EXPECTED[street])


@pytest.mark.django_db
def test_api_carries_each_streets_figures_exactly(uneven):
    # given
    client = APIClient()
    client.force_login(UserFactory(role="district_admin"))

    for street, expected in UNEVEN_EXPECTED.items():
        # when
        body = client.get("/api/v1/indicators/", {"year": YEAR, "street": street}).json()

        # then
        assert_exact({row["key"]: row["value"] for row in body["results"]}, expected)


@pytest.mark.django_db
def test_every_street_at_once_agrees_with_the_hand_computation(uneven):
    # when
    values = street_values(year=YEAR, street_ids=[uneven.north.pk, uneven.south.pk])

    # then: the same figures through the dashboard's path, to the fen and 1e-9
    for street, pk in (("北街道", uneven.north.pk), ("南街道", uneven.south.pk)):
        shown = {
            str(key): None if value is None else f"{exact(key, value):f}" for key, value in values[pk].items()
        }
        assert_exact(shown, UNEVEN_EXPECTED[street])


@pytest.mark.django_db
def test_json_gap_is_exact_beside_a_target(uneven):
    # given: 北街道's target for the tax of 0.15 亿元
    street_target_set(street=uneven.north, year=YEAR, key=K.BUILDING_TAX, value=Decimal("0.15"))
    out = StringIO()

    # when
    call_command("indicators", "--year", str(YEAR), "--street", "北街道", "--format", "json", stdout=out)

    # then: 0.1808396667 − 0.15
    assert json.loads(out.getvalue())["building_tax"] == {
        "value": "0.1808396667",
        "target": "0.15",
        "gap": "0.0308396667",
    }

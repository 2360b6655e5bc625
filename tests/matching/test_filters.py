"""Hard filters on hand-built districts: each excluded building carries the filter that excluded it."""

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from matching.core.explain import exclusions, explain_buildings
from matching.core.incentives import PolicyIncentives
from matching.core.rank import rank_buildings, rank_leads
from matching.core.types import (
    FEATURE_NAMES,
    FILTERS,
    LeadTable,
    MatchingInputError,
    NoIncentives,
    lead_query,
    weight_vector,
)
from policies.conditions import parse_condition
from policies.engine import BenefitKind, BenefitTerms, PolicyBook, PolicyTerms, Scope
from tests.matching.districts import INDUSTRIES, TODAY, HandDistrict, lead

WEIGHTS = weight_vector()


def rank(district: HandDistrict, query, incentives=None, **kwargs):
    snap = district.snapshot()
    scores = rank_buildings(snap, query, weights=WEIGHTS, incentives=incentives or NoIncentives(), **kwargs)
    return snap, scores


def ranked_ids(snap, scores) -> list[int]:
    return snap.buildings.id[scores.order].tolist()


def reason_of(snap, scores, building_id: int) -> str | None:
    row = int(np.flatnonzero(snap.buildings.id == building_id)[0])
    code = int(scores.reason[row])
    return None if code < 0 else FILTERS[code]


def test_an_over_budget_building_is_listed_below_a_cheaper_twin_with_its_overshoot_as_a_reason():
    # given: twins but for the rent; budget 3.00, the dear one asks 3.50: (3.50 − 3.00) / 3.00 = 16.7 % over
    d = HandDistrict()
    dear, cheap = d.building("贵楼"), d.building("平价楼")
    d.unit(dear, area=200, rent=3.50)
    d.unit(cheap, area=200, rent=2.50)
    # when
    snap, scores = rank(d, lead(budget=3.0), tolerance=0.10)
    shown = explain_buildings(snap, scores, incentives=NoIncentives(), limit=2)
    # then: no exclusion; the price features put it second
    assert ranked_ids(snap, scores) == [cheap + 1, dear + 1]
    assert sum(scores.excluded_counts().values()) == 0
    assert shown[0].over_budget is None
    assert shown[1].over_budget == pytest.approx(0.5 / 3.0)
    price = [r.text for r in shown[1].reasons if r.component == "price"]
    assert len(price) == 1 and "超预算 17%" in price[0] and "17% over budget" in price[0]


def test_price_features_follow_the_overshoot_of_the_rent_after_relief():
    # given: budget 2.00; rents 2.00 (at it), 2.20 (10 % over), 2.80 (40 % over), 4.00 (100 % over)
    d = HandDistrict()
    rows = [d.building() for _ in range(4)]
    for row, rent in zip(rows, (2.00, 2.20, 2.80, 4.00), strict=True):
        d.unit(row, area=200, rent=rent)
    # when
    snap, scores = rank(d, lead(budget=2.0))
    by_id = dict(zip(ranked_ids(snap, scores), scores.features.tolist(), strict=True))
    names = list(FEATURE_NAMES)
    steep, wide = names.index("price.within_budget"), names.index("price.within_budget_wide")
    # then: steep ramp 0 at 20 % over, wide ramp 0 at 60 % over
    assert [by_id[r + 1][steep] for r in rows] == pytest.approx([1.0, 0.5, 0.0, 0.0])
    assert [by_id[r + 1][wide] for r in rows] == pytest.approx([1.0, 1 - 0.1 / 0.6, 1 - 0.4 / 0.6, 0.0])
    assert ranked_ids(snap, scores) == [r + 1 for r in rows]


def test_an_offer_a_little_outside_the_range_is_listed_and_one_far_outside_is_not():
    # given: the lead asks 200–300 m²; the near window is 150–375 m² (25 % each way)
    d = HandDistrict()
    inside, above, below, far = (d.building() for _ in range(4))
    d.unit(inside, area=250)
    d.unit(above, area=330)  # 30 of the 75 m² beyond the top: within range 1 − 30/75 = 0.6
    d.unit(below, area=160)  # 40 of the 50 m² below the bottom: 1 − 40/50 = 0.2
    d.unit(far, area=400)
    # when
    snap, scores = rank(d, lead(area=(200, 300)))
    by_id = dict(zip(ranked_ids(snap, scores), scores.features.tolist(), strict=True))
    within = list(FEATURE_NAMES).index("space.within_range")
    # then
    assert reason_of(snap, scores, far + 1) == "no_space"
    assert {i: by_id[i][within] for i in by_id} == pytest.approx(
        {inside + 1: 1.0, above + 1: 0.6, below + 1: 0.2}
    )
    assert ranked_ids(snap, scores) == [inside + 1, above + 1, below + 1]


def test_a_rent_at_the_tolerated_limit_is_kept():
    # given: 3.00 × 1.10 = 3.30 exactly
    d = HandDistrict()
    edge = d.building()
    d.unit(edge, area=200, rent=3.30)
    # when
    snap, scores = rank(d, lead(budget=3.0), tolerance=0.10)
    # then
    assert ranked_ids(snap, scores) == [edge + 1]


def test_a_rent_subsidy_the_lead_is_eligible_for_brings_a_building_within_budget():
    # given: 50 % rent subsidy for 12 months at 200 m² × 3.50:
    #   relief = 200 × 3.50 × 365 × 50 % = 127,750 yuan over three years
    #   rent after relief = 3.50 − 127,750 / (200 × 365 × 3) = 3.50 − 0.5833 = 2.9167 ≤ 3.30
    d = HandDistrict()
    subsidised = d.building("补贴楼")
    d.unit(subsidised, area=200, rent=3.50)
    book = PolicyBook(
        [
            PolicyTerms(
                id=1,
                name="房租减半",
                scope=Scope.BUILDING,
                scope_id=subsidised + 1,
                valid_from=dt.date(2020, 1, 1),
                benefits=(BenefitTerms(BenefitKind.RENT_SUBSIDY, percent=50, months=12),),
            )
        ],
        tax_retained_share=0.4,
    )
    snap = d.snapshot()
    # when
    scores = rank_buildings(
        snap,
        lead(budget=3.0),
        weights=WEIGHTS,
        incentives=PolicyIncentives(book, snap.buildings),
        tolerance=0.10,
    )
    # then
    assert ranked_ids(snap, scores) == [subsidised + 1]
    assert scores.rent_relief_3y[0] == pytest.approx(127_750.0)
    shown = explain_buildings(snap, scores, incentives=PolicyIncentives(book, snap.buildings), limit=1)[0]
    assert shown.offer.effective_rent == pytest.approx(3.50 - 127_750 / (200 * 365 * 3), abs=1e-4)
    assert shown.incentives[0]["name"] == "房租减半"


def test_a_building_without_space_in_the_range_is_excluded_as_no_space():
    # given: the lead asks 150–300 m²; the building has 100 m² on floor 5 and 400 m² on floor 6
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=100, floor=5)
    d.unit(b, area=400, floor=6)
    # when
    snap, scores = rank(d, lead(area=(150, 300)))
    # then
    assert ranked_ids(snap, scores) == []
    assert reason_of(snap, scores, b + 1) == "no_space"


def test_units_on_different_floors_are_not_combined():
    # given: 100 m² on floor 5 and 100 m² on floor 6 would make 200 m² only across floors
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=100, floor=5)
    d.unit(b, area=100, floor=6)
    # when
    snap, scores = rank(d, lead(area=(150, 300)))
    # then
    assert reason_of(snap, scores, b + 1) == "no_space"


def test_vacant_units_on_one_floor_are_offered_together_closest_to_the_middle():
    # given: range 150–300 (middle 225): 160 alone is 65 away, 100 + 120 = 220 is 5 away
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=160, floor=4, number="401")
    first = d.unit(b, area=100, floor=5, number="501")
    second = d.unit(b, area=120, floor=5, number="502")
    # when
    snap, scores = rank(d, lead(area=(150, 300)))
    view = explain_buildings(snap, scores, incentives=NoIncentives(), limit=1)[0].offer
    # then
    assert view.unit_ids == [first, second]
    assert view.area_m2 == 220
    assert view.floor == 5


def test_at_equal_distance_a_single_unit_beats_a_combination():
    # given: middle 225: 230 alone and 100 + 120 = 220 are both 5 away
    d = HandDistrict()
    b = d.building()
    single = d.unit(b, area=230, floor=4, number="401")
    d.unit(b, area=100, floor=5, number="501")
    d.unit(b, area=120, floor=5, number="502")
    # when
    snap, scores = rank(d, lead(area=(150, 300)))
    # then
    assert explain_buildings(snap, scores, incentives=NoIncentives(), limit=1)[0].offer.unit_ids == [single]


def test_leased_units_are_never_offered():
    # given
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=200, status="leased")
    d.unit(b, area=200, status="self_used")
    # when
    snap, scores = rank(d, lead())
    # then
    assert reason_of(snap, scores, b + 1) == "no_space"


def test_a_unit_held_for_another_lead_is_not_offered_but_its_holder_sees_it():
    # given: unit held for lead 2 until after today
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=200, status="reserved", hold_lead=2, hold_expires=TODAY + dt.timedelta(days=5))
    snap = d.snapshot()
    # when
    other = rank_buildings(snap, lead(lead_id=1), weights=WEIGHTS, incentives=NoIncentives())
    holder = rank_buildings(snap, lead(lead_id=2), weights=WEIGHTS, incentives=NoIncentives())
    # then
    assert other.order.size == 0 and FILTERS[int(other.reason[b])] == "no_space"
    assert snap.buildings.id[holder.order].tolist() == [b + 1]


def test_an_expired_hold_no_longer_keeps_a_unit_from_other_leads():
    # given: the hold expired yesterday but has not been released yet
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=200, status="reserved", hold_lead=2, hold_expires=TODAY - dt.timedelta(days=1))
    # when
    snap, scores = rank(d, lead(lead_id=1))
    # then
    assert ranked_ids(snap, scores) == [b + 1]


def test_space_not_available_by_the_move_in_date_is_excluded_as_not_available():
    # given: the unit frees up on 1 June; the lead wants to move in on 1 April
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=200, available=dt.date(2024, 6, 1))
    # when
    snap, early = rank(d, lead(desired_move_in=dt.date(2024, 4, 1)))
    _, late = rank(d, lead(desired_move_in=dt.date(2024, 7, 1)))
    # then
    assert reason_of(snap, early, b + 1) == "not_available"
    assert ranked_ids(snap, late) == [b + 1]


def test_a_building_not_in_service_yet_is_excluded():
    # given
    d = HandDistrict()
    b = d.building(in_service=TODAY + dt.timedelta(days=30))
    d.unit(b, area=200)
    # when
    snap, scores = rank(d, lead())
    # then
    assert reason_of(snap, scores, b + 1) == "not_in_service"


def test_a_building_whose_entry_condition_excludes_the_company_says_why():
    # given: a finance building that takes section-J companies only
    d = HandDistrict()
    finance = d.building("金融大厦")
    d.unit(finance, area=200)
    text = 'industry_section == "J"'
    d.entry(finance, parse_condition(text), text)
    # when
    snap, business = rank(d, lead("72"))
    _, bank = rank(d, lead("66"))
    # then
    assert reason_of(snap, business, finance + 1) == "entry_condition"
    (excluded,) = exclusions(snap, business)
    assert excluded.reason == "entry_condition"
    assert "L" in excluded.message and "J" in excluded.message
    assert ranked_ids(snap, bank) == [finance + 1]


def test_an_entry_condition_reads_the_offer_area():
    # given: the building takes only tenants of at least 300 m²
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=200)
    d.unit(b, area=350, floor=6)
    text = "area_m2 >= 300"
    d.entry(b, parse_condition(text), text)
    # when
    snap, small = rank(d, lead(area=(150, 250)))
    _, large = rank(d, lead(area=(300, 400)))
    # then
    assert reason_of(snap, small, b + 1) == "entry_condition"
    assert ranked_ids(snap, large) == [b + 1]


def test_a_lead_nothing_fits_gets_an_empty_list_with_the_counts_per_filter():
    # given: three buildings, none of which has 5,000 m² or near it, one free too late, one not in service
    d = HandDistrict()
    d.unit(d.building(), area=200)
    d.unit(d.building(), area=6000, available=TODAY + dt.timedelta(days=90))
    d.unit(d.building(in_service=TODAY + dt.timedelta(days=1)), area=6000)
    # when
    snap, scores = rank(d, lead(area=(5000, 8000), budget=3.0, desired_move_in=TODAY + dt.timedelta(days=30)))
    # then
    assert explain_buildings(snap, scores, incentives=NoIncentives(), limit=10) == []
    assert scores.excluded_counts() == {
        "not_in_service": 1,
        "no_space": 1,
        "not_available": 1,
        "over_budget_cutoff": 0,
        "entry_condition": 0,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"division_code": None}, "industry"),
        ({"division_code": "7"}, "industry"),
        ({"area_min": None}, "area_min_m2"),
        ({"area_max": None}, "area_max_m2"),
        ({"area_min": 400.0, "area_max": 300.0}, "area_max_m2"),
        ({"area_min": 0.0}, "area_min_m2"),
    ],
)
def test_a_lead_without_industry_or_area_or_with_an_inverted_range_is_refused_naming_the_field(
    changes, field
):
    # given
    values = {"division_code": "72", "area_min": 150.0, "area_max": 300.0}
    values.update(changes)
    # when
    with pytest.raises(MatchingInputError) as error:
        lead_query(id=1, industries=INDUSTRIES, **values)
    # then
    assert error.value.field == field
    assert " / " in error.value.message


def test_an_inverted_range_message_gives_both_ends():
    # when
    with pytest.raises(MatchingInputError) as error:
        lead_query(id=1, industries=INDUSTRIES, division_code="72", area_min=400, area_max=300)
    # then
    assert "400" in error.value.message and "300" in error.value.message


def test_an_entry_condition_reads_the_leads_own_intention_to_pay_tax_here():
    # given: the building takes only companies that pay their tax in the district
    d = HandDistrict()
    b = d.building()
    d.unit(b, area=200)
    text = "pays_tax_in_district"
    d.entry(b, parse_condition(text), text)
    # when
    snap, elsewhere = rank(d, replace(lead(), pays_tax_in_district=False))
    _, here = rank(d, lead())
    # then
    assert reason_of(snap, elsewhere, b + 1) == "entry_condition"
    assert ranked_ids(snap, here) == [b + 1]


def test_a_learned_budget_cut_off_excludes_only_rents_beyond_it_both_ways():
    # given: budget 2.00 and a cut-off of 1.2 × budget (2.40): rents 2.30 (kept) and 2.60 (cut)
    d = HandDistrict()
    kept, cut = d.building(), d.building()
    d.unit(kept, area=200, rent=2.30)
    d.unit(cut, area=200, rent=2.60)
    snap = d.snapshot()
    query = lead(budget=2.0)
    # when
    scores = rank_buildings(snap, query, weights=WEIGHTS, incentives=NoIncentives(), budget_cutoff=1.2)
    backwards = rank_leads(
        snap, cut, LeadTable.of([query]), weights=WEIGHTS, incentives=NoIncentives(), budget_cutoff=1.2
    )
    # then
    assert ranked_ids(snap, scores) == [kept + 1]
    assert reason_of(snap, scores, cut + 1) == "over_budget_cutoff"
    assert backwards.order.size == 0 and FILTERS[int(backwards.reason[0])] == "over_budget_cutoff"

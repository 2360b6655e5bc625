"""Properties of the ranking over generated districts: filters hold, unrelated buildings change nothing,
rankings are deterministic, and both directions agree."""

import datetime as dt
import random
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.core.rank import rank_all, rank_buildings, rank_leads
from matching.core.types import (
    ALWAYS,
    FILTERS,
    UNIT_RESERVED,
    UNIT_VACANT,
    LeadTable,
    NoIncentives,
    weight_vector,
)
from tests.matching.districts import TODAY, HandDistrict, lead

WEIGHTS = weight_vector()
DIVISIONS = ("72", "71", "65", "64", "51", "67")
MAINS = (None, "72", "65", "L", "J", "51")
STATUSES = ("vacant", "vacant", "vacant", "leased", "reserved", "self_used")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def districts(draw, min_buildings=1):
    d = HandDistrict()
    for _ in range(draw(st.integers(min_buildings, 6))):
        row = d.building(
            main=draw(st.sampled_from(MAINS)),
            street=draw(st.integers(1, 3)),
            star=draw(st.integers(0, 5)),
            services=draw(st.integers(0, 3)),
            in_service=draw(st.sampled_from([None, None, None, TODAY + dt.timedelta(days=10)])),
        )
        add_units(draw, d, row)
        for _ in range(draw(st.integers(0, 4))):
            d.tenant(row, draw(st.sampled_from(DIVISIONS)), area=draw(st.integers(50, 800)))
    return d


def add_units(draw, d: HandDistrict, row: int) -> None:
    for _ in range(draw(st.integers(0, 6))):
        d.unit(
            row,
            area=float(draw(st.integers(40, 700))),
            rent=draw(st.sampled_from([None, 1.5, 2.0, 2.5, 3.0, 3.5, 4.5])),
            floor=draw(st.integers(1, 3)),
            status=draw(st.sampled_from(STATUSES)),
            available=draw(st.sampled_from([None, None, TODAY + dt.timedelta(days=60)])),
            hold_lead=draw(st.sampled_from([-1, -1, 1, 2])),
            hold_expires=TODAY + dt.timedelta(days=draw(st.integers(-3, 3))),
        )


@st.composite
def leads(draw, lead_id=1):
    low = draw(st.integers(50, 600))
    return lead(
        draw(st.sampled_from(DIVISIONS)),
        lead_id=lead_id,
        area=(float(low), float(low + draw(st.integers(0, 500)))),
        budget=draw(st.sampled_from([None, 2.0, 2.5, 3.0, 4.0])),
        expected_tax=float(draw(st.sampled_from([0, 500_000, 3_000_000]))),
        desired_move_in=draw(
            st.sampled_from([None, TODAY + dt.timedelta(days=30), TODAY + dt.timedelta(days=90)])
        ),
        preferred_streets=tuple(draw(st.sets(st.integers(1, 3), max_size=2))),
        registers_in_district=draw(st.booleans()),
        settles_in_district=draw(st.booleans()),
        pays_tax_in_district=draw(st.booleans()),
    )


@SETTINGS
@given(districts(), leads())
def test_a_building_that_fails_a_hard_filter_never_appears(district, query):
    # given
    snap = district.snapshot()
    # when
    scores = rank_buildings(snap, query, weights=WEIGHTS, incentives=NoIncentives(), tolerance=0.1)
    # then: ranked and excluded buildings partition the district
    ranked = set(scores.order.tolist())
    excluded = set(np.flatnonzero(scores.reason >= 0).tolist())
    assert ranked.isdisjoint(excluded)
    assert ranked | excluded == set(range(len(snap.buildings)))
    # and every ranked building's offer passes every filter, checked here from the raw units
    units = snap.units
    for row in ranked:
        offer = int(scores.offer[row])
        members = snap.offers.units_of(offer)
        assert (units.building[members] == row).all()
        assert len(set(units.floor[members].tolist())) == 1
        assert np.isin(units.status[members], [UNIT_VACANT, UNIT_RESERVED]).all()
        held_by_other = (units.hold_lead[members] >= 0) & (units.hold_lead[members] != query.id)
        assert not (held_by_other & (units.hold_expires[members] >= snap.on)).any()
        area = units.area[members].sum()
        # the range widened by the near window (25 % each way), the only area wall
        assert query.area_min * 0.75 - 1e-9 <= area <= query.area_max * 1.25 + 1e-9
        assert (units.available_from[members] <= query.desired_move_in).all()
        assert snap.buildings.in_service_since[row] <= snap.on
    # and each exclusion names a known filter
    assert all(0 <= code < len(FILTERS) for code in scores.reason[list(excluded)])


@SETTINGS
@given(districts(), leads(), st.data())
def test_adding_an_unrelated_building_never_reorders_the_others(district, query, data):
    # given: the ranking of the district, then the same district with one more building (no tenants)
    before = rank_buildings(district.snapshot(), query, weights=WEIGHTS, incentives=NoIncentives())
    row = district.building(main=data.draw(st.sampled_from(MAINS)), star=data.draw(st.integers(0, 5)))
    add_units(data.draw, district, row)
    # when
    after = rank_buildings(district.snapshot(), query, weights=WEIGHTS, incentives=NoIncentives())
    # then: the old buildings keep their scores and their order
    kept = after.order[after.order != row]
    assert kept.tolist() == before.order.tolist()
    np.testing.assert_allclose(after.scores[after.order != row], before.scores)


@SETTINGS
@given(districts(), leads(), st.randoms(use_true_random=False))
def test_rankings_are_deterministic_whatever_order_the_units_were_added_in(
    district, query, rng: random.Random
):
    # given
    first = rank_buildings(district.snapshot(), query, weights=WEIGHTS, incentives=NoIncentives())
    again = rank_buildings(district.snapshot(), query, weights=WEIGHTS, incentives=NoIncentives())
    rng.shuffle(district.units)
    shuffled = rank_buildings(district.snapshot(), query, weights=WEIGHTS, incentives=NoIncentives())
    # then
    for other in (again, shuffled):
        assert other.order.tolist() == first.order.tolist()
        np.testing.assert_array_equal(other.scores, first.scores)
        np.testing.assert_array_equal(other.reason, first.reason)


@SETTINGS
@given(districts(), st.lists(leads(), min_size=1, max_size=5))
def test_forward_and_reverse_rankings_give_each_pair_the_same_score_and_offer(district, queries):
    # given: leads with distinct ids
    queries = [lead_with_id(q, i + 1) for i, q in enumerate(queries)]
    snap = district.snapshot()
    table = LeadTable.of(queries)
    forward = {q.id: rank_buildings(snap, q, weights=WEIGHTS, incentives=NoIncentives()) for q in queries}
    for row in range(len(snap.buildings)):
        # when
        backward = rank_leads(snap, row, table, weights=WEIGHTS, incentives=NoIncentives())
        # then
        for lead_row, score in zip(backward.order.tolist(), backward.scores.tolist(), strict=True):
            f = forward[int(table.id[lead_row])]
            position = int(np.flatnonzero(f.order == row)[0])
            assert abs(f.scores[position] - score) < 1e-12
            assert f.offer[row] == backward.offer[lead_row]
        for lead_row in range(len(table)):
            f = forward[int(table.id[lead_row])]
            assert f.reason[row] == backward.reason[lead_row]


@SETTINGS
@given(districts(), st.lists(leads(), min_size=1, max_size=4))
def test_the_batch_of_all_leads_agrees_with_ranking_each_lead(district, queries):
    # given
    queries = [lead_with_id(q, i + 1) for i, q in enumerate(queries)]
    snap = district.snapshot()
    # when
    rows, scores = rank_all(snap, LeadTable.of(queries), weights=WEIGHTS, incentives=NoIncentives(), top=3)
    # then
    for i, q in enumerate(queries):
        single = rank_buildings(snap, q, weights=WEIGHTS, incentives=NoIncentives())
        expected = single.order[:3].tolist()
        assert rows[i][rows[i] >= 0].tolist() == expected
        np.testing.assert_allclose(scores[i][: len(expected)], single.scores[:3])


@SETTINGS
@given(districts(), leads())
def test_every_component_lies_between_0_and_1(district, query):
    scores = rank_buildings(district.snapshot(), query, weights=WEIGHTS, incentives=NoIncentives())
    assert ((scores.features >= 0) & (scores.features <= 1)).all()
    assert ((scores.components >= 0) & (scores.components <= 1 + 1e-12)).all()
    assert ((scores.scores >= 0) & (scores.scores <= 1 + 1e-12)).all()


def lead_with_id(query, lead_id):
    return replace(query, id=lead_id)


def test_a_blank_available_date_means_available_now():
    # given
    d = HandDistrict()
    d.unit(d.building(), area=200, available=None)
    # then
    assert d.snapshot().offers.available_from.tolist() == [ALWAYS]

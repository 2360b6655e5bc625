"""The filter audit on hand-built districts: which constraint would have removed a signed building."""

import datetime as dt

import numpy as np
import pytest

from matching.core.audit import audit_report, constraints_failed, in_range_pool, learned_budget_cutoff
from matching.core.rank import rank_buildings
from matching.core.types import NoIncentives, weight_vector
from tests.matching.districts import TODAY, HandDistrict, lead


def flags_of(district: HandDistrict, query, rows):
    snap = district.snapshot()
    scores = rank_buildings(snap, query, weights=weight_vector(), incentives=NoIncentives())
    failed, ratio = constraints_failed(snap, scores, np.array(rows), tolerance=0.10)
    return {name: values.tolist() for name, values in failed.items()}, ratio


def test_each_building_is_charged_to_the_constraint_that_would_remove_it():
    # given: budget 2.00, range 200–300 m²
    d = HandDistrict()
    fits = d.building()
    d.unit(fits, area=250, rent=2.00)
    dear = d.building()
    d.unit(dear, area=250, rent=2.40)  # 20 % over: above the former cut-off at 2.20
    beyond = d.building()
    d.unit(beyond, area=330, rent=2.00)  # outside the range, inside the near window (375)
    closed = d.building(in_service=TODAY + dt.timedelta(days=10))
    d.unit(closed, area=250, rent=2.00)
    # when
    failed, ratio = flags_of(d, lead(area=(200, 300), budget=2.0), [fits, dear, beyond, closed])
    # then: only the building not in service is excluded; the others are listed and flagged
    assert failed["not_in_service"] == [False, False, False, True]
    assert failed["over_budget"] == [False, True, False, False]
    assert failed["outside_area_range"] == [False, False, True, False]
    assert not any(failed["no_space"] + failed["not_available"] + failed["entry_condition"])
    assert ratio[:3] == pytest.approx([1.0, 1.2, 1.0]) and np.isnan(ratio[3])


def test_the_report_gives_each_constraints_share_of_signed_and_toured_buildings():
    # given: 4 signed buildings, one removed by no space; 2 toured, one over budget
    none = {"not_in_service": False, "no_space": False, "not_available": False, "entry_condition": False}
    clean = {**none, "over_budget": False, "outside_area_range": False}
    signed = [clean, clean, clean, {**clean, "no_space": True}]
    toured = [clean, {**clean, "over_budget": True}]
    # when
    report = audit_report(signed, toured, [0.9, 1.0, 1.2, float("nan")])
    # then
    assert report["filters"]["no_space"]["signed_removed_share"] == pytest.approx(0.25)
    assert report["filters"]["no_space"]["kept"] and not report["filters"]["no_space"]["within_limit"]
    assert report["filters"]["over_budget"]["toured_removed_share"] == pytest.approx(0.5)
    assert not report["filters"]["over_budget"]["kept"]
    # rent / budget of the three signed buildings with one: one above the budget
    assert report["rent_to_budget"]["above_budget_share"] == pytest.approx(1 / 3)
    assert report["rent_to_budget"]["percentiles"]["p50"] == pytest.approx(1.0)


def test_the_baselines_pool_is_every_in_service_building_with_a_vacancy_in_the_stated_range():
    # given: range 200–300; A has 250 m² at 2.60 and 280 m² at 2.10; B only 330 m²; C not in service
    d = HandDistrict()
    a, b = d.building(), d.building()
    d.unit(a, area=250, rent=2.60)
    d.unit(a, area=280, rent=2.10, floor=6)
    d.unit(b, area=330)
    c = d.building(in_service=TODAY + dt.timedelta(days=1))
    d.unit(c, area=250)
    # when
    pool = in_range_pool(d.snapshot(), lead(area=(200, 300)))
    # then: A alone, at its cheapest fitting rent
    assert pool.rows.tolist() == [a]
    assert pool.rent.tolist() == pytest.approx([2.10])


def test_a_past_day_counts_a_unit_whose_lease_ends_that_day_as_free():
    # given: a lease of the unit until 2024-02-29; the next company signs it on 2024-03-01
    d = HandDistrict()
    b = d.building()
    unit = d.unit(b, area=250, status="leased")
    d.link(unit, dt.date(2023, 3, 1), dt.date(2024, 2, 29))
    # when: ranked as of the day before that signing, and a day earlier
    before = d.snapshot(on=dt.date(2024, 2, 29), historical=True)
    earlier = d.snapshot(on=dt.date(2024, 2, 28), historical=True)
    # then
    assert len(before.offers) == 1 and len(earlier.offers) == 0


def test_the_budget_cut_off_is_the_99th_percentile_of_signed_rent_to_budget_and_never_below_1_1():
    # given: 101 signings with rent / budget 0.90, 0.91, …, 1.90 (step 0.01); the 99th percentile of
    #   101 evenly spaced values is the 100th, 1.89
    ratios = [0.90 + k / 100 for k in range(101)]
    # then
    assert learned_budget_cutoff(ratios) == pytest.approx(1.89)
    assert learned_budget_cutoff([1.0] * 40) == pytest.approx(1.1)  # the floor
    assert learned_budget_cutoff([1.5] * 29 + [float("nan")] * 10) == float("inf")  # too few to say

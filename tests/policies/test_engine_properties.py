"""Properties of the evaluator over random policies (hypothesis): no negative amount, no cap exceeded,
an ineligible policy changes nothing, and a batch agrees with buildings one by one."""

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.engine import (
    BenefitKind,
    BenefitTerms,
    BuildingFacts,
    Offer,
    PolicyBook,
    PolicyTerms,
    Profile,
    Scope,
)

ON = dt.date(2026, 3, 1)
BUILDINGS = [
    BuildingFacts(
        id=1, street_id=1, business_circle_id=1, star_rating=4, featured_type="finance", rent_per_m2_day=2.8
    ),
    BuildingFacts(id=2, street_id=1, business_circle_id=None, star_rating=2, rent_per_m2_day=1.9),
    BuildingFacts(id=3, street_id=2, business_circle_id=1, star_rating=5, featured_type="headquarters"),
    BuildingFacts(id=4, street_id=3, business_circle_id=2, star_rating=0, rent_per_m2_day=4.5),
]
CONDITIONS = [
    "",
    'industry_section == "J"',
    "area_m2 >= 300",
    "expected_annual_tax >= 1000000 and pays_tax_in_district",
    "star_rating >= 3",
    'featured_type in ["finance", "headquarters"]',
    "is_headquarters or employees >= 50",
    "not registers_in_district",
    "expected_tax_per_m2 > 2600",
]
money = st.one_of(st.none(), st.integers(0, 3_000_000).map(float))


@st.composite
def benefits(draw):
    kind = draw(st.sampled_from(list(BenefitKind)))
    if kind == BenefitKind.RENT_SUBSIDY:
        return BenefitTerms(
            kind,
            percent=draw(st.integers(1, 100)),
            months=draw(st.integers(1, 60)),
            cap_yuan=draw(money),
            yearly_cap_yuan=draw(money),
        )
    if kind == BenefitKind.RENT_FREE:
        return BenefitTerms(
            kind, months=draw(st.integers(1, 60)), cap_yuan=draw(money), yearly_cap_yuan=draw(money)
        )
    if kind in (BenefitKind.SETTLEMENT_SUBSIDY, BenefitKind.RENOVATION_SUBSIDY):
        return BenefitTerms(kind, yuan_per_m2=draw(st.integers(1, 500)), cap_yuan=draw(money))
    if kind == BenefitKind.TAX_REWARD:
        return BenefitTerms(
            kind,
            percent=draw(st.integers(1, 100)),
            years=draw(st.integers(1, 5)),
            cap_yuan=draw(money),
            yearly_cap_yuan=draw(money),
        )
    return BenefitTerms(kind, amount_yuan=float(draw(st.integers(1, 2_000_000))))


@st.composite
def policies(draw, pid: int):
    scope = draw(st.sampled_from(list(Scope)))
    scope_id = {
        Scope.DISTRICT: None,
        Scope.STREET: draw(st.integers(1, 3)),
        Scope.BUSINESS_CIRCLE: draw(st.integers(1, 2)),
        Scope.BUILDING: draw(st.integers(1, 4)),
    }[scope]
    return PolicyTerms(
        id=pid,
        name=f"p{pid}",
        scope=scope,
        scope_id=scope_id,
        valid_from=ON - dt.timedelta(days=draw(st.integers(-30, 400))),
        valid_to=draw(st.one_of(st.none(), st.just(ON + dt.timedelta(days=draw(st.integers(-30, 400)))))),
        benefits=tuple(draw(st.lists(benefits(), min_size=1, max_size=3))),
        condition=draw(st.sampled_from(CONDITIONS)),
        priority=draw(st.integers(0, 3)),
        stacking_group=draw(st.sampled_from(["", "rent", "tax"])),
    )


@st.composite
def policy_sets(draw):
    size = draw(st.integers(0, 8))
    return [draw(policies(pid)) for pid in range(1, size + 1)]


profiles = st.builds(
    Profile,
    industry_section=st.sampled_from(["", "J", "I", "M"]),
    expected_annual_tax=st.integers(0, 50_000_000).map(float),
    employees=st.integers(0, 500).map(float),
    is_headquarters=st.booleans(),
    registers_in_district=st.booleans(),
    settles_in_district=st.booleans(),
    pays_tax_in_district=st.booleans(),
)
offers = st.builds(
    Offer,
    area_m2=st.integers(1, 5_000).map(float),
    on=st.just(ON),
    rent_per_m2_day=st.one_of(st.none(), st.integers(0, 600).map(lambda c: c / 100)),
)
buildings = st.sampled_from(BUILDINGS)
SHARE = 0.4


@settings(max_examples=150, deadline=None)
@given(policy_sets(), profiles, buildings, offers)
def test_no_amount_is_ever_negative(policy_set, profile, building, offer):
    result = PolicyBook(policy_set, tax_retained_share=SHARE).evaluate(profile, building, offer)

    assert all(amount >= 0 for amount in result.all_years)
    for outcome in (*result.applied, *result.outranked):
        for benefit in outcome.benefits:
            assert all(amount >= 0 for amount in benefit.all_years)


@settings(max_examples=150, deadline=None)
@given(policy_sets(), profiles, buildings, offers)
def test_no_cap_is_ever_exceeded(policy_set, profile, building, offer):
    result = PolicyBook(policy_set, tax_retained_share=SHARE).evaluate(profile, building, offer)

    terms = {p.id: p for p in policy_set}
    for outcome in (*result.applied, *result.outranked):
        for benefit, term in zip(outcome.benefits, terms[outcome.policy_id].benefits, strict=True):
            if term.yearly_cap_yuan is not None:
                assert max(benefit.all_years) <= Decimal(str(term.yearly_cap_yuan))
            if term.cap_yuan is not None:
                assert benefit.total <= Decimal(str(term.cap_yuan))


INELIGIBLE_WAYS = [
    {"condition": "expected_annual_tax < 0"},  # no applicant expects negative tax
    {"scope": Scope.BUILDING, "scope_id": 999},  # a building outside the set
    {"valid_to": ON - dt.timedelta(days=1)},  # expired the day before
    {"active": False},
    {"needs_approval": True, "approved": False},
    {"needs_approval": True, "approved": True, "lead_id": 424242, "scope": Scope.BUILDING, "scope_id": 1},
]


@settings(max_examples=150, deadline=None)
@given(
    policy_sets(),
    profiles,
    buildings,
    offers,
    st.sampled_from(INELIGIBLE_WAYS),
    benefits(),
    st.sampled_from(["", "rent", "tax"]),
)
def test_adding_an_ineligible_policy_never_changes_the_result(
    policy_set, profile, building, offer, how, benefit, group
):
    # given an extra policy, as rich as it likes, that cannot apply to this applicant here and now
    extra = PolicyTerms(
        **{
            "id": 1000,
            "name": "extra",
            "scope": Scope.DISTRICT,
            "valid_from": ON - dt.timedelta(days=9),
            "benefits": (benefit,),
            "stacking_group": group,
            **how,
        }
    )

    # when
    before = PolicyBook(policy_set, tax_retained_share=SHARE).evaluate(profile, building, offer)
    after = PolicyBook([*policy_set, extra], tax_retained_share=SHARE).evaluate(profile, building, offer)

    # then
    assert after.all_years == before.all_years
    assert [o.policy_id for o in after.applied] == [o.policy_id for o in before.applied]
    assert [o.policy_id for o in after.outranked] == [o.policy_id for o in before.outranked]


@settings(max_examples=100, deadline=None)
@given(policy_sets(), profiles, offers)
def test_a_batch_agrees_with_each_building_alone(policy_set, profile, offer):
    book = PolicyBook(policy_set, tax_retained_share=SHARE)

    batch = book.evaluate_many(profile, BUILDINGS, offer)

    for building in BUILDINGS:
        alone = book.evaluate(profile, building, offer)
        assert batch.total(building.id) == alone.total
        assert batch.policy_ids(building.id) == sorted(o.policy_id for o in alone.applied)


@settings(max_examples=100, deadline=None)
@given(policy_sets(), profiles, buildings, offers)
def test_within_a_group_at_most_one_policy_applies(policy_set, profile, building, offer):
    result = PolicyBook(policy_set, tax_retained_share=SHARE).evaluate(profile, building, offer)

    groups = [o.stacking_group for o in result.applied if o.stacking_group]
    assert len(groups) == len(set(groups))
    for loser in result.outranked:
        winner = next(o for o in result.applied if o.stacking_group == loser.stacking_group)
        assert winner.total >= loser.total

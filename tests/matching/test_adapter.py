"""Ranking through the database: the arrays follow every change, and bad input is refused clearly."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.constants import LeadStage, UnitStatus
from crm.data_versions import MATCHING, current_versions
from crm.models import Lead
from crm.services.reservations import unit_reserve
from crm.services.signings import signing_complete
from crm.services.tenancies import tenancy_create
from matching import adapter
from matching.core.types import (
    DEFAULT_WEIGHTS,
    FEATURE_NAMES,
    MatchingInputError,
    named_weights,
    weight_vector,
)
from matching.models import EntryRule, RankingModel
from policies.services import policy_create
from tests.factories import (
    BuildingFactory,
    EnterpriseFactory,
    LeadFactory,
    StreetFactory,
    UnitFactory,
    industry,
    make_credit_code,
)
from tests.processes import other_process

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def district():
    """A business building designated 72 and a plain one, each with one 200 m² unit at 2.50."""
    street = StreetFactory(name="府山街道")
    business = BuildingFactory(name="商务楼", street=street, main_industry=industry("72"), star_rating=3)
    plain = BuildingFactory(name="普通楼", street=street)
    units = {
        "business": UnitFactory(building=business, area_m2=Decimal("200"), asking_rent=Decimal("2.50")),
        "plain": UnitFactory(building=plain, area_m2=Decimal("200"), asking_rent=Decimal("2.50")),
    }
    lead = LeadFactory(
        industry=industry("72"), area_min_m2=150, area_max_m2=300, budget_rent=Decimal("3.00"), ref="L-ME"
    )
    return {"business": business, "plain": plain, "units": units, "lead": lead}


def negotiating_lead(n: int, **kwargs) -> Lead:
    return LeadFactory(stage=LeadStage.NEGOTIATING, credit_code=make_credit_code(700 + n), **kwargs)


def ranked(matches) -> list[str]:
    return [r.building_name for r in matches.results]


def test_a_lead_gets_buildings_best_first_with_the_model_version_that_ranked_them(district):
    # when
    matches = adapter.match_buildings(district["lead"])
    # then: the 72 building first; no model trained yet, so version 0 and the default weights
    assert ranked(matches) == ["商务楼", "普通楼"]
    assert matches.model_version == 0
    assert matches.weights == named_weights(weight_vector(DEFAULT_WEIGHTS))
    top = matches.results[0]
    assert top.offer.unit_ids == [district["units"]["business"].pk]
    assert top.offer.area_m2 == 200 and top.offer.rent == 2.5
    assert top.reasons and top.reasons[0].component == "industry"


def test_signing_a_unit_removes_it_from_the_next_ranking(district):
    # given: a warm cache that offers the business building
    assert ranked(adapter.match_buildings(district["lead"]))[0] == "商务楼"
    other = negotiating_lead(1)
    # when: another lead signs its only unit
    signing_complete(
        lead=other, building=district["business"], units=[district["units"]["business"]], signed_on=TODAY
    )
    matches = adapter.match_buildings(district["lead"], include_excluded=True)
    # then
    assert ranked(matches) == ["普通楼"]
    assert matches.excluded_counts["no_space"] == 1
    assert [(e.building_name, e.reason) for e in matches.excluded] == [("商务楼", "no_space")]


def test_a_hold_for_another_lead_hides_the_unit_from_everyone_but_that_lead(district):
    # given
    adapter.match_buildings(district["lead"])
    holder = negotiating_lead(2, industry=industry("72"), area_min_m2=150, area_max_m2=300)
    # when
    unit_reserve(lead=holder, unit=district["units"]["business"], expires_on=TODAY + dt.timedelta(days=3))
    # then
    assert ranked(adapter.match_buildings(district["lead"])) == ["普通楼"]
    assert ranked(adapter.match_buildings(holder)) == ["商务楼", "普通楼"]


def test_a_unit_status_change_shows_in_the_next_ranking(district):
    # given
    adapter.match_buildings(district["lead"])
    unit = district["units"]["plain"]
    # when
    unit.status = UnitStatus.UNAVAILABLE
    unit.save()
    # then
    assert ranked(adapter.match_buildings(district["lead"])) == ["商务楼"]


def test_a_new_tenancy_changes_how_well_the_lead_fits_the_tenants(district):
    # given
    before = adapter.match_buildings(district["lead"]).results[1]
    firm = EnterpriseFactory(industry=industry("72"))
    # when: a 72 firm settles in the plain building, which had no tenants
    tenancy_create(
        enterprise=firm, building=district["plain"], start=TODAY - dt.timedelta(days=30), area_m2=300
    )
    after = {r.building_name: r for r in adapter.match_buildings(district["lead"]).results}["普通楼"]
    # then: its tenants are now all 72: tenant fit 0 → 1
    assert before.components["industry"] == 0.0
    assert after.components["industry"] == pytest.approx(1.0)


def test_a_policy_change_shows_in_the_next_ranking(district):
    # given
    adapter.match_buildings(district["lead"])
    # when: the plain building offers a one-off award of 100,000 yuan
    policy_create(
        name="普通楼入驻奖",
        valid_from=TODAY - dt.timedelta(days=1),
        scope="building",
        building=district["plain"],
        benefits=[{"kind": "one_off_award", "amount_yuan": 100000}],
    )
    plain = {r.building_name: r for r in adapter.match_buildings(district["lead"]).results}["普通楼"]
    # then: 100,000 / (200 × 2.50 × 365 × 3) = 100,000 / 547,500
    assert plain.incentive_3y == pytest.approx(100_000)
    assert plain.components["incentive"] == pytest.approx(100_000 / 547_500, abs=1e-6)
    assert [p["name"] for p in plain.incentives] == ["普通楼入驻奖"]


def test_a_newly_trained_model_ranks_the_next_request(district):
    # given
    adapter.match_buildings(district["lead"])
    weights = {**{f: 0.0 for f in FEATURE_NAMES}, "price.saving": 1.0}
    RankingModel.objects.create(
        version=1,
        created_at=timezone.now(),
        learned_weights=weights,
        weights=weights,
        blend_share=0.5,
        leads=100,
        pairs=1000,
    )
    # when
    matches = adapter.match_buildings(district["lead"])
    # then
    assert matches.model_version == 1
    assert matches.results[0].contributions["industry"] == 0.0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"industry": None}, "industry"),
        ({"area_min_m2": None}, "area_min_m2"),
        ({"area_max_m2": None}, "area_max_m2"),
        ({"area_min_m2": Decimal("400"), "area_max_m2": Decimal("300")}, "area_max_m2"),
    ],
)
def test_a_lead_it_cannot_rank_is_refused_naming_the_field(district, changes, field):
    # given: an unsaved lead, since the database itself refuses an inverted range
    lead = Lead(industry=industry("72"), area_min_m2=150, area_max_m2=300, company_name="某公司")
    for name, value in changes.items():
        setattr(lead, name, value)
    # when
    with pytest.raises(MatchingInputError) as error:
        adapter.match_buildings(lead)
    # then
    assert error.value.field == field


def test_a_lead_nothing_fits_gets_an_empty_list_with_the_counts(district):
    # given
    big = LeadFactory(industry=industry("72"), area_min_m2=5000, area_max_m2=8000)
    # when
    matches = adapter.match_buildings(big)
    # then
    assert matches.results == []
    assert matches.excluded_counts["no_space"] == 2


def test_an_entry_rule_excludes_companies_it_does_not_take(district):
    # given: the business building takes section J only
    rule = EntryRule(building=district["business"], condition='industry_section == "J"')
    rule.full_clean()
    rule.save()
    # when
    matches = adapter.match_buildings(district["lead"], include_excluded=True)
    # then
    assert ranked(matches) == ["普通楼"]
    (excluded,) = matches.excluded
    assert excluded.reason == "entry_condition" and "J" in excluded.message


def test_an_entry_rule_with_an_unknown_field_is_refused_with_the_allowed_names(district):
    rule = EntryRule(building=district["business"], condition='industry_sektion == "J"')
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert "industry_section" in str(error.value)


def test_open_leads_are_ranked_for_a_building_and_leads_without_data_are_counted(district):
    # given: a 65 lead that also fits, and an open lead without an industry
    LeadFactory(industry=industry("65"), area_min_m2=150, area_max_m2=300, ref="L-IT")
    LeadFactory(industry=None, ref="L-NONE")
    # when
    matches = adapter.match_leads(district["business"])
    # then
    assert [matches.labels[r.lead_id][0] for r in matches.results] == ["L-ME", "L-IT"]
    assert matches.leads_without_data == {"industry": 1}
    assert matches.results[0].offer.unit_ids == [district["units"]["business"].pk]


def test_leads_for_one_unit_must_take_that_unit(district):
    # given: a second unit of 400 m² in the business building and a lead that needs 350–450 m²
    big = UnitFactory(building=district["business"], area_m2=400, floor=9, number="901")
    LeadFactory(industry=industry("72"), area_min_m2=350, area_max_m2=450, ref="L-BIG")
    # when
    matches = adapter.match_leads(district["business"], unit=big)
    # then
    assert [matches.labels[r.lead_id][0] for r in matches.results] == ["L-BIG"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_committed_by_another_process_shows_in_the_next_ranking(district):
    # given a warm cache that ranks both buildings
    assert ranked(adapter.match_buildings(district["lead"])) == ["商务楼", "普通楼"]
    plain = district["units"]["plain"]
    # when another process takes the plain building's unit off the market by a bare UPDATE: no
    # signal in this process, no history row, no new id; only the database's triggers see it
    other_process(f"UPDATE crm_unit SET status = 'unavailable' WHERE id = {plain.pk}")
    # then the next ranking has reloaded the units and says which committed version it ranked
    matches = adapter.match_buildings(district["lead"])
    assert ranked(matches) == ["商务楼"]
    assert matches.data_version == current_versions()[MATCHING]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_committed_write_reloads_only_the_part_it_wrote(district):
    # given a warm cache
    adapter.match_buildings(district["lead"])
    loads_before = dict(adapter.cache_info()["loads_seconds"])
    # when another process changes a policy-free table of one part: a unit's asking rent
    other_process(f"UPDATE crm_unit SET asking_rent = 2.40 WHERE id = {district['units']['plain'].pk}")
    adapter.match_buildings(district["lead"])
    # then the units were loaded again, and the buildings, tenancies and policies were not
    loads_after = adapter.cache_info()["loads_seconds"]
    assert loads_after["units"] != loads_before["units"]
    for part in ("buildings", "tenancies", "policies"):
        assert loads_after[part] == loads_before[part]


def test_a_warm_ranking_reads_the_version_stamp_and_the_preferred_streets_only(
    district, django_assert_num_queries
):
    # given: a warm cache
    adapter.match_buildings(district["lead"], details=False)
    # then: 1 the version stamp (one statement of MAX() lookups), 2 the lead's preferred streets
    with django_assert_num_queries(2):
        adapter.match_buildings(district["lead"], details=False)


def test_the_batch_ranks_every_open_lead(district):
    # given
    other = LeadFactory(industry=industry("51"), area_min_m2=150, area_max_m2=300)
    # when
    batch = adapter.match_all_open_leads(top=5)
    # then
    assert [b for b, _ in batch[district["lead"].pk]] == [district["business"].pk, district["plain"].pk]
    assert len(batch[other.pk]) == 2


def test_the_cache_reports_its_memory(district):
    adapter.match_leads(district["business"])
    info = adapter.cache_info()
    assert info["total_bytes"] > 0 and info["open_leads"] == 1


def test_leads_for_a_building_count_tax_only_from_a_lead_that_pays_it_here(district):
    # given: twins expecting 2,000,000 yuan a year; L-AWAY will pay it elsewhere. The business
    #   building (designated 72) has no tax yet: 0 per m², 10,000,000 short of 千万元楼
    for ref, pays in (("L-HERE", True), ("L-AWAY", False)):
        LeadFactory(
            industry=industry("72"),
            area_min_m2=150,
            area_max_m2=300,
            expected_annual_tax=Decimal("2000000"),
            pays_tax_in_district=pays,
            ref=ref,
        )
    # when
    matches = adapter.match_leads(district["business"])
    # then: L-HERE: lift 1 (the building pays none per m²), gap 2,000,000 / 10,000,000 = 0.2, main
    #   industry 1, all three intentions 1: (1 + 0.2 + 1 + 1) / 4 = 0.8.
    #   L-AWAY: no tax here, lift 0 and gap 0; main industry 1; two of three intentions:
    #   (0 + 0 + 1 + 2/3) / 4 = 5/12. Its score is 0.15 × (0.8 − 5/12) = 0.0575 lower.
    by_ref = {matches.labels[r.lead_id][0]: r for r in matches.results}
    assert by_ref["L-HERE"].components["district"] == pytest.approx(0.8, abs=1e-6)
    assert by_ref["L-AWAY"].components["district"] == pytest.approx(5 / 12, abs=1e-6)
    assert by_ref["L-HERE"].score - by_ref["L-AWAY"].score == pytest.approx(0.0575, abs=2e-6)


def test_a_policy_for_companies_registering_here_grants_nothing_to_a_lead_that_will_not(district):
    # given: a district award of 100,000 yuan for companies registering here, and a twin of the
    #   fixture's lead that will register elsewhere
    policy_create(
        name="区内注册奖",
        valid_from=TODAY - dt.timedelta(days=1),
        condition="registers_in_district",
        benefits=[{"kind": "one_off_award", "amount_yuan": 100000}],
    )
    away = LeadFactory(
        industry=industry("72"), area_min_m2=150, area_max_m2=300, registers_in_district=False, ref="L-AWAY"
    )
    # when
    here_cards = adapter.match_buildings(district["lead"]).results
    away_cards = adapter.match_buildings(away).results
    reverse = adapter.match_leads(district["plain"])
    # then: the card's 补贴 is 100,000 for the lead that registers here, 0 for the other, both ways
    assert [(c.incentive_3y, [p["name"] for p in c.incentives]) for c in here_cards] == [
        (100_000, ["区内注册奖"]),
        (100_000, ["区内注册奖"]),
    ]
    assert [(c.incentive_3y, c.incentives) for c in away_cards] == [(0, []), (0, [])]
    incentive = {reverse.labels[r.lead_id][0]: r.incentive_3y for r in reverse.results}
    assert incentive == {"L-ME": 100_000, "L-AWAY": 0}

"""LeadTable's parts for ranking only the leads that changed: a table of some rows, and each lead's digest."""

import numpy as np

from matching.core.types import LeadTable
from tests.matching.districts import lead


def test_a_taken_table_keeps_each_leads_values_and_preferred_streets():
    # given: three leads, the second and third preferring streets
    table = LeadTable.of(
        [
            lead("72", lead_id=1),
            lead("65", lead_id=2, area=(300, 400), preferred_streets=(7,)),
            lead("72", lead_id=3, preferred_streets=(8, 9)),
        ]
    )

    # when: rows 2 and 1, in that order
    taken = table.take(np.array([2, 1]))

    # then: lead 3 is row 0 with streets 8 and 9, lead 2 row 1 with street 7; lead 1's are gone
    assert taken.id.tolist() == [3, 2]
    assert taken.area_max.tolist() == [300.0, 400.0]
    assert sorted(zip(taken.pref_lead.tolist(), taken.pref_street.tolist(), strict=True)) == [
        (0, 8),
        (0, 9),
        (1, 7),
    ]
    assert taken.has_preference.tolist() == [True, True]


def test_a_leads_digest_changes_with_its_inputs_only():
    # given
    before = LeadTable.of([lead("72", lead_id=1), lead("72", lead_id=2)]).fingerprints()

    # when: lead 2 prefers a street; lead 1 is unchanged
    after = LeadTable.of(
        [lead("72", lead_id=1), lead("72", lead_id=2, preferred_streets=(5,))]
    ).fingerprints()

    # then
    assert after[1] == before[1]
    assert after[2] != before[2]


def test_a_leads_digest_changes_with_its_entry_intentions_and_a_taken_table_keeps_them():
    # given: lead 2 will pay its tax elsewhere
    table = LeadTable.of([lead("72", lead_id=1), lead("72", lead_id=2, pays_tax_in_district=False)])
    before = LeadTable.of([lead("72", lead_id=1), lead("72", lead_id=2)]).fingerprints()

    # when
    after = table.fingerprints()
    taken = table.take(np.array([1]))

    # then: its ranking may change, so its digest does; and the taken row still says so
    assert after[1] == before[1]
    assert after[2] != before[2]
    assert taken.pays_tax_in_district.tolist() == [False]
    assert taken.registers_in_district.tolist() == [True]

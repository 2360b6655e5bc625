"""The data versions: advanced by the database in the writing transaction, whoever writes.

The writes come from a second process (psycopg in a subprocess, raw SQL, no Django signal), so what
is tested is the triggers, and what this process reads is what another process committed.
"""

import pytest
from django.db import connection

from crm.data_versions import (
    INDICATORS,
    MATCHING,
    MATCHING_PARTS,
    WATCHED,
    current_versions,
    part_counter,
    trigger_tables,
)
from crm.models import DataVersion, StoredResult
from crm.selectors.stored_results import stored_results
from crm.services.stored_results import YEAR_FIGURES, stored_result_save
from tests.processes import other_process

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


NAMES = ("版本测试一街道", "版本测试二街道", "版本测试三街道")
INSERT = [f"INSERT INTO crm_street (name, kind) VALUES ('{n}', 'subdistrict')" for n in NAMES]
DELETE = "DELETE FROM crm_street WHERE name LIKE '版本测试%'"


def test_a_write_committed_in_another_process_advances_each_of_its_versions_once():
    # given
    before = current_versions()

    try:
        # when: three rows in one transaction, by raw SQL
        other_process(*INSERT)

        # then: streets feed both groups; one transaction is one step, however many rows it writes
        after = current_versions()
        assert after[INDICATORS] == before[INDICATORS] + 1
        assert after[MATCHING] == before[MATCHING] + 1
    finally:
        other_process(DELETE)


def test_a_delete_advances_the_version():
    # given
    other_process(*INSERT)
    before = current_versions()

    # when
    other_process(DELETE)

    # then
    assert current_versions()[INDICATORS] == before[INDICATORS] + 1


def test_a_rolled_back_write_leaves_the_version_as_it_was():
    # given
    before = current_versions()

    # when
    other_process(*INSERT, commit=False)

    # then: neither the rows nor the step exist
    assert current_versions() == before
    assert not connection.cursor().execute("SELECT 1 FROM crm_street WHERE name LIKE '版本测试%'").fetchall()


def test_a_statement_that_changes_no_row_is_no_write():
    # given
    before = current_versions()

    # when
    other_process("UPDATE crm_street SET name = name WHERE id = -1")

    # then
    assert current_versions() == before


def test_a_write_to_matching_inputs_alone_moves_the_matching_version_only():
    # given
    before = current_versions()

    # when: a business circle, which the matching arrays read and the indicators do not
    other_process("INSERT INTO crm_businesscircle (name) VALUES ('版本测试商圈')")

    try:
        # then
        after = current_versions()
        assert after[MATCHING] == before[MATCHING] + 1
        assert after[INDICATORS] == before[INDICATORS]
    finally:
        other_process("DELETE FROM crm_businesscircle WHERE name = '版本测试商圈'")


def test_a_result_stored_before_another_processs_write_reads_as_stale():
    # given: the year's figures stored at the current version
    version = current_versions()[INDICATORS]
    stored_result_save(kind=YEAR_FIGURES, key="2025", version=version, payload={"district": {}}, seconds=0.1)
    assert stored_results(YEAR_FIGURES, ["2025"])["2025"].stale is False

    try:
        # when: another process commits a street
        other_process(INSERT[0])

        # then: the reader says the result is older than its inputs
        assert stored_results(YEAR_FIGURES, ["2025"])["2025"].stale is True
    finally:
        other_process(DELETE)


def test_an_older_computation_never_overwrites_a_newer_result():
    # given: a result of version 7
    stored_result_save(kind=YEAR_FIGURES, key="2024", version=7, payload={"v": 7}, seconds=0.1)

    # when: a slower worker that read version 6 finishes last
    saved = stored_result_save(kind=YEAR_FIGURES, key="2024", version=6, payload={"v": 6}, seconds=0.1)

    # then
    assert saved is False
    assert StoredResult.objects.get(kind=YEAR_FIGURES, key="2024").payload == {"v": 7}


def test_every_table_a_stored_result_is_computed_from_carries_the_trigger():
    # given
    from django.apps import apps

    tables = {apps.get_model(label)._meta.db_table for label in WATCHED}

    # then
    assert tables <= trigger_tables()


def test_a_write_advances_its_matching_part_counter_and_no_other_part():
    # given
    counters = [part_counter(part) for part in MATCHING_PARTS]

    def parts() -> dict[str, int]:
        found = dict(DataVersion.objects.filter(name__in=counters).values_list("name", "value"))
        return {name: found.get(name, 0) for name in counters}

    before = parts()

    # when: a business circle, one of the tables of the buildings' part
    other_process("INSERT INTO crm_businesscircle (name) VALUES ('版本测试商圈')")

    try:
        # then: that part moved one step; the units, leads, … did not; the groups read as groups only
        after = parts()
        assert after["matching_buildings"] == before["matching_buildings"] + 1
        assert {k: v for k, v in after.items() if k != "matching_buildings"} == {
            k: v for k, v in before.items() if k != "matching_buildings"
        }
        assert set(current_versions()) == {INDICATORS, MATCHING}
    finally:
        other_process("DELETE FROM crm_businesscircle WHERE name = '版本测试商圈'")


def test_every_table_of_the_matching_arrays_carries_a_trigger():
    # then: each part's tables are among the watched ones, so their triggers advance the part's counter
    assert {label for labels in MATCHING_PARTS.values() for label in labels} <= set(WATCHED)

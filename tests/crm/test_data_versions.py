"""The data versions: advanced by the database in the writing transaction, whoever writes.

The writes come from a second process (psycopg in a subprocess, raw SQL, no Django signal), so what
is tested is the triggers, and what this process reads is what another process committed.
"""

import subprocess
import sys
import textwrap

import pytest
from django.db import connection

from crm.data_versions import INDICATORS, MATCHING, WATCHED, current_versions, trigger_tables
from crm.models import StoredResult
from crm.selectors.stored_results import stored_results
from crm.services.stored_results import YEAR_FIGURES, stored_result_save

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _other_process(*statements: str, commit: bool = True) -> None:
    """Run `statements` in one transaction of a second process, then commit or roll back."""
    settings = connection.settings_dict
    conninfo = (
        f"host={settings['HOST'] or '127.0.0.1'} port={settings['PORT'] or 5432} "
        f"dbname={settings['NAME']} user={settings['USER']}"
    )
    if settings["PASSWORD"]:
        conninfo += f" password={settings['PASSWORD']}"
    code = textwrap.dedent(
        """
        import sys, psycopg
        conninfo, commit, *statements = sys.argv[1:]
        with psycopg.connect(conninfo) as db:
            for statement in statements:
                db.execute(statement)
            db.commit() if commit == "1" else db.rollback()
        """
    )
    subprocess.run([sys.executable, "-c", code, conninfo, "1" if commit else "0", *statements], check=True)


NAMES = ("版本测试一街道", "版本测试二街道", "版本测试三街道")
INSERT = [f"INSERT INTO crm_street (name, kind) VALUES ('{n}', 'subdistrict')" for n in NAMES]
DELETE = "DELETE FROM crm_street WHERE name LIKE '版本测试%'"


def test_a_write_committed_in_another_process_advances_each_of_its_versions_once():
    # given
    before = current_versions()

    try:
        # when: three rows in one transaction, by raw SQL
        _other_process(*INSERT)

        # then: streets feed both groups; one transaction is one step, however many rows it writes
        after = current_versions()
        assert after[INDICATORS] == before[INDICATORS] + 1
        assert after[MATCHING] == before[MATCHING] + 1
    finally:
        _other_process(DELETE)


def test_a_delete_advances_the_version():
    # given
    _other_process(*INSERT)
    before = current_versions()

    # when
    _other_process(DELETE)

    # then
    assert current_versions()[INDICATORS] == before[INDICATORS] + 1


def test_a_rolled_back_write_leaves_the_version_as_it_was():
    # given
    before = current_versions()

    # when
    _other_process(*INSERT, commit=False)

    # then: neither the rows nor the step exist
    assert current_versions() == before
    assert not connection.cursor().execute("SELECT 1 FROM crm_street WHERE name LIKE '版本测试%'").fetchall()


def test_a_statement_that_changes_no_row_is_no_write():
    # given
    before = current_versions()

    # when
    _other_process("UPDATE crm_street SET name = name WHERE id = -1")

    # then
    assert current_versions() == before


def test_a_write_to_matching_inputs_alone_moves_the_matching_version_only():
    # given
    before = current_versions()

    # when: a business circle, which the matching arrays read and the indicators do not
    _other_process("INSERT INTO crm_businesscircle (name) VALUES ('版本测试商圈')")

    try:
        # then
        after = current_versions()
        assert after[MATCHING] == before[MATCHING] + 1
        assert after[INDICATORS] == before[INDICATORS]
    finally:
        _other_process("DELETE FROM crm_businesscircle WHERE name = '版本测试商圈'")


def test_a_result_stored_before_another_processs_write_reads_as_stale():
    # given: the year's figures stored at the current version
    version = current_versions()[INDICATORS]
    stored_result_save(kind=YEAR_FIGURES, key="2025", version=version, payload={"district": {}}, seconds=0.1)
    assert stored_results(YEAR_FIGURES, ["2025"])["2025"].stale is False

    try:
        # when: another process commits a street
        _other_process(INSERT[0])

        # then: the reader says the result is older than its inputs
        assert stored_results(YEAR_FIGURES, ["2025"])["2025"].stale is True
    finally:
        _other_process(DELETE)


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

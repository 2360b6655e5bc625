"""Backups that restore: deploy/backup/backup.sh dumps a seeded database with retention, and
deploy/backup/restore.sh brings it back into a fresh one that gives the same indicators."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from django.db import connection, connections

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "deploy" / "backup" / "backup.sh"
RESTORE = ROOT / "deploy" / "backup" / "restore.sh"

pytestmark = [pytest.mark.postgres]


def libpq_env(database: str) -> dict[str, str]:
    """The libpq variables the backup service gets from compose, for this run's PostgreSQL."""
    settings = connection.settings_dict
    env = dict(os.environ)
    env.update(
        PGHOST=settings["HOST"] or "127.0.0.1",
        PGPORT=str(settings["PORT"] or 5432),
        PGUSER=settings["USER"],
        PGPASSWORD=settings["PASSWORD"] or "",
        PGDATABASE=database,
    )
    return env


def indicators_json(database: str, year: int) -> dict:
    """`manage.py indicators --format json` for the seeded street of `database`, in a process of its own."""
    url = urlparse(os.environ["DATABASE_URL"])._replace(path=f"/{database}").geturl()
    env = {**os.environ, "DJANGO_ENV": "test", "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "indicators",
            "--year",
            str(year),
            "--street",
            "备份演练街道",
            "--format",
            "json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def drop_database(name: str) -> None:
    admin = urlparse(os.environ["DATABASE_URL"])._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as admin_connection:
        admin_connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(name: str) -> str:
    return urlparse(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restored"
    drop_database(name)
    yield name
    drop_database(name)


SEED = """
import datetime as dt
from decimal import Decimal
from tests.factories import (
    BuildingFactory, EnterpriseFactory, StreetFactory, TaxRecordFactory, TenancyFactory
)
street = StreetFactory(name="备份演练街道")
first = BuildingFactory(street=street, gross_area_m2=Decimal("3000"), leasable_area_m2=Decimal("2000"))
BuildingFactory(street=street, gross_area_m2=Decimal("2000"), leasable_area_m2=Decimal("1000"))
tenant = EnterpriseFactory()
TenancyFactory(enterprise=tenant, building=first, area_m2=Decimal("500"), start=dt.date(2022, 1, 1))
TaxRecordFactory(enterprise=tenant, year=2023, amount_yuan=Decimal("1200000"))
"""


@pytest.fixture
def seeded_name(db):
    """A migrated database of its own (a copy of the test database), seeded and committed by another
    process: pg_dump sees only committed rows, and the test database is left as it was (no flush)."""
    template = connection.settings_dict["NAME"]
    name = f"{template}_backup_source"
    drop_database(name)
    # A database is copied only while nobody is connected to it: this test's own connection included.
    connections.close_all()
    admin = urlparse(os.environ["DATABASE_URL"])._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as admin_connection:
        # A connection a thread of an earlier test left open (this run's test database is this run's
        # alone) would block the copy; Django's health checks reconnect anything that still needs it.
        admin_connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [template],
        )
        admin_connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    env = {**os.environ, "DJANGO_ENV": "test", "DATABASE_URL": database_url(name), "LOG_LEVEL": "WARNING"}
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED], cwd=ROOT, env=env, check=True, timeout=120
    )
    yield name
    drop_database(name)


def test_a_dump_of_a_seeded_database_restores_into_a_fresh_one_with_the_same_indicators(
    tmp_path, seeded_name, restored_name
):
    # given a street of two buildings: 3,000 m² + 2,000 m² gross, 2,000 + 1,000 m² leasable, one
    # tenant on 500 m² of the first paying 1,200,000 yuan in 2023 (SEED above, committed)
    # and two older dumps in the backup directory, with retention of two
    backups = tmp_path / "backups"
    backups.mkdir()
    for stamp in ("20240101T000000Z", "20240102T000000Z"):
        (backups / f"crm-{stamp}.dump").write_bytes(b"old")
    env = {**libpq_env(seeded_name), "BACKUP_DIR": str(backups), "BACKUP_KEEP": "2"}

    # when the backup service makes its dump
    backup = subprocess.run(
        ["sh", str(BACKUP), "--once"], env=env, capture_output=True, text=True, timeout=60
    )

    # then the newest two are kept: the new dump and the later old one, and no partial file is left
    assert backup.returncode == 0, backup.stderr
    kept = sorted(path.name for path in backups.iterdir())
    assert len(kept) == 2 and kept[0] == "crm-20240102T000000Z.dump", kept
    dump = backups / kept[1]
    assert dump.stat().st_size > 1000

    # when it is restored into a new database
    restore = subprocess.run(
        ["sh", str(RESTORE), str(dump), restored_name], env=env, capture_output=True, text=True, timeout=120
    )

    # then the restored database answers the same indicators as the original ...
    assert restore.returncode == 0, restore.stderr
    assert f"restored into {restored_name}" in restore.stdout
    original = indicators_json(seeded_name, 2023)
    assert indicators_json(restored_name, 2023) == original
    # ... and those are the seeded figures: 5,000 m² = 0.5 万㎡; 500 of 3,000 m² leasable occupied
    assert Decimal(str(original["gross_area"]["value"])) == Decimal("0.5")
    assert Decimal(str(original["leasable_area"]["value"])) == Decimal("0.3")
    assert round(Decimal(str(original["occupancy_rate"]["value"])), 2) == Decimal("16.67")


def test_restore_refuses_an_existing_database_and_changes_nothing(tmp_path):
    # given a dump file and the name of a database that exists (the server's own)
    dump = tmp_path / "crm.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--schema-only", "--file", str(dump)],
        env=libpq_env("postgres"),
        check=True,
        timeout=60,
    )
    result = subprocess.run(
        ["sh", str(RESTORE), str(dump), "postgres"], env=libpq_env("postgres"), capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "database postgres exists" in result.stderr


def test_restore_refuses_a_truncated_dump_before_creating_anything(tmp_path, restored_name):
    dump = tmp_path / "crm.dump"
    dump.write_bytes(b"PGDMP\x01\x0e")
    result = subprocess.run(
        ["sh", str(RESTORE), str(dump), restored_name],
        env=libpq_env("postgres"),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    exists = subprocess.run(
        ["psql", "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{restored_name}'"],
        env=libpq_env("postgres"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert exists.stdout.strip() == ""


def test_backup_refuses_a_retention_that_is_not_a_positive_number(tmp_path):
    env = {**libpq_env("postgres"), "BACKUP_DIR": str(tmp_path), "BACKUP_KEEP": "two weeks"}
    result = subprocess.run(["sh", str(BACKUP), "--once"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "BACKUP_KEEP must be a positive whole number" in result.stderr
    assert list(tmp_path.iterdir()) == []

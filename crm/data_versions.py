"""The data versions: which tables feed which stored results, the triggers that advance their
counters, and how a reader learns the current ones.

Why database triggers and not post_save/post_delete hooks: hooks miss `QuerySet.update()`,
`bulk_create`, raw SQL, a `psql` session and `loaddata`; a trigger sees every row any client
writes. On PostgreSQL the trigger is a deferred constraint trigger: it runs at COMMIT, inside the
writing transaction, so

* a rolled-back write (or a rolled-back savepoint) never advances the counter;
* the counter's row lock is the last lock a writer takes and is held only while it commits, so two
  writers never deadlock over it and are serialised only for that moment;
* a transaction advances each counter once, however many rows it writes (a GUC set for the
  transaction remembers it), so a 1-million-row import costs one cheap check per row.

SQLite (dev and the no-services test fallback) has no deferred triggers; its per-row triggers run
in the writing transaction too, and SQLite has one writer at a time anyway.
"""

from django.db import connection

from crm.models import DataVersion, InputGroup
from crm.services.dispatch import INPUTS_CHANGED, dispatch

INDICATORS, MATCHING = InputGroup.INDICATORS.value, InputGroup.MATCHING.value

# Model label -> the groups of inputs it belongs to. Indicators: what crm.indicators reads.
# Matching: every table matching.adapter.PARTS loads, the leads' stage changes (the forecast's
# conversion rates) and the industries.
WATCHED: dict[str, tuple[str, ...]] = {
    "crm.Building": (INDICATORS, MATCHING),
    "crm.Unit": (INDICATORS, MATCHING),
    "crm.Tenancy": (INDICATORS, MATCHING),
    "crm.Enterprise": (INDICATORS, MATCHING),
    "crm.TaxRecord": (INDICATORS, MATCHING),
    "crm.Industry": (INDICATORS, MATCHING),
    "crm.Street": (INDICATORS, MATCHING),
    "crm.BusinessCircle": (MATCHING,),
    "crm.TenancyUnit": (MATCHING,),
    "crm.Reservation": (MATCHING,),
    "crm.Lead": (MATCHING,),
    "crm.Lead_preferred_streets": (MATCHING,),
    "crm.StageChange": (MATCHING,),
    "matching.EntryRule": (MATCHING,),
    "matching.RankingModel": (MATCHING,),
    "policies.Policy": (MATCHING,),
    "policies.Benefit": (MATCHING,),
    "policies.DistrictPolicySettings": (MATCHING,),
}

# The parts of the matching adapter's per-process arrays (matching.adapter.PARTS is built from this)
# and the tables each is loaded from. Each part has a counter of its own, "matching_<part>", advanced
# by the same triggers as the groups: a process reloads only the parts whose counter moved, and a
# write no signal or history row sees (QuerySet.update(), raw SQL, another process) still moves it.
MATCHING_PARTS: dict[str, tuple[str, ...]] = {
    "buildings": ("crm.Building", "crm.Street", "crm.BusinessCircle", "crm.Industry", "matching.EntryRule"),
    "units": ("crm.Unit", "crm.Reservation"),
    "tenants": ("crm.Tenancy", "crm.TenancyUnit", "crm.Enterprise"),
    "tax": ("crm.TaxRecord",),
    "policies": ("policies.Policy", "policies.Benefit", "policies.DistrictPolicySettings"),
    "model": ("matching.RankingModel",),
    "leads": ("crm.Lead", "crm.Lead_preferred_streets"),
}


def part_counter(part: str) -> str:
    """The DataVersion name of one part of the matching arrays."""
    return f"{MATCHING}_{part}"  # a simple identifier: the triggers name a setting after it


def counters_of(label: str) -> tuple[str, ...]:
    """Every counter a write to model `label` advances: its groups, then its matching part's."""
    parts = tuple(part_counter(part) for part, labels in MATCHING_PARTS.items() if label in labels)
    return WATCHED.get(label, ()) + parts


_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION crm_data_version_advance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    input_name text;
    done_flag text;
BEGIN
    FOREACH input_name IN ARRAY TG_ARGV LOOP
        done_flag := 'crm_data_version.' || input_name;
        IF current_setting(done_flag, true) IS DISTINCT FROM txid_current()::text THEN
            INSERT INTO {table} (name, value) VALUES (input_name, 1)
                ON CONFLICT (name) DO UPDATE SET value = {table}.value + 1;
            PERFORM set_config(done_flag, txid_current()::text, true);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$"""


def _trigger_name(table: str, suffix: str = "") -> str:
    return f"dv_{table}{suffix}"[:63]


def install_sql(tables: dict[str, tuple[str, ...]], *, vendor: str, version_table: str) -> list[str]:
    """The statements that make every write to `tables` (db table -> groups) advance the groups."""
    statements = []
    if vendor == "postgresql":
        statements.append(_PG_FUNCTION.format(table=version_table))
        for table, groups in tables.items():
            args = ", ".join(f"'{g}'" for g in groups)
            statements += [
                f'DROP TRIGGER IF EXISTS {_trigger_name(table)} ON "{table}"',
                f"CREATE CONSTRAINT TRIGGER {_trigger_name(table)} AFTER INSERT OR UPDATE OR DELETE "
                f'ON "{table}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
                f"EXECUTE FUNCTION crm_data_version_advance({args})",
                f'DROP TRIGGER IF EXISTS {_trigger_name(table, "_truncate")} ON "{table}"',
                f'CREATE TRIGGER {_trigger_name(table, "_truncate")} AFTER TRUNCATE ON "{table}" '
                f"FOR EACH STATEMENT EXECUTE FUNCTION crm_data_version_advance({args})",
            ]
    elif vendor == "sqlite":
        for table, groups in tables.items():
            body = "".join(
                f"INSERT OR IGNORE INTO {version_table} (name, value) VALUES ('{g}', 0); "
                f"UPDATE {version_table} SET value = value + 1 WHERE name = '{g}'; "
                for g in groups
            )
            for op in ("INSERT", "UPDATE", "DELETE"):
                name = _trigger_name(table, f"_{op.lower()}")
                statements += [
                    f"DROP TRIGGER IF EXISTS {name}",
                    f'CREATE TRIGGER {name} AFTER {op} ON "{table}" BEGIN {body}END',
                ]
    return statements


def uninstall_sql(tables: dict[str, tuple[str, ...]], *, vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = []
        for table in tables:
            statements += [
                f'DROP TRIGGER IF EXISTS {_trigger_name(table)} ON "{table}"',
                f'DROP TRIGGER IF EXISTS {_trigger_name(table, "_truncate")} ON "{table}"',
            ]
        return [*statements, "DROP FUNCTION IF EXISTS crm_data_version_advance()"]
    return [
        f"DROP TRIGGER IF EXISTS {_trigger_name(t, f'_{op}')}"
        for t in tables
        for op in ("insert", "update", "delete")
    ]


def install_triggers(apps, schema_editor) -> None:
    """Migration step: (re)install the triggers for every table in WATCHED."""
    tables = {apps.get_model(label)._meta.db_table: counters_of(label) for label in WATCHED}
    version_table = apps.get_model("crm", "DataVersion")._meta.db_table
    vendor = schema_editor.connection.vendor
    for statement in install_sql(tables, vendor=vendor, version_table=version_table):
        schema_editor.execute(statement, params=None)


def uninstall_triggers(apps, schema_editor) -> None:
    tables = {apps.get_model(label)._meta.db_table: groups for label, groups in WATCHED.items()}
    for statement in uninstall_sql(tables, vendor=schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def current_versions() -> dict[str, int]:
    """Each group's committed version (one query); a group never written yet is at 0."""
    versions = dict.fromkeys(InputGroup.values, 0)
    versions.update(DataVersion.objects.filter(name__in=InputGroup.values).values_list("name", "value"))
    return versions


def trigger_tables() -> set[str]:
    """The tables that carry a data-version trigger in this database (for the tests and checks)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE 'dv_%'")
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'dv_%'")
        return {row[0].strip('"') for row in cursor.fetchall()}


def note_input_write(sender, **kwargs) -> None:
    """Signal receiver (post_save, post_delete, m2m_changed): queue the recomputation of the stored
    results this table feeds once the write commits. Only the scheduling: the version itself is the
    triggers' work, which no write path skips; a bulk write that sends no signal is found by the
    minute's sweep (workers.tasks.stored_results_refresh)."""
    groups = WATCHED.get(sender._meta.label)
    if groups:
        dispatch(INPUTS_CHANGED, groups=groups)

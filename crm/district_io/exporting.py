"""The district export service: the files of import-format.md, which import back unchanged."""

import csv
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.db.models import F

from crm.district_io.rows import (
    ACTIVITIES,
    AGENCIES,
    BUILDINGS,
    COMMITMENT_LINES,
    COMMITMENT_PAYMENTS,
    COMMITMENTS,
    ENTERPRISES,
    FILES,
    HOLDS,
    LEADS,
    POLICIES,
    POLICY_BENEFITS,
    PROMOTER_TARGETS,
    PROMOTERS,
    SIGNINGS,
    STAGE_CHANGES,
    STREET_TARGETS,
    STREETS,
    TAX,
    TENANCIES,
    UNITS,
    USERS,
    FileSpec,
    format_row,
)
from crm.models import (
    Activity,
    Agency,
    Building,
    Enterprise,
    Lead,
    Promoter,
    PromoterTarget,
    Reservation,
    Signing,
    StageChange,
    Street,
    StreetTarget,
    TaxRecord,
    Tenancy,
    TenancyUnit,
    Unit,
)
from crm.models.privacy import AccessWay
from crm.roles import role_of_groups
from crm.services.privacy import contact_access_record
from policies.models import Benefit, Commitment, CommitmentLine, CommitmentPayment, Policy

CHUNK = 2000

# Each file: its rows in key order (so that two exports of equal data are equal byte for byte), and
# for each column the path of its value; a many-to-many column names the map that holds it.
QUERIES: dict[str, tuple[models.QuerySet, dict[str, str]]] = {
    STREETS.name: (Street.objects.order_by("name"), {"name": "name", "kind": "kind"}),
    BUILDINGS.name: (
        Building.objects.order_by("code"),
        {
            "street": "street__name",
            "business_circle": "business_circle__name",
            "main_industry": "main_industry_id",
        },
    ),
    UNITS.name: (Unit.objects.order_by("building__code", "number"), {"building": "building__code"}),
    ENTERPRISES.name: (Enterprise.objects.order_by("credit_code"), {"industry": "industry_id"}),
    TENANCIES.name: (
        Tenancy.objects.order_by("enterprise__credit_code", "building__code", "start"),
        {"credit_code": "enterprise__credit_code", "building": "building__code", "units": "@tenancy_units"},
    ),
    TAX.name: (
        TaxRecord.objects.order_by("enterprise__credit_code", "year", F("month").asc(nulls_first=True)),
        {"credit_code": "enterprise__credit_code"},
    ),
    PROMOTERS.name: (
        Promoter.objects.order_by("user__username"),
        {"username": "user__username", "street": "street__name"},
    ),
    LEADS.name: (
        Lead.objects.order_by("ref"),
        {
            "industry": "industry_id",
            "owner": "owner__user__username",
            "agency": "agency__name",
            "referred_by": "referred_by__credit_code",
            "preferred_streets": "@preferred_streets",
        },
    ),
    PROMOTER_TARGETS.name: (
        PromoterTarget.objects.order_by("promoter__user__username", "period_kind", "period_start"),
        {"promoter": "promoter__user__username"},
    ),
    # By street name, sorted on the way out like streets.csv (see _rows).
    STREET_TARGETS.name: (StreetTarget.objects.order_by("year", "key"), {"street": "street__name"}),
    AGENCIES.name: (Agency.objects.order_by("name"), {}),
    STAGE_CHANGES.name: (
        StageChange.objects.order_by("lead__ref", "changed_at", "to_stage"),
        {"lead": "lead__ref", "changed_by": "changed_by__username"},
    ),
    ACTIVITIES.name: (
        Activity.objects.order_by("lead__ref", "occurred_at", "kind"),
        {
            "lead": "lead__ref",
            "building": "building__code",
            "unit": "unit__number",
            "promoter": "promoter__user__username",
        },
    ),
    HOLDS.name: (
        Reservation.objects.order_by("unit__building__code", "unit__number", "created_at"),
        {
            "building": "unit__building__code",
            "unit": "unit__number",
            "lead": "lead__ref",
            "promoter": "promoter__user__username",
        },
    ),
    SIGNINGS.name: (
        Signing.objects.order_by("lead__ref", "building__code"),
        {
            "lead": "lead__ref",
            "building": "building__code",
            "units": "@signing_units",
            "signed_by": "signed_by__user__username",
            "settled_by": "settled_by__username",
            "cancelled_by": "cancelled_by__username",
        },
    ),
    USERS.name: (
        get_user_model().objects.all(),
        {
            "role": "@user_roles",
            "street": "scope__street__name",
            "building": "scope__building__code",
            "active": "is_active",
        },
    ),
    POLICIES.name: (
        Policy.objects.all(),
        {
            "street": "street__name",
            "business_circle": "business_circle__name",
            "building": "building__code",
            "lead": "lead__ref",
            "proposed_by": "proposed_by__username",
            "reviewed_by": "reviewed_by__username",
        },
    ),
    POLICY_BENEFITS.name: (
        Benefit.objects.all(),
        {"policy": "policy__name", "policy_valid_from": "policy__valid_from"},
    ),
    COMMITMENTS.name: (
        Commitment.objects.all(),
        {"lead": "signing__lead__ref", "building": "signing__building__code"},
    ),
    COMMITMENT_LINES.name: (
        CommitmentLine.objects.all(),
        {
            "lead": "commitment__signing__lead__ref",
            "building": "commitment__signing__building__code",
            "policy": "policy__name",
            "policy_valid_from": "policy__valid_from",
            "withheld_by": "withheld_by__username",
            "referrer": "referrer__credit_code",
        },
    ),
    COMMITMENT_PAYMENTS.name: (
        CommitmentPayment.objects.all(),
        {
            "lead": "line__commitment__signing__lead__ref",
            "building": "line__commitment__signing__building__code",
            "policy_name": "line__policy_name",
            "benefit_kind": "line__benefit_kind",
            "beneficiary": "line__beneficiary",
            "year_index": "line__year_index",
            "recorded_by": "recorded_by__username",
        },
    ),
}
# Files whose rows are sorted here, by their cells: names in Chinese sort by the database's collation,
# which differs between PostgreSQL and SQLite, and every database must write the same file.
SORTED_HERE = frozenset(
    spec.name
    for spec in (STREETS, STREET_TARGETS, AGENCIES, USERS, POLICIES, POLICY_BENEFITS, COMMITMENTS)
    + (COMMITMENT_LINES, COMMITMENT_PAYMENTS)
)


QUERIES_M2M = {
    "tenancy_units": (TenancyUnit.objects.all(), ("tenancy_id", "unit__number")),
    "preferred_streets": (Lead.preferred_streets.through.objects.all(), ("lead_id", "street__name")),
    "signing_units": (Signing.units.through.objects.all(), ("signing_id", "unit__number")),
    "user_groups": (get_user_model().groups.through.objects.all(), ("user_id", "group__name")),
}


def _many_to_many() -> dict[str, dict[int, Any]]:
    """The names in each many-to-many column, by the id of the row that holds them; each user's role."""
    maps: dict[str, dict[int, Any]] = {name: defaultdict(list) for name in QUERIES_M2M}
    for name, (query, fields) in QUERIES_M2M.items():
        for owner_id, value in query.values_list(*fields).iterator(chunk_size=CHUNK):
            maps[name][owner_id].append(value)
    users = get_user_model().objects.values_list("id", "is_superuser")
    groups = maps.pop("user_groups")
    maps["user_roles"] = {pk: role_of_groups(groups.get(pk, ()), is_superuser=su) for pk, su in users}
    return maps


def _rows(spec: FileSpec, maps: dict[str, dict[int, Any]]) -> Iterator[list[str]]:
    if spec.name in SORTED_HERE:
        return iter(sorted(_query_rows(spec, maps)))
    return _query_rows(spec, maps)


def _query_rows(spec: FileSpec, maps: dict[str, dict[int, Any]]) -> Iterator[list[str]]:
    query, paths = QUERIES[spec.name]
    fields = ["id"] + [
        paths.get(name, name) for name in spec.column_names if not paths.get(name, "").startswith("@")
    ]
    for row in query.values(*fields).iterator(chunk_size=CHUNK):
        values = []
        for name in spec.column_names:
            path = paths.get(name, name)
            values.append(maps[path[1:]].get(row["id"], ()) if path.startswith("@") else row[path])
        yield format_row(spec, values)


def district_export(*, directory: Path | str, bom: bool = False, by=None, note: str = "") -> dict[str, int]:
    """Write the format's files into `directory` (made if missing); returns the rows written per file.

    UTF-8 with a header row and the exact columns of import-format.md. `bom` starts each file with
    a byte-order mark, which Excel needs to read Chinese text as UTF-8; the import accepts either.
    The files are read from one snapshot of the database, so that they agree with one another.
    Every lead whose contact person was written is recorded as seen by `by` (docs/privacy.md);
    `note` names the operator when there is no user (the command line).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    outermost = not connection.in_atomic_block
    written = {}
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # READ COMMITTED would let rows committed meanwhile show in later files only.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        maps = _many_to_many()
        for spec in FILES:
            count = 0
            with open(
                directory / spec.name, "w", encoding="utf-8-sig" if bom else "utf-8", newline=""
            ) as file:
                writer = csv.writer(file, lineterminator="\n")
                writer.writerow(spec.column_names)
                for cells in _rows(spec, maps):
                    writer.writerow(cells)
                    count += 1
            written[spec.name] = count
    # After the snapshot: on PostgreSQL it is a read-only transaction.
    contact_access_record(user=by, how=AccessWay.DISTRICT_EXPORT, leads=Lead.objects.all(), note=note)
    return written

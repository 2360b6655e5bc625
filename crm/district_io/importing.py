"""The district import service: check every row of every file first, then write them all in one transaction.

Rows are matched on their keys (import-format.md) and written with bulk inserts and updates, only
where a value differs, so importing the same files twice changes nothing the second time and
leaves no audit-history rows behind. A column absent from a file leaves that field of existing
rows as it is; a blank cell means "not known" (cleared), except booleans, `star_rating`, unit
`status` and lead `stage`, whose blank keeps the current value (the default for a new row).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models import F, Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from crm.constants import (
    LEAD_TRANSITIONS,
    OPEN_STAGES,
    ActivityKind,
    IndustryLevel,
    LeadChannel,
    LeadStage,
    Role,
    UnitStatus,
)
from crm.data_versions import INDICATORS, MATCHING
from crm.district_io.errors import DistrictImportError, RowError
from crm.district_io.reading import Source, read_source
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
    LINE_KEY,
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
    ParsedRow,
    parse_rows,
)
from crm.models import (
    Activity,
    Agency,
    Building,
    BusinessCircle,
    Enterprise,
    Industry,
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
    UserScope,
)
from crm.names import normalise_company_name
from crm.services.dispatch import INPUTS_CHANGED, dispatch
from crm.services.leads import LAWFUL_BASIS_NEEDED, contact_lacks_lawful_basis
from policies.conditions import ConditionError, parse_condition
from policies.engine.terms import PARAMETERS, REFERRER, BenefitKind
from policies.models import (
    ApprovalStatus,
    Benefit,
    Commitment,
    CommitmentLine,
    CommitmentPayment,
    Policy,
    condition_known_values,
)
from policies.services import benefit_key

BATCH = 1000
CHUNK = 900  # keys per `IN (...)`: below SQLite's limit on query parameters
SCAN_ABOVE = 10 * CHUNK  # more keys than this are found by one scan of the table
HISTORY_REASON = "区级数据导入 / district import"
SIGNED_STAGES = (LeadStage.SIGNED, LeadStage.SETTLED)
IMPORTED_SETTLEMENT = "导入记录中已入驻 / settled in the imported records"
# How a commitment line is named from its own row: the signing, the policy and benefit, the year.
LINE_PATHS = (
    "commitment__signing__lead__ref",
    "commitment__signing__building__code",
    "policy_name",
    "benefit_kind",
    "beneficiary",
    "year_index",
)
PAYMENT_ALIASES = tuple(f"k_{index}" for index in range(len(LINE_PATHS)))
POLICY_REFERENCES = ("street", "business_circle", "building", "lead", "proposed_by", "reviewed_by")
OMIT_ROLE = object()  # users.csv without a role column: the login's groups stay as they are
SIGNING_OUTCOME = ("settled_at", "settle_override_reason", "cancelled_at", "cancel_reason")


@dataclass
class FileCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did: rows created, updated and left unchanged per file, and rows made on the way."""

    counts: dict[str, FileCounts] = field(default_factory=dict)
    alongside: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        lines = [
            f"{name}: 新建 {c.created},更新 {c.updated},未变 {c.unchanged} / "
            f"created {c.created}, updated {c.updated}, unchanged {c.unchanged}"
            for name, c in self.counts.items()
        ]
        lines += [f"{what}: {n}" for what, n in self.alongside.items() if n]
        return lines


class _Ref:
    """A reference to a row by its key, turned into the row's id once that row is written."""

    __slots__ = ("kind", "key")

    def __init__(self, kind: str, key: Any):
        self.kind = kind
        self.key = key


@dataclass(slots=True)
class _Plan:
    """What one row of a file becomes: field values by attname, and the row it updates if any."""

    line: int
    key: tuple
    values: dict[str, Any]
    existing: dict[str, Any] | None
    links: tuple | None = None  # unit keys or street names of a many-to-many column; None: untouched
    pk: int | None = None
    status: str = "unchanged"


@dataclass(frozen=True, slots=True)
class _Claim:
    """A unit taken for a period, by a row of this import (file/line) or by an existing tenancy."""

    start: dt.date
    end: dt.date | None
    file: str | None
    line: int
    column: str
    owner: tuple  # the tenancy's key (credit code, building code, start)

    def meets(self, other: "_Claim") -> bool:
        return (other.end is None or self.start <= other.end) and (
            self.end is None or other.start <= self.end
        )


def district_import(*, source: Source) -> ImportReport:
    """Import a district's files from a directory, a .zip or an .xlsx (import-format.md).

    All or nothing: every row of every file is checked first; if any is wrong nothing is written
    and DistrictImportError lists each as `file:line: column: message`.
    """
    tables, errors = read_source(source, [spec.name for spec in FILES])
    with transaction.atomic():
        run = _DistrictImport(tables, errors)
        run.check()
        if run.errors:
            order = {spec.name: i for i, spec in enumerate(FILES)}
            labels = {table.file: order[name] for name, table in tables.items()}
            run.errors.sort(key=lambda e: (labels.get(e.file, -1), e.line))
            raise DistrictImportError(run.errors)
        run.write()
        # Bulk inserts send no signal; the triggers have advanced the data versions, and this
        # queues the stored results' recomputation at commit rather than at the next sweep.
        dispatch(INPUTS_CHANGED, groups=(INDICATORS, MATCHING))
    return run.report


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _select(
    query: models.QuerySet, lookup: str, keys: Iterable, *fields: str, named: bool = False, **aliases
):
    """Rows of `query` whose `lookup` is one of `keys`: values() dicts if `named`, else values_list() tuples.

    A few keys go in `IN (...)` lists; many are read in one scan and filtered here, because
    PostgreSQL scans the joined tables anew for every list.
    """
    wanted = set(keys)
    if not wanted:
        return
    if len(wanted) <= SCAN_ABOVE:
        for chunk in _chunks(list(wanted)):
            part = query.filter(**{f"{lookup}__in": chunk})
            yield from part.values(*fields, **aliases) if named else part.values_list(*fields)
        return
    if named:
        for row in query.values(*fields, **aliases, k_lookup=F(lookup)).iterator(chunk_size=5000):
            if row.pop("k_lookup") in wanted:
                yield row
    else:
        for row in query.values_list(*fields, F(lookup)).iterator(chunk_size=5000):
            if row[-1] in wanted:
                yield row[:-1]


def _attnames(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _load(
    model: type[models.Model],
    lookup: str,
    keys: Iterable,
    key_of: Callable[[dict], tuple],
    **natural: str,
) -> dict[tuple, dict]:
    """Existing rows whose `lookup` is one of `keys`, as {key: {attname: value}}.

    `natural` names extra paths (a building's code, say) that `key_of` may read; they are
    dropped from the returned row so that the row can rebuild a model instance.
    """
    found: dict[tuple, dict] = {}
    aliases = {alias: F(path) for alias, path in natural.items()}
    for row in _select(model.objects.all(), lookup, keys, *_attnames(model), named=True, **aliases):
        key = key_of(row)
        for alias in natural:
            row.pop(alias)
        found[key] = row
    return found


def _plain(spec: FileSpec, *references: str) -> list[str]:
    """The columns of a file that are fields of the same name, all but the `references`."""
    return [name for name in spec.column_names if name not in references]


def _merged(plan_existing: dict | None, values: dict) -> dict:
    return {**(plan_existing or {}), **values}


class _DistrictImport:
    """One run: `check` reads and checks every file into plans, `write` carries the plans out."""

    def __init__(self, tables: dict, errors: list[RowError]):
        self.tables = tables
        self.errors = errors
        self.report = ImportReport()
        self.today = timezone.localdate()
        # Known rows by key (the database, then rows of this import): id, or None until written.
        self.ids: dict[str, dict] = defaultdict(dict)
        self.plans: dict[str, list[_Plan]] = {}
        self.claims: dict[tuple, list[_Claim]] = defaultdict(list)
        self.tenancy_plans: dict[tuple, _Plan] = {}
        self.tenancy_links: dict[int, dict[int, tuple]] = {}  # existing links: tenancy id → unit id → link
        self.signing_tenancies: dict[tuple, _Plan] = {}
        self.lead_enterprises: dict[str, _Plan] = {}
        self.unit_plans: dict[tuple, _Plan] = {}
        self.lead_plans: dict[str, _Plan] = {}
        self.lead_touches: list[_Plan] = []
        self.settlement_given: list[_Plan] = []
        self.account_facts: dict[str, tuple[Any, dict]] = {}
        self.policy_plans: dict[tuple, _Plan] = {}
        self.known_values: dict[str, list[str]] | None = None
        self.benefit_rows: dict[tuple, list[tuple[int, dict]]] = defaultdict(list)
        self.benefits_now: dict[int, list[tuple]] = defaultdict(list)
        self.line_facts: dict[tuple, tuple] = {}
        self.preferred_now: dict[int, set[int]] = {}
        self.signing_units_now: dict[int, set[int]] = {}
        self.latest_in_file: dict[str, dt.datetime] = {}
        self.leased_by_signing: set[tuple] = set()
        self.unit_status_plans: list[_Plan] = []
        self.tax_plans: list[tuple] = []
        self.tenant_codes: set[str] | None = None
        self.industries = dict(Industry.objects.values_list("code", "level"))

    # ------------------------------------------------------------------ checking

    def check(self) -> None:
        steps = {
            STREETS.name: self._check_streets,
            BUILDINGS.name: self._check_buildings,
            UNITS.name: self._check_units,
            ENTERPRISES.name: self._check_enterprises,
            TENANCIES.name: self._check_tenancies,
            TAX.name: self._check_tax,
            USERS.name: self._check_users,
            PROMOTERS.name: self._check_promoters,
            PROMOTER_TARGETS.name: self._check_promoter_targets,
            STREET_TARGETS.name: self._check_street_targets,
            AGENCIES.name: self._check_agencies,
            LEADS.name: self._check_leads,
            STAGE_CHANGES.name: self._check_stage_changes,
            ACTIVITIES.name: self._check_activities,
            HOLDS.name: self._check_holds,
            SIGNINGS.name: self._check_signings,
            POLICIES.name: self._check_policies,
            POLICY_BENEFITS.name: self._check_benefits,
            COMMITMENTS.name: self._check_commitments,
            COMMITMENT_LINES.name: self._check_lines,
            COMMITMENT_PAYMENTS.name: self._check_payments,
        }
        self._load_known_keys()
        for spec in FILES:
            table = self.tables.get(spec.name)
            if table is None:
                continue
            self.label = table.file
            self.report.counts[spec.name] = FileCounts()
            steps[spec.name](parse_rows(spec, table, self.errors))
        self._mark_signed_units_leased()
        self._set_last_activity()
        self._check_open_companies()
        self._check_overlaps()
        self._check_policies_have_benefits()

    def _load_known_keys(self) -> None:
        self.ids["street"].update(Street.objects.values_list("name", "id"))
        self.ids["circle"].update(BusinessCircle.objects.values_list("name", "id"))
        self.ids["building"].update(Building.objects.values_list("code", "id"))
        self.ids["unit"].update(
            ((code, number), pk)
            for code, number, pk in Unit.objects.values_list("building__code", "number", "id")
        )
        self.ids["enterprise"].update(Enterprise.objects.values_list("credit_code", "id"))
        self.ids["promoter"].update(Promoter.objects.values_list("user__username", "id"))
        self.ids["lead"].update(Lead.objects.values_list("ref", "id"))
        self.ids["agency"].update(Agency.objects.values_list("name", "id"))
        self.ids["user"].update(get_user_model().objects.values_list("username", "id"))
        self.ids["signing"].update(
            ((ref, code), pk)
            for ref, code, pk in Signing.objects.values_list("lead__ref", "building__code", "id")
        )
        self.ids["policy"].update(
            ((name, valid_from), pk)
            for name, valid_from, pk in Policy.objects.values_list("name", "valid_from", "id")
        )
        self.ids["commitment"].update(
            ((ref, code), pk)
            for ref, code, pk in Commitment.objects.values_list(
                "signing__lead__ref", "signing__building__code", "id"
            )
        )
        lines = CommitmentLine.objects.values_list(*LINE_PATHS, "id")
        self.ids["line"].update((tuple(row[:-1]), row[-1]) for row in lines.iterator(chunk_size=5000))

    def _error(self, line: int, column: str, message: str, file: str | None = None) -> None:
        self.errors.append(RowError(file or self.label, line, column, message))

    def _unique(self, spec: FileSpec, rows: Iterable[ParsedRow]) -> Iterator[ParsedRow]:
        """The rows with a readable key, each key once; a repeated key is an error on the later row."""
        seen: dict[tuple, int] = {}
        for row in rows:
            if row.key is None:
                continue
            first = seen.setdefault(row.key, row.line)
            if first != row.line:
                self._error(row.line, spec.key[0], f"与第 {first} 行重复 / repeats line {first}")
                continue
            yield row

    def _known(self, row: ParsedRow, column: str, kind: str, key: Any, zh: str, en: str) -> bool:
        if key in self.ids[kind]:
            return True
        shown = " @ ".join(map(str, key)) if isinstance(key, tuple) and kind != "unit" else key
        self._error(row.line, column, f"未知的{zh} {shown} / unknown {en} {shown}")
        return False

    def _ref(self, row: ParsedRow, values: dict, column: str, attname: str, kind: str, zh: str, en: str):
        """Copy a reference column (blank: none) if the row it names is known."""
        if column not in row.values:
            return
        key = row.values[column]
        if key is None:
            values[attname] = None
        elif self._known(row, column, kind, key, zh, en):
            values[attname] = _Ref(kind, key)

    def _industry(self, row: ParsedRow, values: dict, column: str, levels: tuple[str, ...]) -> None:
        if column not in row.values:
            return
        code = row.values[column]
        if code is None:
            values[f"{column}_id"] = None
            return
        level = self.industries.get(code)
        if level is None:
            self._error(row.line, column, f"未知的行业代码 {code} / unknown industry code {code}")
        elif level not in levels:
            if levels == (IndustryLevel.DIVISION,):
                message = f"行业应为两位数的大类代码: {code} / industry must be a two-digit division: {code}"
            else:
                message = (
                    f"主导产业应为门类字母或两位数大类代码: {code} / "
                    f"main industry must be a section letter or a two-digit division: {code}"
                )
            self._error(row.line, column, message)
        else:
            values[f"{column}_id"] = code

    @staticmethod
    def _copy(row: ParsedRow, values: dict, *columns: str) -> None:
        for column in columns:
            if column in row.values:
                values[column] = row.values[column]

    def _check_streets(self, rows) -> None:
        existing = {(r["name"],): r for r in Street.objects.values(*_attnames(Street))}
        plans = self.plans[STREETS.name] = []
        for row in self._unique(STREETS, rows):
            values: dict[str, Any] = {}
            self._copy(row, values, "name", "kind")
            plans.append(_Plan(row.line, row.key, values, existing.get(row.key)))
            self.ids["street"].setdefault(row.key[0], None)

    def _check_buildings(self, rows) -> None:
        rows = list(rows)
        existing = _load(Building, "code", [r.key[0] for r in rows if r.key], lambda r: (r["code"],))
        plans = self.plans[BUILDINGS.name] = []
        for row in self._unique(BUILDINGS, rows):
            values: dict[str, Any] = {}
            self._copy(row, values, *_plain(BUILDINGS, "street", "business_circle", "main_industry"))
            self._ref(row, values, "street", "street_id", "street", "镇街", "street")
            if "business_circle" in row.values:
                circle = row.values["business_circle"]
                values["business_circle_id"] = _Ref("circle", circle) if circle else None
                if circle:
                    self.ids["circle"].setdefault(circle, None)  # made from its name when missing
            self._industry(row, values, "main_industry", (IndustryLevel.SECTION, IndustryLevel.DIVISION))
            ex = existing.get(row.key)
            final = _merged(ex, values)
            gross, leasable = final.get("gross_area_m2"), final.get("leasable_area_m2")
            if row.ok("gross_area_m2", "leasable_area_m2") and gross and leasable and leasable > gross:
                self._error(
                    row.line,
                    "leasable_area_m2",
                    f"可租售面积 {leasable} 大于总建筑面积 {gross} / "
                    f"leasable area {leasable} exceeds gross area {gross}",
                )
            low, high = final.get("rent_min"), final.get("rent_max")
            if row.ok("rent_min", "rent_max") and low is not None and high is not None and low > high:
                self._error(
                    row.line,
                    "rent_max",
                    f"最高租金 {high} 低于最低租金 {low} / rent_max {high} is below rent_min {low}",
                )
            plans.append(_Plan(row.line, row.key, values, ex))
            self.ids["building"].setdefault(row.key[0], None)

    def _check_units(self, rows) -> None:
        rows = list(rows)
        existing = _load(
            Unit,
            "building__code",
            [r.key[0] for r in rows if r.key],
            lambda r: (r["k_building"], r["number"]),
            k_building="building__code",
        )
        plans = self.plans[UNITS.name] = []
        for row in self._unique(UNITS, rows):
            values: dict[str, Any] = {}
            self._copy(row, values, "floor", "number", "area_m2", "status", "asking_rent", "available_from")
            self._ref(row, values, "building", "building_id", "building", "楼宇", "building")
            plan = _Plan(row.line, row.key, values, existing.get(row.key))
            plans.append(plan)
            self.unit_plans[row.key] = plan
            self.ids["unit"].setdefault(row.key, None)

    def _check_enterprises(self, rows) -> None:
        rows = list(rows)
        existing = _load(
            Enterprise, "credit_code", [r.key[0] for r in rows if r.key], lambda r: (r["credit_code"],)
        )
        plans = self.plans[ENTERPRISES.name] = []
        for row in self._unique(ENTERPRISES, rows):
            values: dict[str, Any] = {}
            self._copy(
                row,
                values,
                "credit_code",
                "name",
                "registered_in_district",
                "settles_in_district",
                "is_headquarters",
                "employees",
                "business_scope",
            )
            if "name" in values:
                # bulk_create skips Enterprise.save, which keeps this derived column.
                values["normalised_name"] = normalise_company_name(values["name"])
            self._industry(row, values, "industry", (IndustryLevel.DIVISION,))
            plans.append(_Plan(row.line, row.key, values, existing.get(row.key)))
            self.ids["enterprise"].setdefault(row.key[0], None)

    def _unit_keys(self, row: ParsedRow, building: str | None) -> tuple:
        """The units column as (building code, number) keys; an unknown unit is an error."""
        keys = []
        for number in row.values.get("units", ()):
            key = (building, number)
            if building in self.ids["building"] and key not in self.ids["unit"]:
                self._error(
                    row.line,
                    "units",
                    f"未知的房源 {number}(楼宇 {building})/ unknown unit {number} in building {building}",
                )
            else:
                keys.append(key)
        return tuple(keys)

    def _load_tenancies(self, credit_codes: Iterable[str]) -> dict[tuple, dict]:
        found = _load(
            Tenancy,
            "enterprise__credit_code",
            credit_codes,
            lambda r: (r["k_cc"], r["k_building"], r["start"]),
            k_cc="enterprise__credit_code",
            k_building="building__code",
        )
        for key, row in found.items():
            self.ids["tenancy"][key] = row["id"]
        return found

    def _load_links(self, tenancy_ids: list[int]) -> None:
        missing = [pk for pk in tenancy_ids if pk not in self.tenancy_links]
        for pk in missing:
            self.tenancy_links[pk] = {}
        links = _select(
            TenancyUnit.objects.all(),
            "tenancy_id",
            missing,
            *("id", "tenancy_id", "unit_id", "start", "end", "unit__building__code", "unit__number"),
        )
        for link_id, tenancy_id, unit_id, start, end, code, number in links:
            self.tenancy_links[tenancy_id][unit_id] = (link_id, start, end, (code, number))

    def _claim(self, unit_keys: Iterable[tuple], start, end, line: int, column: str, owner: tuple) -> None:
        for unit_key in unit_keys:
            self.claims[unit_key].append(_Claim(start, end, self.label, line, column, owner))

    def _check_tenancies(self, rows) -> None:
        rows = list(rows)
        existing = self._load_tenancies(r.key[0] for r in rows if r.key)
        self._load_links([row["id"] for row in existing.values()])
        plans = self.plans[TENANCIES.name] = []
        for row in self._unique(TENANCIES, rows):
            credit_code, building, start = row.key
            values: dict[str, Any] = {"start": start}
            self._ref(row, values, "credit_code", "enterprise_id", "enterprise", "企业", "enterprise")
            self._ref(row, values, "building", "building_id", "building", "楼宇", "building")
            self._copy(row, values, "area_m2", "end")
            ex = existing.get(row.key)
            end = _merged(ex, values).get("end")
            if row.ok("end") and end is not None and end < start:
                self._error(
                    row.line,
                    "end",
                    f"到期日期 {end} 早于起租日期 {start} / end {end} is before start {start}",
                )
                end = None
            plan = _Plan(row.line, row.key, values, ex)
            if "units" in row.values:
                plan.links = self._unit_keys(row, building)
            elif ex is not None:
                plan.links = tuple(link[3] for link in self.tenancy_links[ex["id"]].values())
            else:
                plan.links = ()
            self._claim(plan.links, start, end, row.line, "units", row.key)
            plans.append(plan)
            self.tenancy_plans[row.key] = plan
            self.ids["tenancy"].setdefault(row.key, None)

    def _check_tax(self, rows) -> None:
        read = []
        for row in self._unique(TAX, rows):
            if self._known(row, "credit_code", "enterprise", row.key[0], "企业", "enterprise"):
                read.append((row.line, row.key, row.values.get("amount_yuan")))
        existing = {}
        enterprise_ids = {self.ids["enterprise"][key[0]] for _, key, _ in read} - {None}
        query = _select(
            TaxRecord.objects.all(),
            "enterprise_id",
            enterprise_ids,
            *("enterprise__credit_code", "year", "month", "id", "amount_yuan"),
        )
        for code, year, month, pk, amount in query:
            existing[(code, year, month)] = (pk, amount)
        self.tax_plans = [(line, key, amount, existing.get(key)) for line, key, amount in read]

    def _check_promoters(self, rows) -> None:
        rows = list(rows)
        usernames = [r.key[0] for r in rows if r.key]
        existing = _load(
            Promoter, "user__username", usernames, lambda r: (r["k_username"],), k_username="user__username"
        )
        for chunk in _chunks(usernames):
            self.ids["user"].update(
                get_user_model().objects.filter(username__in=chunk).values_list("username", "id")
            )
        plans = self.plans[PROMOTERS.name] = []
        for row in self._unique(PROMOTERS, rows):
            username = row.key[0]
            values: dict[str, Any] = {"user_id": _Ref("user", username)}
            self._copy(row, values, "name", "team", "is_team_lead")
            self._ref(row, values, "street", "street_id", "street", "镇街", "street")
            plans.append(_Plan(row.line, row.key, values, existing.get(row.key)))
            self.ids["user"].setdefault(username, None)
            self.ids["promoter"].setdefault(username, None)

    def _model_rules(self, row: ParsedRow, model: type[models.Model], final: dict) -> None:
        """The model's own clean() over the row as this import leaves it: its rules, not a copy."""
        fields = {f.attname for f in model._meta.concrete_fields}
        try:
            model(**{name: value for name, value in final.items() if name in fields}).clean()
        except ValidationError as exc:
            for column, messages in exc.message_dict.items():
                if row.ok(column):
                    self._error(row.line, column, "; ".join(messages))

    def _check_promoter_targets(self, rows) -> None:
        rows = list(rows)
        existing = _load(
            PromoterTarget,
            "promoter__user__username",
            [r.key[0] for r in rows if r.key],
            lambda r: (r["k_username"], r["period_kind"], r["period_start"]),
            k_username="promoter__user__username",
        )
        plans = self.plans[PROMOTER_TARGETS.name] = []
        for row in self._unique(PROMOTER_TARGETS, rows):
            username, period_kind, period_start = row.key
            values: dict[str, Any] = {"period_kind": period_kind, "period_start": period_start}
            if self._known(row, "promoter", "promoter", username, "招商人员", "promoter"):
                values["promoter_id"] = _Ref("promoter", username)
            self._copy(row, values, *_plain(PROMOTER_TARGETS, "promoter"))
            ex = existing.get(row.key)
            self._model_rules(row, PromoterTarget, _merged(ex, values))
            plans.append(_Plan(row.line, row.key, values, ex))

    def _check_street_targets(self, rows) -> None:
        rows = list(rows)
        existing = _load(
            StreetTarget,
            "street__name",
            [r.key[0] for r in rows if r.key],
            lambda r: (r["k_street"], r["year"], r["key"]),
            k_street="street__name",
        )
        plans = self.plans[STREET_TARGETS.name] = []
        for row in self._unique(STREET_TARGETS, rows):
            street, year, key = row.key
            values: dict[str, Any] = {"year": year, "key": key}
            if self._known(row, "street", "street", street, "镇街", "street"):
                values["street_id"] = _Ref("street", street)
            self._copy(row, values, "value")
            ex = existing.get(row.key)
            self._model_rules(row, StreetTarget, _merged(ex, values))
            plans.append(_Plan(row.line, row.key, values, ex))

    def _check_agencies(self, rows) -> None:
        existing = {(r["name"],): r for r in Agency.objects.values(*_attnames(Agency))}
        plans = self.plans[AGENCIES.name] = []
        for row in self._unique(AGENCIES, rows):
            values: dict[str, Any] = {}
            self._copy(row, values, *AGENCIES.column_names)
            plans.append(_Plan(row.line, row.key, values, existing.get(row.key)))
            self.ids["agency"].setdefault(row.key[0], None)

    def _check_leads(self, rows) -> None:
        rows = list(rows)
        existing = _load(Lead, "ref", [r.key[0] for r in rows if r.key], lambda r: (r["ref"],))
        through = Lead.preferred_streets.through
        for lead_id in (row["id"] for row in existing.values()):
            self.preferred_now[lead_id] = set()
        chosen = _select(through.objects.all(), "lead_id", self.preferred_now, "lead_id", "street_id")
        for lead_id, street_id in chosen:
            self.preferred_now[lead_id].add(street_id)
        plans = self.plans[LEADS.name] = []
        self.leads_label = self.label
        for row in self._unique(LEADS, rows):
            values: dict[str, Any] = {}
            self._copy(
                row, values, *_plain(LEADS, "industry", "owner", "agency", "referred_by", "preferred_streets")
            )
            if "company_name" in values:
                # bulk_create skips Lead.save, which keeps this derived column for the 撞单 check.
                values["normalised_name"] = normalise_company_name(values["company_name"])
            self._industry(row, values, "industry", (IndustryLevel.DIVISION,))
            self._ref(row, values, "owner", "owner_id", "promoter", "招商人员", "promoter")
            self._ref(row, values, "agency", "agency_id", "agency", "中介机构", "agency")
            self._referrer(row, values)
            ex = existing.get(row.key)
            final = _merged(ex, values)
            self._check_referrer(row, final)
            low, high = final.get("area_min_m2"), final.get("area_max_m2")
            if row.ok("area_min_m2", "area_max_m2") and low is not None and high is not None and low > high:
                self._error(
                    row.line,
                    "area_min_m2",
                    f"最小面积 {low} 大于最大面积 {high} / "
                    f"area_min_m2 {low} is greater than area_max_m2 {high}",
                )
            # As on the pages and the API: a contact person entered here needs the basis for
            # processing their data (the lead service's rule). Rows that leave an existing lead's
            # contact as it was are not asked again.
            contact_given = {"contact_name", "contact_phone", "lawful_basis"} & values.keys()
            changed = any(values[c] != (ex or {}).get(c, "") for c in contact_given)
            if (
                changed
                and row.ok("contact_name", "contact_phone", "lawful_basis")
                and contact_lacks_lawful_basis(
                    contact_name=final.get("contact_name", ""),
                    contact_phone=final.get("contact_phone", ""),
                    lawful_basis=final.get("lawful_basis", ""),
                )
            ):
                self._error(row.line, "lawful_basis", LAWFUL_BASIS_NEEDED)
            # A changed basis is stamped now unless the file says when it was recorded (an export does).
            if (
                "lawful_basis" in values
                and values["lawful_basis"] != (ex or {}).get("lawful_basis", "")
                and not values.get("lawful_basis_recorded_at")
            ):
                values["lawful_basis_recorded_at"] = timezone.now() if values["lawful_basis"] else None
            # As on the page: a lost lead says why, and only a lost lead has a reason to be lost.
            lost = final.get("stage", LeadStage.NEW) == LeadStage.LOST
            if row.ok("stage", "lost_reason") and lost and not (final.get("lost_reason") or "").strip():
                self._error(
                    row.line, "lost_reason", "流失线索须填写流失原因 / a lost lead needs its lost_reason"
                )
            elif row.ok("stage", "lost_reason") and not lost and final.get("lost_reason"):
                self._error(
                    row.line,
                    "lost_reason",
                    "只有已流失的线索有流失原因 / only a lost lead has a lost_reason",
                )
            plan = _Plan(row.line, row.key, values, ex)
            if "preferred_streets" in row.values:
                known = [
                    name
                    for name in row.values["preferred_streets"]
                    if self._known(row, "preferred_streets", "street", name, "镇街", "street")
                ]
                plan.links = tuple(known)
            plans.append(plan)
            self.lead_plans[row.key[0]] = plan
            self.ids["lead"].setdefault(row.key[0], None)

    def _referrer(self, row: ParsedRow, values: dict) -> None:
        """以商招商: the referring tenant by its credit code (blank: none), in the database or the file."""
        if "referred_by" not in row.values:
            return
        code = row.values["referred_by"] or None
        if code is None:
            values["referred_by_id"] = None
        elif self._known(row, "referred_by", "enterprise", code, "推荐企业", "referring enterprise"):
            values["referred_by_id"] = _Ref("enterprise", code)

    def _tenant_codes(self) -> set[str]:
        """Credit codes of enterprises with a tenancy, in the database or in this tenancies.csv."""
        if self.tenant_codes is None:
            self.tenant_codes = set(Tenancy.objects.values_list("enterprise__credit_code", flat=True))
            self.tenant_codes.update(plan.key[0] for plan in self.plans.get(TENANCIES.name, ()) if plan.key)
        return self.tenant_codes

    def _check_referrer(self, row: ParsedRow, final: dict) -> None:
        # The rules of crm.services.leads._check_referrer, for the lead as this import leaves it.
        if not row.ok("referred_by", "channel", "credit_code") or "referred_by" not in row.values:
            return
        code = row.values["referred_by"]
        if not code or code not in self.ids["enterprise"]:
            return
        if final.get("channel") != LeadChannel.TENANT_REFERRAL:
            self._error(
                row.line,
                "referred_by",
                "只有以商招商渠道的线索有推荐企业 / only a tenant-referral lead names a referring tenant",
            )
        elif final.get("credit_code") == code:
            self._error(row.line, "referred_by", "企业不能推荐自己 / a company cannot refer itself")
        elif code not in self._tenant_codes():
            self._error(
                row.line,
                "referred_by",
                f"{code} 不是区内楼宇的租户 / {code} is no tenant of the district's buildings",
            )

    def _check_stage_changes(self, rows) -> None:
        """A lead's logged stage moves: along an allowed edge, by a known user (blank: by nobody known)."""
        rows = list(rows)
        existing = _load(
            StageChange,
            "lead__ref",
            [r.key[0] for r in rows if r.key],
            lambda r: (r["k_ref"], r["changed_at"], r["to_stage"]),
            k_ref="lead__ref",
        )
        usernames = {r.values["changed_by"] for r in rows if r.values.get("changed_by")}
        for username, pk in _select(get_user_model().objects.all(), "username", usernames, "username", "id"):
            self.ids["user"].setdefault(username, pk)
        plans = self.plans[STAGE_CHANGES.name] = []
        for row in self._unique(STAGE_CHANGES, rows):
            ref, changed_at, to_stage = row.key
            values: dict[str, Any] = {"changed_at": changed_at, "to_stage": to_stage}
            if self._known(row, "lead", "lead", ref, "线索", "lead"):
                values["lead_id"] = _Ref("lead", ref)
            self._copy(row, values, "from_stage", "reason")
            self._ref(row, values, "changed_by", "changed_by_id", "user", "账号", "user")
            from_stage = row.values.get("from_stage")
            # The database refuses any other edge (stage_change_allowed_edge): say which row first.
            if row.ok("from_stage") and from_stage and to_stage not in LEAD_TRANSITIONS[from_stage]:
                self._error(
                    row.line,
                    "to_stage",
                    f"阶段不能从 {from_stage} 变为 {to_stage} / "
                    f"a lead cannot move from {from_stage} to {to_stage}",
                )
            plans.append(_Plan(row.line, row.key, values, existing.get(row.key)))

    def _check_activities(self, rows) -> None:
        rows = list(rows)
        existing = _load(
            Activity,
            "lead__ref",
            [r.key[0] for r in rows if r.key],
            lambda r: (r["k_ref"], r["occurred_at"], r["kind"]),
            k_ref="lead__ref",
        )
        plans = self.plans[ACTIVITIES.name] = []
        for row in self._unique(ACTIVITIES, rows):
            ref, occurred_at, kind = row.key
            values: dict[str, Any] = {"occurred_at": occurred_at, "kind": kind}
            if self._known(row, "lead", "lead", ref, "线索", "lead"):
                values["lead_id"] = _Ref("lead", ref)
                latest = self.latest_in_file.get(ref)
                self.latest_in_file[ref] = occurred_at if latest is None else max(latest, occurred_at)
            self._ref(row, values, "building", "building_id", "building", "楼宇", "building")
            self._activity_unit(row, values)
            self._ref(row, values, "promoter", "promoter_id", "promoter", "招商人员", "promoter")
            self._copy(row, values, "notes", "next_follow_up_at")
            ex = existing.get(row.key)
            if (
                kind == ActivityKind.SITE_TOUR
                and row.ok("building")
                and _merged(ex, values).get("building_id") is None
            ):
                self._error(row.line, "building", "实地看房须填写楼宇 / a site tour needs a building")
            plans.append(_Plan(row.line, row.key, values, ex))

    def _activity_unit(self, row: ParsedRow, values: dict) -> None:
        """The unit shown on a site tour: a number in the row's building (blank: none)."""
        if "unit" not in row.values:
            return
        number = row.values["unit"]
        if number is None:
            values["unit_id"] = None
            return
        building = row.values.get("building")
        if not building:
            if row.ok("building"):
                self._error(row.line, "unit", "房源须与楼宇同填 / a unit needs its building")
        elif self._known(row, "unit", "unit", (building, number), "房源", "unit"):
            values["unit_id"] = _Ref("unit", (building, number))

    def _check_holds(self, rows) -> None:
        """Holds on units: of a known lead and promoter, expiring after they were taken, and at most
        one live (unreleased) hold per unit, counting the database's (reservation_one_live_per_unit)."""
        rows = list(rows)
        unit_keys = {(r.key[0], r.key[1]) for r in rows if r.key}
        unit_ids = [pk for pk in (self.ids["unit"].get(key) for key in unit_keys) if pk]
        existing = _load(
            Reservation,
            "unit_id",
            unit_ids,
            lambda r: (r["k_building"], r["k_number"], r["created_at"]),
            k_building="unit__building__code",
            k_number="unit__number",
        )
        # Unit key → where its live hold is; a hold the file lists is the file's to release or keep.
        in_file = {r.key for r in rows if r.key}
        live: dict[tuple, str] = {
            (code, number): "db"
            for (code, number, created_at), row in existing.items()
            if row["released_at"] is None and (code, number, created_at) not in in_file
        }
        plans = self.plans[HOLDS.name] = []
        for row in self._unique(HOLDS, rows):
            code, number, created_at = row.key
            values: dict[str, Any] = {"created_at": created_at}
            if self._known(row, "unit", "unit", (code, number), "房源", "unit"):
                values["unit_id"] = _Ref("unit", (code, number))
            self._ref(row, values, "lead", "lead_id", "lead", "线索", "lead")
            self._ref(row, values, "promoter", "promoter_id", "promoter", "招商人员", "promoter")
            self._copy(row, values, "expires_on", "released_at")
            ex = existing.get(row.key)
            final = _merged(ex, values)
            expires_on = final.get("expires_on")
            if row.ok("expires_on") and expires_on and expires_on < timezone.localtime(created_at).date():
                self._error(
                    row.line, "expires_on", "预留到期早于预留时间 / the hold expires before it was taken"
                )
            released_at = final.get("released_at")
            if row.ok("released_at") and released_at and released_at < created_at:
                self._error(
                    row.line, "released_at", "释放时间早于预留时间 / the hold is released before it was taken"
                )
            where = live.get((code, number))
            if row.ok("released_at") and released_at is None:
                if where is not None:
                    other = "数据库中" if where == "db" else f"第 {where} 行"
                    other_en = "in the database" if where == "db" else f"on line {where}"
                    self._error(
                        row.line,
                        "released_at",
                        f"房源 {number} 已有未释放的预留({other})/ "
                        f"unit {number} already has a live hold {other_en}",
                    )
                else:
                    live[(code, number)] = str(row.line)
            plans.append(_Plan(row.line, row.key, values, ex))

    def _lead_facts(self, refs: list[str]) -> dict[str, dict]:
        """Each lead's values after this import: its leads.csv row over its database row."""
        wanted = set(refs)
        facts = {
            ref: _merged(plan.existing, plan.values) for ref, plan in self.lead_plans.items() if ref in wanted
        }
        rest = [ref for ref in refs if ref not in facts]
        facts.update({key[0]: row for key, row in _load(Lead, "ref", rest, lambda r: (r["ref"],)).items()})
        return facts

    def _check_signings(self, rows) -> None:
        rows = list(rows)
        refs = [r.key[0] for r in rows if r.key]
        leads = self._lead_facts(refs)
        existing = _load(
            Signing,
            "lead__ref",
            refs,
            lambda r: (r["k_ref"], r["k_building"]),
            k_ref="lead__ref",
            k_building="building__code",
        )
        tenancy_of = {}  # signing id → the key of its tenancy now
        signing_ids = [row["id"] for row in existing.values()]
        query = _select(
            Signing.objects.all(),
            "id",
            signing_ids,
            *("id", "tenancy__enterprise__credit_code", "tenancy__building__code", "tenancy__start"),
        )
        tenancy_of.update((pk, (code, building, start)) for pk, code, building, start in query)
        self.signing_units_now.update((pk, set()) for pk in signing_ids)
        units = _select(
            Signing.units.through.objects.all(), "signing_id", signing_ids, "signing_id", "unit_id"
        )
        for signing_id, unit_id in units:
            self.signing_units_now[signing_id].add(unit_id)
        # Every tenancy the signed companies have, with the signing (lead ref, building) that holds it.
        codes = {facts.get("credit_code") for facts in leads.values()} - {None, ""}
        tenancies = self._load_tenancies(codes)
        query = _select(
            Signing.objects.all(),
            "tenancy_id",
            [row["id"] for row in tenancies.values()],
            *("tenancy__enterprise__credit_code", "tenancy__building__code", "tenancy__start"),
            *("lead__ref", "building__code"),
        )
        holder = {(cc, building, start): (ref, code) for cc, building, start, ref, code in query}
        candidates: dict[tuple, dict[dt.date, tuple]] = defaultdict(dict)
        for key in tenancies:
            candidates[key[:2]][key[2]] = key
        for key in self.tenancy_plans:
            candidates[key[:2]][key[2]] = key
        taken_in_file: dict[tuple, int] = {}
        plans = self.plans[SIGNINGS.name] = []
        for row in self._unique(SIGNINGS, rows):
            ref, building = row.key
            values: dict[str, Any] = {}
            self._copy(row, values, "area_m2", "rent", "signed_on", *SIGNING_OUTCOME)
            self._ref(row, values, "signed_by", "signed_by_id", "promoter", "招商人员", "promoter")
            self._ref(row, values, "settled_by", "settled_by_id", "user", "账号", "user")
            self._ref(row, values, "cancelled_by", "cancelled_by_id", "user", "账号", "user")
            lead_ok = self._known(row, "lead", "lead", ref, "线索", "lead")
            building_ok = self._known(row, "building", "building", building, "楼宇", "building")
            unit_keys = self._unit_keys(row, building)
            if not (lead_ok and building_ok) or not row.ok("signed_on", "area_m2"):
                continue
            values["lead_id"] = _Ref("lead", ref)
            values["building_id"] = _Ref("building", building)
            lead = leads[ref]
            credit_code = lead.get("credit_code")
            stage = lead.get("stage", LeadStage.NEW)
            if not credit_code:
                self._error(
                    row.line,
                    "lead",
                    f"线索 {ref} 没有统一社会信用代码,无法签约 / lead {ref} has no credit code to sign with",
                )
                continue
            ex = existing.get(row.key)
            cancelled = self._check_signing_outcome(row, _merged(ex, values))
            if stage not in SIGNED_STAGES and not cancelled:
                self._error(
                    row.line,
                    "lead",
                    f"线索 {ref} 处于 {stage} 阶段,已签约的线索应为 signed 或 settled / "
                    f"lead {ref} is {stage}; a signed lead must be signed or settled",
                )
            if credit_code not in self.ids["enterprise"]:
                self._enterprise_from_lead(row, credit_code, lead)
            values["enterprise_id"] = _Ref("enterprise", credit_code)
            signed_on = _merged(ex, values).get("signed_on")
            area = _merged(ex, values).get("area_m2")
            if signed_on is None:
                continue
            choices = candidates[(credit_code, building)]
            current = tenancy_of.get(ex["id"]) if ex else None

            def free(key, this=row.key):
                return holder.get(key, this) == this and key not in taken_in_file

            chosen = self._tenancy_of_signing(choices, signed_on, current, free)
            if chosen is None:
                chosen = (credit_code, building, signed_on)
                self._tenancy_for_signing(row, chosen, area, unit_keys)
                choices[signed_on] = chosen
            elif not free(chosen):
                other = taken_in_file.get(chosen)
                where = f"{self.label}:{other}" if other else "{} @ {}".format(*holder[chosen])
                self._error(
                    row.line,
                    "signed_on",
                    f"该企业在此楼宇自 {chosen[2]} 起的租约已属于另一签约 ({where}) / "
                    f"the tenancy from {chosen[2]} already belongs to another signing ({where})",
                )
                continue
            taken_in_file[chosen] = row.line
            values["tenancy_id"] = _Ref("tenancy", chosen)
            if ex is None and "signed_by" not in row.values:
                # As signing_complete does: the lead's owner signed, unless told otherwise.
                values["signed_by_id"] = lead.get("owner_id")
            plan = _Plan(row.line, row.key, values, ex)
            if "units" in row.values:
                plan.links = unit_keys
            plans.append(plan)
            if "settled_at" in row.values:
                self.settlement_given.append(plan)
            self.ids["signing"].setdefault(row.key, None)
            end = self._tenancy_end(chosen, tenancies)
            if not cancelled and (end is None or end >= self.today):
                self.leased_by_signing.update(unit_keys if plan.links is not None else self._units_of(ex))

    def _check_signing_outcome(self, row: ParsedRow, final: dict) -> bool:
        """A signing verified or cancelled, each with what the database requires; True if cancelled."""
        cancelled = final.get("cancelled_at") is not None
        if row.ok("cancelled_at", "cancel_reason") and cancelled and not final.get("cancel_reason"):
            self._error(
                row.line, "cancel_reason", "取消签约须填写原因 / a cancelled signing needs its reason"
            )
        if row.ok("cancelled_at", "settled_at") and cancelled and final.get("settled_at") is not None:
            self._error(
                row.line,
                "cancelled_at",
                "已核验入驻的签约不能同时是已取消的 / a signing is not both settled and cancelled",
            )
        return cancelled

    @staticmethod
    def _tenancy_of_signing(choices: dict, signed_on: dt.date, current: tuple | None, free) -> tuple | None:
        """Which of the company's tenancies in the building (`choices`, by start) a signing holds.

        The one starting on signed_on; else the one it holds already; else the first free one
        starting after signed_on, since signing_complete lets a lease start after its signing;
        None when there is none, and the signing's own tenancy is made.
        """
        if signed_on in choices:
            return choices[signed_on]
        if current is not None and current[2] in choices and choices[current[2]] == current:
            return current
        later = sorted(start for start, key in choices.items() if start >= signed_on and free(key))
        return choices[later[0]] if later else None

    def _enterprise_from_lead(self, row: ParsedRow, credit_code: str, lead: dict) -> None:
        # As signing_complete does: a signed company unknown to the district is made from its lead.
        name = lead.get("company_name", "")
        values = {
            "credit_code": credit_code,
            "name": name,
            "normalised_name": normalise_company_name(name),
            "industry_id": lead.get("industry_id"),
            "is_headquarters": lead.get("is_headquarters", False),
            "registered_in_district": lead.get("registers_in_district", True),
            "settles_in_district": lead.get("settles_in_district", True),
            "employees": lead.get("employees"),
            "business_scope": lead.get("business_scope", ""),
        }
        self.lead_enterprises[credit_code] = _Plan(row.line, (credit_code,), values, None)
        self.ids["enterprise"][credit_code] = None

    def _tenancy_for_signing(self, row: ParsedRow, key: tuple, area, unit_keys: tuple) -> None:
        credit_code, building, start = key
        values = {
            "enterprise_id": _Ref("enterprise", credit_code),
            "building_id": _Ref("building", building),
            "area_m2": area,
            "start": start,
            "end": None,
        }
        self.signing_tenancies[key] = _Plan(row.line, key, values, None, links=unit_keys)
        self.ids["tenancy"][key] = None
        self._claim(unit_keys, start, None, row.line, "units", key)

    def _tenancy_end(self, key: tuple, tenancies: dict) -> dt.date | None:
        if key in self.tenancy_plans:
            plan = self.tenancy_plans[key]
            return _merged(plan.existing, plan.values).get("end")
        if key in tenancies:
            return tenancies[key]["end"]
        return None

    def _units_of(self, signing: dict | None) -> set[tuple]:
        if signing is None:
            return set()
        ids = self.signing_units_now.get(signing["id"], set())
        if not ids:
            return set()
        if not hasattr(self, "_unit_key_of"):
            self._unit_key_of = {pk: key for key, pk in self.ids["unit"].items() if pk}
        return {self._unit_key_of[pk] for pk in ids}

    def _mark_signed_units_leased(self) -> None:
        """Units of a signing whose tenancy is current are leased, whatever units.csv says."""
        existing_units = []
        for key in self.leased_by_signing:
            plan = self.unit_plans.get(key)
            if plan is not None:
                plan.values["status"] = UnitStatus.LEASED
            else:
                existing_units.append(self.ids["unit"][key])
        not_leased = Unit.objects.exclude(status=UnitStatus.LEASED)
        for row in _select(not_leased, "id", existing_units, *_attnames(Unit), named=True):
            self.unit_status_plans.append(_Plan(0, (row["id"],), {"status": UnitStatus.LEASED}, row))

    def _set_last_activity(self) -> None:
        """last_activity_at: the later of creation and the latest activity; never moved back."""
        touched = [ref for ref in self.latest_in_file if ref not in self.lead_plans]
        for key, row in _load(Lead, "ref", touched, lambda r: (r["ref"],)).items():
            plan = _Plan(0, key, {}, row)
            self.lead_touches.append(plan)
        lead_ids = [pk for pk in (self.ids["lead"].get(ref) for ref in self.lead_plans) if pk] + [
            plan.existing["id"] for plan in self.lead_touches
        ]
        latest_in_db = {}
        for chunk in _chunks(lead_ids):
            query = (
                Activity.objects.filter(lead_id__in=chunk)
                .values("lead_id")
                .annotate(latest=Max("occurred_at"))
            )
            latest_in_db.update((row["lead_id"], row["latest"]) for row in query)
        for plan in [*self.lead_plans.values(), *self.lead_touches]:
            final = _merged(plan.existing, plan.values)
            moments = [
                final.get("created_at"),
                self.latest_in_file.get(plan.key[0]),
                latest_in_db.get(final.get("id")),
                final.get("last_activity_at"),
            ]
            moments = [moment for moment in moments if moment is not None]
            if moments:
                plan.values["last_activity_at"] = max(moments)

    def _check_open_companies(self) -> None:
        """The 撞单 rule of lead_create, for imported rows: no company (same credit code or normalised
        name) is open in two leads, whether both are in the file or one is already in the database."""
        open_plans = []
        for plan in self.lead_plans.values():
            final = _merged(plan.existing, plan.values)
            if final.get("stage", LeadStage.NEW) in OPEN_STAGES:
                open_plans.append((plan, final.get("normalised_name") or "", final.get("credit_code") or ""))
        if not open_plans:
            return
        seen: dict[str, str] = {}
        for plan, name, code in open_plans:
            for key in (f"n:{name}" if name else "", f"c:{code}" if code else ""):
                if key and key in seen and seen[key] != plan.key[0]:
                    self._error(
                        plan.line,
                        "credit_code" if key.startswith("c:") else "company_name",
                        f"同一企业已是本文件中未结束的线索 {seen[key]} / "
                        f"the same company is already open as lead {seen[key]} in this file",
                        file=self.leads_label,
                    )
                    break
            for key in (f"n:{name}" if name else "", f"c:{code}" if code else ""):
                if key:
                    seen.setdefault(key, plan.key[0])
        refs = set(self.lead_plans)
        names = {name for _, name, _ in open_plans if name}
        codes = {code for _, _, code in open_plans if code}
        in_db = Lead.objects.filter(
            models.Q(normalised_name__in=names) | models.Q(credit_code__in=codes), stage__in=OPEN_STAGES
        ).exclude(ref__in=refs)
        holders: dict[str, tuple[str, dt.datetime]] = {}
        for ref, name, code, last in in_db.values_list(
            "ref", "normalised_name", "credit_code", "last_activity_at"
        ):
            holders.setdefault(f"n:{name}", (ref, last))
            if code:
                holders.setdefault(f"c:{code}", (ref, last))
        for plan, name, code in open_plans:
            for key in (f"c:{code}" if code else "", f"n:{name}" if name else ""):
                if key and key in holders:
                    ref, last = holders[key]
                    until = timezone.localtime(last).date() + dt.timedelta(days=settings.LEAD_PROTECTION_DAYS)
                    self._error(
                        plan.line,
                        "credit_code" if key.startswith("c:") else "company_name",
                        f"该企业已是未结束的线索 {ref}(保护期至 {until:%Y-%m-%d}),同一企业不能重复登记 / "
                        f"the company is already open as lead {ref} (protected until {until:%Y-%m-%d}): "
                        "it cannot be registered twice",
                        file=self.leads_label,
                    )
                    break

    def _check_overlaps(self) -> None:
        """No unit in two tenancies whose periods meet: within the files and against the database."""
        in_import = set(self.tenancy_plans) | set(self.signing_tenancies)
        unit_ids = [self.ids["unit"][key] for key in self.claims if self.ids["unit"].get(key)]
        links = _select(
            TenancyUnit.objects.all(),
            "unit_id",
            unit_ids,
            *("unit__building__code", "unit__number", "start", "end"),
            *("tenancy__enterprise__credit_code", "tenancy__building__code", "tenancy__start"),
        )
        for code, number, start, end, *owner in links:
            if tuple(owner) not in in_import:
                self.claims[(code, number)].append(_Claim(start, end, None, 0, "", tuple(owner)))
        for (_, number), claims in self.claims.items():
            claims.sort(key=lambda claim: (claim.start, claim.file is not None, claim.line))
            reported = set()
            for i, first in enumerate(claims):
                for second in claims[i + 1 :]:
                    if second.start > (first.end or dt.date.max):
                        break
                    if not first.meets(second) or first.owner == second.owner:
                        continue
                    wrong, other = (second, first) if second.file is not None else (first, second)
                    if wrong.file is None or (wrong.file, wrong.line) in reported:
                        continue
                    reported.add((wrong.file, wrong.line))
                    if other.file is not None:
                        zh, en = f" {other.file}:{other.line} ", f"{other.file}:{other.line}"
                    else:
                        zh = f"已有租约({other.owner[0]} 自 {other.start} 起)"
                        en = f"the existing tenancy of {other.owner[0]} from {other.start}"
                    self._error(
                        wrong.line,
                        wrong.column,
                        f"房源 {number} 的租期与{zh}重叠 / unit {number} overlaps {en}",
                        file=wrong.file,
                    )

    # ------------------------------------------------------------------ accounts, policies, commitments

    def _check_users(self, rows) -> None:
        """Logins the other files name: their names, address, role and place; never a password."""
        rows = list(rows)
        existing = _load(
            get_user_model(), "username", [r.key[0] for r in rows if r.key], lambda r: (r["username"],)
        )
        plans = self.plans[USERS.name] = []
        for row in self._unique(USERS, rows):
            username = row.key[0]
            values: dict[str, Any] = {"username": username}
            self._copy(row, values, "first_name", "last_name", "email")
            if "active" in row.values:
                values["is_active"] = row.values["active"]
            if values.get("email"):
                try:
                    validate_email(values["email"])
                except ValidationError:
                    self._error(
                        row.line, "email", f"不是电子邮件地址 / not an e-mail address: {values['email']}"
                    )
            ex = existing.get(row.key)
            if ex is None:
                values["password"] = make_password(None)  # no login until the user resets it
            elif ex["is_superuser"]:
                self._keep_superuser(row, ex, values)
            plan = _Plan(row.line, row.key, values, ex)
            place: dict[str, Any] = {}
            self._ref(row, place, "street", "street_id", "street", "镇街", "street")
            self._ref(row, place, "building", "building_id", "building", "楼宇", "building")
            if place.get("street_id") is not None and place.get("building_id") is not None:
                self._error(
                    row.line, "building", "账号只能限定一个镇街或一幢楼宇 / a login is scoped to one place"
                )
            self.account_facts[username] = (row.values.get("role", OMIT_ROLE), place)
            plans.append(plan)
            self.ids["user"].setdefault(username, None)

    def _keep_superuser(self, row: ParsedRow, existing: dict, values: dict) -> None:
        # A district admin may import; a superuser's address or role changed that way would hand
        # them the superuser's login. Superusers are changed in the admin only.
        changed = [attname for attname, value in values.items() if existing[attname] != value]
        role = row.values.get("role", OMIT_ROLE)
        if role is not OMIT_ROLE and role != Role.DISTRICT_ADMIN:
            changed.append("role")
        for attname in changed:
            self._error(
                row.line,
                "active" if attname == "is_active" else attname,
                "超级管理员的账号只能在管理后台修改 / a superuser's login is changed in the admin only",
            )

    def _check_policies(self, rows) -> None:
        """Policies, each checked by the model's own rules and the condition language's parser."""
        rows = list(rows)
        existing = _load(
            Policy, "name", [r.key[0] for r in rows if r.key], lambda r: (r["name"], r["valid_from"])
        )
        plans = self.plans[POLICIES.name] = []
        self.policies_label = self.label
        for row in self._unique(POLICIES, rows):
            values: dict[str, Any] = {}
            self._copy(row, values, *_plain(POLICIES, *POLICY_REFERENCES))
            for column in ("stacking_group", "condition"):
                if column in values:
                    values[column] = values[column].strip()  # as policy_create keeps them
            self._ref(row, values, "street", "street_id", "street", "镇街", "street")
            self._ref(
                row, values, "business_circle", "business_circle_id", "circle", "商圈", "business circle"
            )
            self._ref(row, values, "building", "building_id", "building", "楼宇", "building")
            self._ref(row, values, "lead", "lead_id", "lead", "线索", "lead")
            self._ref(row, values, "proposed_by", "proposed_by_id", "user", "账号", "user")
            self._ref(row, values, "reviewed_by", "reviewed_by_id", "user", "账号", "user")
            ex = existing.get(row.key)
            final = _merged(ex, values)
            # The condition is parsed below against this import's streets and circles as well.
            self._model_rules(row, Policy, {**final, "condition": ""})
            if row.ok("condition"):
                try:
                    parse_condition(final.get("condition", ""), known_values=self._condition_values())
                except ConditionError as error:
                    self._error(row.line, "condition", error.message)
            self._check_approval(row, final)
            plan = _Plan(row.line, row.key, values, ex)
            plans.append(plan)
            self.policy_plans[row.key] = plan
            self.ids["policy"].setdefault(row.key, None)

    def _condition_values(self) -> dict[str, list[str]]:
        if self.known_values is None:
            self.known_values = condition_known_values()
            self.known_values["street"] = sorted(self.ids["street"])
            self.known_values["business_circle"] = ["", *sorted(self.ids["circle"])]
        return self.known_values

    def _check_approval(self, row: ParsedRow, final: dict) -> None:
        # The database's policy_approval_status_matches and policy_review_recorded, said by line.
        status = final.get("approval_status", ApprovalStatus.NOT_REQUIRED)
        if not row.ok("needs_approval", "approval_status"):
            return
        if final.get("needs_approval", False) != (status != ApprovalStatus.NOT_REQUIRED):
            self._error(
                row.line,
                "approval_status",
                "需审批的政策应为待审批、已批准或已驳回,其余为无需审批 / "
                "a policy that needs approval is pending, approved or rejected; any other is not_required",
            )
        elif status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
            for column, attname in (("reviewed_by", "reviewed_by_id"), ("reviewed_at", "reviewed_at")):
                if row.ok(column) and final.get(attname) is None:
                    self._error(
                        row.line, column, "已审批的政策须记录审批人和时间 / a review records who and when"
                    )

    def _check_benefits(self, rows) -> None:
        """Each benefit by the rules the policy service applies (benefit_problems), grouped by policy."""
        self.benefits_label = self.label
        for row in rows:
            if row.key is None:
                continue
            values: dict[str, Any] = {"kind": row.values.get("kind", "")}
            values.update({name: row.values.get(name) for name in PARAMETERS})
            self._model_rules(row, Benefit, values)
            if self._known(row, "policy", "policy", row.key, "政策", "policy"):
                self.benefit_rows[row.key].append((row.line, values))
        policy_ids = [pk for pk in (self.ids["policy"].get(key) for key in self.benefit_rows) if pk]
        for row in _select(Benefit.objects.all(), "policy_id", policy_ids, "policy_id", "kind", *PARAMETERS):
            self.benefits_now[row[0]].append(
                benefit_key(Benefit(**dict(zip(("kind", *PARAMETERS), row[1:], strict=True))))
            )

    def _check_policies_have_benefits(self) -> None:
        # As policy_create: a policy needs at least one benefit.
        for key, plan in self.policy_plans.items():
            if plan.existing is None and key not in self.benefit_rows:
                self._error(
                    plan.line,
                    "name",
                    "政策至少须有一项福利(policy_benefits.csv)/ a policy needs at least one benefit "
                    "(policy_benefits.csv)",
                    file=self.policies_label,
                )

    def _check_commitments(self, rows) -> None:
        """What was promised at each signing, restored as it was: no policy is evaluated again."""
        rows = list(rows)
        existing = _load(
            Commitment,
            "signing__lead__ref",
            [r.key[0] for r in rows if r.key],
            lambda r: (r["k_ref"], r["k_building"]),
            k_ref="signing__lead__ref",
            k_building="signing__building__code",
        )
        plans = self.plans[COMMITMENTS.name] = []
        for row in self._unique(COMMITMENTS, rows):
            values: dict[str, Any] = {}
            self._copy(row, values, "evaluated_on", "total_yuan", "tax_retained_share", "snapshot")
            if self._known_signing(row, row.key):
                values["signing_id"] = _Ref("signing", row.key)
                values["building_id"] = _Ref("building", row.key[1])
            plans.append(_Plan(row.line, row.key, values, existing.get(row.key)))
            self.ids["commitment"].setdefault(row.key, None)

    def _known_signing(self, row: ParsedRow, key: tuple) -> bool:
        return self._known(row, "lead", "signing", key, "签约(线索 @ 楼宇)", "signing (lead @ building)")

    def _check_lines(self, rows) -> None:
        """Each period of a schedule, with its payments' period and its withholding's reason."""
        rows = list(rows)
        existing = _load(
            CommitmentLine,
            "commitment__signing__lead__ref",
            [r.key[0] for r in rows if r.key],
            lambda r: (r["k_ref"], r["k_building"], *(r[name] for name in LINE_KEY[2:])),
            k_ref="commitment__signing__lead__ref",
            k_building="commitment__signing__building__code",
        )
        plans = self.plans[COMMITMENT_LINES.name] = []
        for row in self._unique(COMMITMENT_LINES, rows):
            values: dict[str, Any] = dict(zip(LINE_KEY[2:], row.key[2:], strict=True))
            self._copy(row, values, "year", "period_start", "period_end", "amount_yuan", "withheld_at")
            self._copy(row, values, "withheld_reason")
            if self._known_signing(row, row.key[:2]):
                if row.key[:2] in self.ids["commitment"]:
                    values["commitment_id"] = _Ref("commitment", row.key[:2])
                else:
                    self._error(row.line, "lead", "该签约没有政策承诺 / the signing has no commitment")
            if values["benefit_kind"] not in {kind.value for kind in BenefitKind}:
                known = ", ".join(BenefitKind)
                self._error(
                    row.line, "benefit_kind", f"未知的福利类型 / unknown benefit kind; allowed: {known}"
                )
            self._line_policy(row, values)
            self._ref(row, values, "withheld_by", "withheld_by_id", "user", "账号", "user")
            self._line_referrer(row, values)
            ex = existing.get(row.key)
            final = _merged(ex, values)
            # The database's rule: a referral reward names its referrer, no other period does.
            referred = "referrer" in row.values and row.ok("referrer", "beneficiary")
            if referred and (values["beneficiary"] == REFERRER) != bool(final.get("referrer_id")):
                self._error(
                    row.line,
                    "referrer",
                    "推荐奖励须填写推荐企业,其他福利不填 / only a referral reward names its referrer",
                )
            start, end = final.get("period_start"), final.get("period_end")
            if row.ok("period_start", "period_end") and start and end and start > end:
                self._error(row.line, "period_end", "期间结束早于开始 / the period ends before it starts")
            if (
                row.ok("withheld_at", "withheld_reason")
                and final.get("withheld_at")
                and not final.get("withheld_reason")
            ):
                self._error(row.line, "withheld_reason", "暂缓兑现须填写原因 / withholding needs a reason")
            plans.append(_Plan(row.line, row.key, values, ex))
            self.line_facts[row.key] = (final.get("amount_yuan"), start)
            self.ids["line"].setdefault(row.key, None)

    def _line_referrer(self, row: ParsedRow, values: dict) -> None:
        """The referring tenant a referral reward is paid to, by credit code (blank: none)."""
        if "referrer" not in row.values:
            return
        code = row.values["referrer"] or None  # a blank credit code reads as ""
        if code is None:
            values["referrer_id"] = None
        elif self._known(row, "referrer", "enterprise", code, "推荐企业", "referring enterprise"):
            values["referrer_id"] = _Ref("enterprise", code)

    def _line_policy(self, row: ParsedRow, values: dict) -> None:
        """The policy a period was promised under (name and valid-from); blank: since deleted."""
        if "policy" not in row.values:
            return
        name, valid_from = row.values["policy"], row.values.get("policy_valid_from")
        if name is None:
            values["policy_id"] = None
        elif valid_from is None:
            if row.ok("policy_valid_from"):
                self._error(row.line, "policy_valid_from", "须与政策同填 / needed with the policy")
        elif self._known(row, "policy", "policy", (name, valid_from), "政策", "policy"):
            values["policy_id"] = _Ref("policy", (name, valid_from))

    def _check_payments(self, rows) -> None:
        """Payments against known periods: not before the period begins, never more than it promised."""
        rows = list(rows)
        refs = [r.key[0] for r in rows if r.key]
        existing = _load(
            CommitmentPayment,
            "line__commitment__signing__lead__ref",
            refs,
            lambda r: (*(r[alias] for alias in PAYMENT_ALIASES), r["paid_on"], r["recorded_at"]),
            **{alias: f"line__{path}" for alias, path in zip(PAYMENT_ALIASES, LINE_PATHS, strict=True)},
        )
        lines = _select(
            CommitmentLine.objects.all(), LINE_PATHS[0], refs, *LINE_PATHS, "amount_yuan", "period_start"
        )
        facts = {tuple(row[:6]): row[6:] for row in lines}
        facts.update(self.line_facts)
        in_file = {r.key for r in rows if r.key}
        paid: dict[tuple, Decimal] = defaultdict(Decimal)
        for key, row in existing.items():
            if key not in in_file:
                paid[key[:6]] += row["amount_yuan"]
        plans = self.plans[COMMITMENT_PAYMENTS.name] = []
        for row in self._unique(COMMITMENT_PAYMENTS, rows):
            line, (paid_on, recorded_at) = row.key[:6], row.key[6:]
            values: dict[str, Any] = {"paid_on": paid_on, "recorded_at": recorded_at}
            self._copy(row, values, "amount_yuan", "note")
            self._ref(row, values, "recorded_by", "recorded_by_id", "user", "账号", "user")
            if self._known(row, "lead", "line", line, "承诺期间", "commitment period"):
                values["line_id"] = _Ref("line", line)
                amount, period_start = facts.get(line, (None, None))
                if period_start and paid_on < period_start:
                    self._error(
                        row.line,
                        "paid_on",
                        f"该期自 {period_start} 开始 / the period begins on {period_start}",
                    )
                paid[line] += _merged(existing.get(row.key), values).get("amount_yuan") or 0
                if amount is not None and row.ok("amount_yuan") and paid[line] > amount:
                    self._error(
                        row.line,
                        "amount_yuan",
                        f"兑现合计 {paid[line]} 超过该期承诺的 {amount} 元 / "
                        f"payments of {paid[line]} exceed the {amount} yuan promised for the period",
                    )
            plans.append(_Plan(row.line, row.key, values, existing.get(row.key)))

    # ------------------------------------------------------------------ writing

    def write(self) -> None:
        self._write_table(STREETS.name, Street, "street", history=False)
        new_circles = [name for name, pk in self.ids["circle"].items() if pk is None]
        for circle in BusinessCircle.objects.bulk_create(
            [BusinessCircle(name=n) for n in new_circles], BATCH
        ):
            self.ids["circle"][circle.name] = circle.pk
        self.report.alongside["商圈新建 / business circles created"] = len(new_circles)
        self._write_table(BUILDINGS.name, Building, "building")
        self._write_table(UNITS.name, Unit, "unit")
        self._write_table(ENTERPRISES.name, Enterprise, "enterprise")
        made = self._create(Enterprise, list(self.lead_enterprises.values()), "enterprise")
        self.report.alongside["由签约线索新建的企业 / enterprises created from signed leads"] = made
        self._write_table(TENANCIES.name, Tenancy, "tenancy")
        made = self._create(Tenancy, list(self.signing_tenancies.values()), "tenancy")
        self.report.alongside["为签约新建的租约 / tenancies created for signings"] = made
        self._write_links()
        self._count(TENANCIES.name)
        self._write_tax()
        self._write_accounts()
        self._write_users()
        self._write_table(PROMOTERS.name, Promoter, "promoter", history=False)
        self._write_table(PROMOTER_TARGETS.name, PromoterTarget, None)
        self._write_table(STREET_TARGETS.name, StreetTarget, None)
        self._write_table(AGENCIES.name, Agency, "agency", history=False)
        self.plans.setdefault(LEADS.name, [])
        self._write_table(LEADS.name, Lead, "lead", extra=self.lead_touches)
        self._write_m2m(
            LEADS.name, Lead.preferred_streets.through, "lead_id", "street_id", "street", self.preferred_now
        )
        self._count(LEADS.name)
        self._write_table(STAGE_CHANGES.name, StageChange, None, history=False)
        self._write_table(ACTIVITIES.name, Activity, None, history=False)
        self._write_table(HOLDS.name, Reservation, None)
        self._write_table(SIGNINGS.name, Signing, "signing")
        self._write_m2m(
            SIGNINGS.name, Signing.units.through, "signing_id", "unit_id", "unit", self.signing_units_now
        )
        self._count(SIGNINGS.name)
        self._write_table(POLICIES.name, Policy, "policy")
        self._write_benefits()
        self._write_table(COMMITMENTS.name, Commitment, "commitment", history=False)
        self._write_table(COMMITMENT_LINES.name, CommitmentLine, "line")
        self._write_table(COMMITMENT_PAYMENTS.name, CommitmentPayment, None)
        self._mark_imported_settlements()
        self._update(Unit, self.unit_status_plans)
        self.report.alongside["签约房源改为已租 / signed units marked leased"] = len(self.unit_status_plans)
        self._release_units_without_a_hold()

    def _release_units_without_a_hold(self) -> None:
        """A unit this import leaves reserved with no live hold is vacant: nothing would ever release it.

        Only units the import wrote or whose holds it wrote are looked at, so that a partial import
        leaves the rest of the district as it is.
        """
        unit_ids = {plan.pk for plan in self.plans.get(UNITS.name, ()) if plan.pk}
        unit_ids |= {
            self.ids["unit"][plan.key[:2]]
            for plan in self.plans.get(HOLDS.name, ())
            if plan.key[:2] in self.ids["unit"]
        }
        live = Reservation.objects.filter(unit=models.OuterRef("pk"), released_at__isnull=True)
        stranded = Unit.objects.filter(status=UnitStatus.RESERVED).exclude(models.Exists(live))
        plans = [
            _Plan(0, (row["id"],), {"status": UnitStatus.VACANT}, row)
            for row in _select(stranded, "id", unit_ids, *_attnames(Unit), named=True)
        ]
        self._update(Unit, plans)
        self.report.alongside["无预留的预留房源改为空置 / reserved units without a hold made vacant"] = len(
            plans
        )

    def _mark_imported_settlements(self) -> None:
        # A file without the verification columns carries the lead's stage only: a lead the
        # district's records call settled is taken as verified by them, and says so on its signing.
        # A signing whose row says when it was verified (an export does) is as its row says.
        given = [plan.pk for plan in self.settlement_given]
        marked = (
            Signing.objects.filter(
                lead__stage=LeadStage.SETTLED, settled_at__isnull=True, cancelled_at__isnull=True
            )
            .exclude(pk__in=given)
            .update(settled_at=timezone.now(), settle_override_reason=IMPORTED_SETTLEMENT)
        )
        self.report.alongside["按导入阶段标记入驻的签约 / signings settled as imported"] = marked

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, _Ref):
            return self.ids[value.kind][value.key]
        return value

    def _write_table(
        self, name: str, model, kind: str | None, *, history: bool = True, extra: Iterable[_Plan] = ()
    ) -> None:
        """Create and update one file's rows; `extra` plans update rows the file does not list."""
        plans = self.plans.get(name)
        if plans is None:
            return
        creates = [plan for plan in plans if plan.existing is None]
        self._create(model, creates, kind, history=history)
        self._update(model, [plan for plan in plans if plan.existing is not None], kind, history=history)
        self._update(model, list(extra), kind, history=history)
        if name not in (TENANCIES.name, LEADS.name, SIGNINGS.name):  # those count after their links
            self._count(name)

    def _create(self, model, plans: list[_Plan], kind: str | None, *, history: bool = True) -> int:
        objs = [model(**{attname: self._resolve(v) for attname, v in plan.values.items()}) for plan in plans]
        if history and hasattr(model, "history"):
            bulk_create_with_history(objs, model, batch_size=BATCH, default_change_reason=HISTORY_REASON)
        else:
            model.objects.bulk_create(objs, batch_size=BATCH)
        for plan, obj in zip(plans, objs, strict=True):
            plan.pk = obj.pk
            plan.status = "created"
            if kind:
                self.ids[kind][plan.key if len(plan.key) > 1 else plan.key[0]] = obj.pk
        return len(objs)

    def _update(self, model, plans: list[_Plan], kind: str | None = None, *, history: bool = True) -> None:
        objs, fields = [], set()
        for plan in plans:
            plan.pk = plan.existing["id"]
            values = {attname: self._resolve(v) for attname, v in plan.values.items()}
            changed = {attname for attname, value in values.items() if plan.existing[attname] != value}
            if changed:
                plan.status = "updated"
                objs.append(model(**{**plan.existing, **values}))
                fields |= changed
        if model is Lead and objs:
            now = timezone.now()
            for obj in objs:
                obj.updated_at = now
            fields.add("updated_at")
        if not objs:
            return
        if history and hasattr(model, "history"):
            bulk_update_with_history(
                objs, model, sorted(fields), batch_size=BATCH, default_change_reason=HISTORY_REASON
            )
        else:
            model.objects.bulk_update(objs, sorted(fields), batch_size=BATCH)

    def _count(self, name: str) -> None:
        counts = self.report.counts.get(name)
        if counts is None:
            return
        for plan in self.plans.get(name, []):
            setattr(counts, plan.status, getattr(counts, plan.status) + 1)

    def _write_links(self) -> None:
        """Each imported tenancy's unit links: its units, carrying the tenancy's period."""
        stale, fresh = [], []
        for plan in [*self.tenancy_plans.values(), *self.signing_tenancies.values()]:
            final = _merged(plan.existing, plan.values)
            # A new tenancy from a file without the optional end column is open-ended.
            period = (final["start"], final.get("end"))
            wanted = {self.ids["unit"][key] for key in plan.links}
            now = self.tenancy_links.get(plan.pk, {})
            for unit_id, (link_id, start, end, _) in now.items():
                if unit_id not in wanted or (start, end) != period:
                    stale.append(link_id)
            for unit_id in wanted:
                link = now.get(unit_id)
                if link is None or (link[1], link[2]) != period:
                    fresh.append(
                        TenancyUnit(tenancy_id=plan.pk, unit_id=unit_id, start=period[0], end=period[1])
                    )
                    if plan.status == "unchanged":
                        plan.status = "updated"
            if plan.status == "unchanged" and len(now) != len(wanted):
                plan.status = "updated"
        # Every stale link goes before any new one, so that no step meets PostgreSQL's overlap constraint.
        for chunk in _chunks(stale):
            TenancyUnit.objects.filter(id__in=chunk).delete()
        TenancyUnit.objects.bulk_create(fresh, batch_size=BATCH)

    def _write_m2m(
        self, name: str, through, owner: str, target: str, kind: str, now: dict[int, set[int]]
    ) -> None:
        stale, fresh = [], []
        for plan in self.plans.get(name, []):
            if plan.links is None:
                continue
            wanted = {self.ids[kind][key] for key in plan.links}
            current = now.get(plan.pk, set())
            stale += [(plan.pk, pk) for pk in current - wanted]
            fresh += [through(**{owner: plan.pk, target: pk}) for pk in wanted - current]
            if wanted != current and plan.status == "unchanged":
                plan.status = "updated"
        for owner_id, target_id in stale:
            through.objects.filter(**{owner: owner_id, target: target_id}).delete()
        through.objects.bulk_create(fresh, batch_size=BATCH)

    def _write_tax(self) -> None:
        if TAX.name not in self.report.counts:
            return
        counts = self.report.counts[TAX.name]
        creates, updates = [], []
        enterprise_ids = self.ids["enterprise"]
        for _, (code, year, month), amount, existing in self.tax_plans:
            if existing is None:
                creates.append(
                    TaxRecord(enterprise_id=enterprise_ids[code], year=year, month=month, amount_yuan=amount)
                )
            elif existing[1] != amount:
                updates.append(TaxRecord(id=existing[0], amount_yuan=amount))
        TaxRecord.objects.bulk_create(creates, batch_size=BATCH)
        TaxRecord.objects.bulk_update(updates, ["amount_yuan"], batch_size=BATCH)
        counts.created, counts.updated = len(creates), len(updates)
        counts.unchanged = len(self.tax_plans) - len(creates) - len(updates)

    def _write_accounts(self) -> None:
        """users.csv's logins, then each one's role group and place where the file names them."""
        if USERS.name not in self.plans:
            return
        self._write_table(USERS.name, get_user_model(), "user", history=False)
        user_model = get_user_model()
        through = user_model.groups.through
        groups = {group.name: group.pk for group in Group.objects.filter(name__in=Role.values)}
        for plan in self.plans[USERS.name]:
            role, place = self.account_facts[plan.key[0]]
            changed = False
            # A superuser is exported as a district admin, which it is without the group.
            superuser = bool(plan.existing and plan.existing["is_superuser"])
            if role is not OMIT_ROLE and not (superuser and role == Role.DISTRICT_ADMIN):
                now = set(
                    through.objects.filter(user_id=plan.pk, group__name__in=Role.values).values_list(
                        "group__name", flat=True
                    )
                )
                if now != ({role} if role else set()):
                    through.objects.filter(user_id=plan.pk, group__name__in=now - {role}).delete()
                    if role and role not in now:
                        group_id = groups.get(role) or Group.objects.get_or_create(name=role)[0].pk
                        through.objects.create(user_id=plan.pk, group_id=group_id)
                    changed = True
            if place:
                changed |= self._write_user_scope(plan.pk, place)
            if changed and plan.status == "unchanged":
                plan.status = "updated"
        self._count(USERS.name)

    def _write_user_scope(self, user_id: int, place: dict) -> bool:
        """The login's street or building (UserScope); an agency's login keeps its agency."""
        wanted = {attname: self._resolve(value) for attname, value in place.items()}
        scope = UserScope.objects.filter(user_id=user_id).first()
        if scope is None:
            if not any(wanted.values()):
                return False
            UserScope.objects.create(user_id=user_id, **wanted)
            return True
        if all(getattr(scope, attname) == value for attname, value in wanted.items()):
            return False
        if (
            not any(wanted.values())
            and scope.agency_id is None
            and not ({"street_id", "building_id"} - wanted.keys())
        ):
            scope.delete()
            return True
        for attname, value in wanted.items():
            setattr(scope, attname, value)
        scope.save()
        return True

    def _write_benefits(self) -> None:
        """Each listed policy's benefits, replaced (with their history) only where they differ."""
        if POLICY_BENEFITS.name not in self.report.counts:
            return
        counts = self.report.counts[POLICY_BENEFITS.name]
        fresh = []
        for key, rows in self.benefit_rows.items():
            policy_id = self.ids["policy"][key]
            wanted = [Benefit(policy_id=policy_id, **values) for _, values in rows]
            if sorted(map(benefit_key, wanted)) == sorted(self.benefits_now.get(policy_id, [])):
                counts.unchanged += len(wanted)
                continue
            for old in Benefit.objects.filter(policy_id=policy_id):
                old._change_reason = HISTORY_REASON
                old.delete()
            fresh += wanted
            counts.created += len(wanted)
        bulk_create_with_history(fresh, Benefit, batch_size=BATCH, default_change_reason=HISTORY_REASON)

    def _write_users(self) -> None:
        """A promoter's login: made when missing, with no usable password, in the promoter group."""
        plans = self.plans.get(PROMOTERS.name, [])
        if not plans:
            return
        user_model = get_user_model()
        new = [key for key, pk in self.ids["user"].items() if pk is None]
        users = [user_model(username=username, password=make_password(None)) for username in new]
        user_model.objects.bulk_create(users, batch_size=BATCH)
        for user in users:
            self.ids["user"][user.username] = user.pk
        self.report.alongside["新建账号 / user accounts created"] = len(users)
        becoming = [self.ids["user"][plan.key[0]] for plan in plans if plan.existing is None]
        group = Group.objects.get_or_create(name=Role.PROMOTER)[0]
        through = user_model.groups.through
        already = set(
            through.objects.filter(group=group, user_id__in=becoming).values_list("user_id", flat=True)
        )
        through.objects.bulk_create(
            [through(user_id=pk, group_id=group.pk) for pk in becoming if pk not in already], batch_size=BATCH
        )

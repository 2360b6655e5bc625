"""Between the database and the ranking core: load the district into arrays, keep them fresh, rank.

The arrays live in a per-process cache. Every ranking first reads a version stamp, one SQL
statement of indexed lookups: each part's data-version counter (crm.data_versions: database
triggers advance "matching_<part>" in every transaction that writes one of the part's tables,
whoever writes, `QuerySet.update()`, raw SQL and other processes included), the largest primary key
and history id of every table a ranking depends on (simple-history writes a history row on every
save and delete the services make, and bulk inserts raise the largest key: these also see writes
of this process's own open transaction, which the counters see only at commit) and a per-process
count of the writes this process made (post_save, post_delete and m2m_changed, connected in
matching.apps), so that a write rolled back after a ranking read it still invalidates. A part whose
stamp moved is reloaded before ranking, so a ranking never uses inputs older than the committed
data version it read; each result names that version (`data_version`).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from crm.constants import OPEN_STAGES, TaxTier
from crm.data_versions import MATCHING, MATCHING_PARTS, part_counter
from crm.indicators import building_figures
from crm.models import (
    Building,
    DataVersion,
    Industry,
    Lead,
    Reservation,
    Tenancy,
    TenancyUnit,
    Unit,
)
from crm.tax_tiers import tax_shortfall, tax_year_for, tier_thresholds
from matching.core.explain import (
    Exclusion,
    RankedBuilding,
    RankedLead,
    exclusions,
    explain_buildings,
    explain_leads,
)
from matching.core.incentives import PolicyIncentives
from matching.core.rank import (
    DEFAULT_TOLERANCE,
    DIVERSITY_PENALTY,
    lead_exposure,
    rank_all,
    rank_buildings,
    rank_leads,
)
from matching.core.snapshot import Snapshot, snapshot
from matching.core.types import (
    ALWAYS,
    DEFAULT_VERSION,
    DEFAULT_WEIGHTS,
    MAIN_DIVISION,
    MAIN_NONE,
    MAIN_SECTION,
    NEVER,
    UNIT_STATUS_CODES,
    BuildingTable,
    EntryRule,
    Industries,
    LeadQuery,
    LeadTable,
    LinkTable,
    MatchingInputError,
    TenancyTable,
    UnitTable,
    lead_query,
    make_industries,
    named_weights,
    ordinal,
    weight_vector,
)
from matching.models import EntryRule as EntryRuleRow
from matching.models import RankingModel
from policies.adapter import policy_terms, tax_retained_share
from policies.conditions import parse_condition
from policies.engine import PolicyBook
from policies.models import Policy

# ---------------------------------------------------------------------------- version stamp

# Which tables each cached part is read from (crm.data_versions.MATCHING_PARTS, which the triggers
# also read); a part reloads when any of their stamps moves.
PARTS: dict[str, tuple[type[Model], ...]] = {
    part: tuple(django_apps.get_model(label) for label in labels) for part, labels in MATCHING_PARTS.items()
}


def _stamp_columns() -> list[tuple[str, str, str]]:
    """(part, table, column) for every MAX() in the stamp."""
    columns = []
    for part, models in PARTS.items():
        for model in models:
            columns.append((part, model._meta.db_table, model._meta.pk.column))
            history = getattr(model, "history", None)
            if history is not None:
                columns.append((part, history.model._meta.db_table, history.model._meta.pk.column))
    return columns


def _stamp_sql() -> tuple[str, list[str]]:
    """The stamp's one statement: every MAX(), then each part's data-version counter, then the
    matching group's version (crm.data_versions), with the counters' names as parameters."""
    quote = connection.ops.quote_name
    maxima = [f"(SELECT MAX({quote(c)}) FROM {quote(t)})" for _, t, c in _STAMP_COLUMNS]
    table = quote(DataVersion._meta.db_table)
    counter = f"(SELECT value FROM {table} WHERE name = %s)"
    names = [part_counter(part) for part in PARTS] + [MATCHING]
    return "SELECT " + ", ".join(maxima + [counter] * len(names)), names


_STAMP_COLUMNS = _stamp_columns()
DATA_VERSION = "data_version"  # the stamp's entry of the matching group's version, not a part
_PART_OF: dict[type[Model], str] = {model: part for part, models in PARTS.items() for model in models}
# Writes this process has made, per part: a rolled-back write on SQLite can leave the largest ids
# as they were, but it still moved this counter (bumped by matching.apps on save, delete, m2m change).
_writes_seen: dict[str, int] = dict.fromkeys(PARTS, 0)


def note_write(sender: type[Model], **kwargs: Any) -> None:
    """Signal receiver: a row of a table the arrays depend on was written by this process."""
    part = _PART_OF.get(sender)
    if part is not None:
        _writes_seen[part] += 1


def version_stamp() -> dict[str, tuple]:
    """Each part's stamp, read in one statement of index-only lookups: the MAX() ids, the part's
    data-version counter, and this process's writes. Key "data_version": the matching group's
    committed version the stamp was read at (0 before any write)."""
    sql, params = _stamp_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    maxima, counters = row[: len(_STAMP_COLUMNS)], row[len(_STAMP_COLUMNS) :]
    stamp: dict[str, list] = {part: [] for part in PARTS}
    for (part, _, _), value in zip(_STAMP_COLUMNS, maxima, strict=True):
        stamp[part].append(value)
    for part, value in zip(PARTS, counters[:-1], strict=True):
        stamp[part].append(value or 0)
    result: dict[str, tuple] = {part: (*values, _writes_seen[part]) for part, values in stamp.items()}
    result[DATA_VERSION] = (counters[-1] or 0,)
    return result


# ---------------------------------------------------------------------------- loaders


def load_industries() -> Industries:
    rows = Industry.objects.filter(level="division").values_list("code", "section", "name_zh")
    return make_industries(list(rows))


_BUILDING_COLUMNS = (
    "pk",
    "name",
    "street_id",
    "street__name",
    "business_circle_id",
    "business_circle__name",
    "main_industry_id",
    "main_industry__level",
    "star_rating",
    "star_since",
    "featured_type",
    "featured_since",
    "party_org_since",
    "intermediary_since",
    "smart_platform_since",
    "in_service_since",
    "rent_min",
    "rent_max",
)


@dataclass(frozen=True)
class BuildingRows:
    """Buildings as loaded, before the since-dates are read for one day."""

    rows: list[tuple]
    row_of: dict[int, int]  # building id -> row


def load_buildings() -> BuildingRows:
    rows = list(Building.objects.order_by("pk").values_list(*_BUILDING_COLUMNS))
    return BuildingRows(rows, {r[0]: i for i, r in enumerate(rows)})


def _since(value: dt.date | None, on: dt.date) -> bool:
    """A rating or type with a since-date holds from it on; blank: it has always held (domain.md)."""
    return value is None or value <= on


def _service(value: dt.date | None, on: dt.date) -> bool:
    """A service flag holds from its date on; no date: the building does not have it (domain.md)."""
    return value is not None and value <= on


def _reference_rent(low: Decimal | None, high: Decimal | None) -> float:
    known = [float(r) for r in (low, high) if r is not None]
    return sum(known) / len(known) if known else float("nan")


def building_table(loaded: BuildingRows, industries: Industries, on: dt.date) -> BuildingTable:
    """The buildings as they stand on `on`: star rating, featured type and services by their dates."""
    rows = loaded.rows
    n = len(rows)
    main_kind = np.zeros(n, dtype=np.int8)
    main_index = np.full(n, -1, dtype=np.int64)
    for i, r in enumerate(rows):  # loaded once per change of the buildings, not per ranking
        code, level = r[6], r[7]
        if code and level == "division":
            main_kind[i], main_index[i] = MAIN_DIVISION, industries.division(code)
        elif code and level == "section":
            main_kind[i], main_index[i] = MAIN_SECTION, industries.section(code)
    main_kind[main_index < 0] = MAIN_NONE
    return BuildingTable(
        id=np.array([r[0] for r in rows], dtype=np.int64),
        name=np.array([r[1] for r in rows], dtype=object),
        street_id=np.array([r[2] for r in rows], dtype=np.int64),
        street=np.array([r[3] or "" for r in rows], dtype=str),
        circle_id=np.array([-1 if r[4] is None else r[4] for r in rows], dtype=np.int64),
        circle=np.array([r[5] or "" for r in rows], dtype=str),
        main_kind=main_kind,
        main_index=main_index,
        main_code=np.array([r[6] or "" for r in rows], dtype=str),
        star=np.array([r[8] if _since(r[9], on) else 0 for r in rows], dtype=float),
        services=np.array([sum(_service(r[k], on) for k in (12, 13, 14)) for r in rows], dtype=float),
        featured=np.array([(r[10] or "") if _since(r[11], on) else "" for r in rows], dtype=str),
        in_service_since=np.array([ordinal(r[15], ALWAYS) for r in rows], dtype=np.int64),
        reference_rent=np.array([_reference_rent(r[16], r[17]) for r in rows], dtype=float),
    )


def _natural(number: str) -> tuple:
    """'9' before '10', '12A' after '12': unit numbers in the order a floor plan lists them."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|\D+", number))


@dataclass(frozen=True)
class UnitRows:
    table: UnitTable
    row_of: dict[int, int]  # unit id -> row


def load_units(buildings: BuildingRows, reference_rent: np.ndarray) -> UnitRows:
    """Every unit, sorted by building, floor and unit number, with its live hold if any (2 queries)."""
    rows = list(
        Unit.objects.values_list(
            "pk", "building_id", "floor", "number", "area_m2", "status", "asking_rent", "available_from"
        )
    )
    row_of_building = buildings.row_of
    rows.sort(key=lambda r: (row_of_building[r[1]], r[2], _natural(r[3]), r[0]))
    n = len(rows)
    building = np.array([row_of_building[r[1]] for r in rows], dtype=np.int64)
    asking = np.array([np.nan if r[6] is None else float(r[6]) for r in rows], dtype=float)
    rent = np.where(np.isnan(asking), reference_rent[building] if n else asking, asking)
    row_of = {r[0]: i for i, r in enumerate(rows)}
    hold_lead = np.full(n, -1, dtype=np.int64)
    hold_expires = np.full(n, ALWAYS, dtype=np.int64)
    for unit_id, lead_id, expires in Reservation.objects.filter(released_at__isnull=True).values_list(
        "unit_id", "lead_id", "expires_on"
    ):
        row = row_of.get(unit_id)
        if row is not None:
            hold_lead[row], hold_expires[row] = lead_id, expires.toordinal()
    table = UnitTable(
        id=np.array([r[0] for r in rows], dtype=np.int64),
        building=building,
        floor=np.array([r[2] for r in rows], dtype=np.int64),
        number=np.array([r[3] for r in rows], dtype=object),
        area=np.array([float(r[4]) for r in rows], dtype=float),
        rent=rent,
        available_from=np.array([ordinal(r[7], ALWAYS) for r in rows], dtype=np.int64),
        status=np.array(
            [UNIT_STATUS_CODES.get(r[5], UNIT_STATUS_CODES["unavailable"]) for r in rows], np.int8
        ),
        hold_lead=hold_lead,
        hold_expires=hold_expires,
    )
    return UnitRows(table, row_of)


def load_tenancies(buildings: BuildingRows, industries: Industries) -> TenancyTable:
    rows = Tenancy.objects.values_list("building_id", "enterprise__industry_id", "area_m2", "start", "end")
    building, division, area, start, end = [], [], [], [], []
    row_of = buildings.row_of
    for b, code, a, s, e in rows.iterator(chunk_size=20000):
        building.append(row_of[b])
        division.append(industries.division(code))
        area.append(float(a))
        start.append(s.toordinal())
        end.append(NEVER if e is None else e.toordinal())
    return TenancyTable(
        building=np.array(building, dtype=np.int64),
        division=np.array(division, dtype=np.int64),
        area=np.array(area, dtype=float),
        start=np.array(start, dtype=np.int64),
        end=np.array(end, dtype=np.int64),
    )


def load_links(units: UnitRows) -> LinkTable:
    """Which unit each tenancy held and when, to rebuild vacancy on a past day."""
    rows = TenancyUnit.objects.values_list("unit_id", "start", "end")
    unit, start, end = [], [], []
    for u, s, e in rows.iterator(chunk_size=20000):
        unit.append(units.row_of[u])
        start.append(s.toordinal())
        end.append(NEVER if e is None else e.toordinal())
    return LinkTable(np.array(unit, np.int64), np.array(start, np.int64), np.array(end, np.int64))


@dataclass(frozen=True)
class TaxFigures:
    year: int | None
    tax_per_m2: np.ndarray
    shortfall: np.ndarray
    next_tier: np.ndarray


def load_tax(buildings: BuildingRows, year: int | None) -> TaxFigures:
    """Each building's tax per m² of occupied area in `year` and what it lacks to the next full tier."""
    n = len(buildings.rows)
    per_m2, shortfall = np.zeros(n), np.zeros(n)
    next_tier = np.full(n, "", dtype=object)
    thresholds = tier_thresholds()
    # A building without figures (not in service that year) is as far from a tier as an empty one.
    shortfall[:] = float(dict(thresholds)[TaxTier.TEN_MILLION])
    next_tier[:] = str(TaxTier.TEN_MILLION.label)
    if year is None:
        return TaxFigures(None, per_m2, shortfall, next_tier)
    for figures in building_figures(year=year):
        row = buildings.row_of.get(figures.building_id)
        if row is None:
            continue
        occupied = figures.occupied_area_m2
        per_m2[row] = float(figures.tax_yuan / occupied) if occupied > 0 else 0.0
        tier, lacking = tax_shortfall(figures.tax_yuan, thresholds)
        shortfall[row] = float(lacking)
        next_tier[row] = "" if tier is None else str(TaxTier(tier).label)
    return TaxFigures(year, per_m2, shortfall, next_tier)


def load_entry_rules(buildings: BuildingRows) -> list[EntryRule]:
    rules = []
    for building_id, text in EntryRuleRow.objects.order_by("building_id").values_list(
        "building_id", "condition"
    ):
        row = buildings.row_of.get(building_id)
        if row is not None:
            rules.append(EntryRule(row, parse_condition(text), text.strip()))
    return rules


def load_policy_book() -> PolicyBook:
    """Every policy that is or may come in force (dates are checked per ranking), with its benefits."""
    policies = Policy.objects.prefetch_related("benefits").order_by("id")
    return PolicyBook([policy_terms(p) for p in policies], tax_retained_share=tax_retained_share())


def load_model() -> tuple[int, np.ndarray, dict, float]:
    """(version, feature weights, their names, budget cut-off): the newest trained model, or the
    defaults as version 0 with no cut-off (infinity)."""
    row = RankingModel.objects.order_by("-version").first()
    if row is None:
        weights = weight_vector(DEFAULT_WEIGHTS)
        return DEFAULT_VERSION, weights, named_weights(weights), float("inf")
    weights = weight_vector(row.weights)
    cutoff = (row.report or {}).get("budget_cutoff")
    return row.version, weights, named_weights(weights), float("inf") if cutoff is None else float(cutoff)


def query_for_lead(
    lead: Lead, industries: Industries, *, preferred: Iterable[int] | None = None
) -> LeadQuery:
    """A lead as the ranking reads it, with its stated tax and its own entry intentions (the core
    counts tax only from a company that pays it here); missing industry or area, or an inverted
    range, is refused."""
    if preferred is None:
        preferred = lead.preferred_streets.values_list("pk", flat=True) if lead.pk else []
    return lead_query(
        id=lead.pk or 0,
        industries=industries,
        division_code=lead.industry_id,
        area_min=None if lead.area_min_m2 is None else float(lead.area_min_m2),
        area_max=None if lead.area_max_m2 is None else float(lead.area_max_m2),
        budget=None if lead.budget_rent is None else float(lead.budget_rent),
        expected_tax=None if lead.expected_annual_tax is None else float(lead.expected_annual_tax),
        desired_move_in=lead.desired_move_in,
        preferred_streets=list(preferred),
        employees=lead.employees,
        is_headquarters=lead.is_headquarters,
        registers_in_district=lead.registers_in_district,
        settles_in_district=lead.settles_in_district,
        pays_tax_in_district=lead.pays_tax_in_district,
    )


_LEAD_COLUMNS = (
    "pk",
    "ref",
    "company_name",
    "industry_id",
    "area_min_m2",
    "area_max_m2",
    "budget_rent",
    "expected_annual_tax",
    "desired_move_in",
    "employees",
    "is_headquarters",
    "registers_in_district",
    "settles_in_district",
    "pays_tax_in_district",
)


@dataclass(frozen=True)
class OpenLeads:
    table: LeadTable
    labels: dict[int, tuple[str, str]]  # lead id -> (ref, company name)


def load_open_leads(industries: Industries) -> OpenLeads:
    """Every open lead that can be ranked; the others are counted by the field they lack (2 queries)."""
    through = Lead.preferred_streets.through
    preferred: dict[int, list[int]] = {}
    for lead_id, street_id in through.objects.filter(lead__stage__in=OPEN_STAGES).values_list(
        "lead_id", "street_id"
    ):
        preferred.setdefault(lead_id, []).append(street_id)
    queries, labels = [], {}
    invalid: dict[str, int] = {}
    rows = Lead.objects.filter(stage__in=OPEN_STAGES).order_by("pk").values_list(*_LEAD_COLUMNS)
    for (
        pk,
        ref,
        name,
        code,
        low,
        high,
        budget,
        tax,
        move_in,
        employees,
        hq,
        registers,
        settles,
        pays_tax,
    ) in rows.iterator(chunk_size=5000):
        try:
            query = lead_query(
                id=pk,
                industries=industries,
                division_code=code,
                area_min=None if low is None else float(low),
                area_max=None if high is None else float(high),
                budget=None if budget is None else float(budget),
                expected_tax=None if tax is None else float(tax),
                desired_move_in=move_in,
                preferred_streets=preferred.get(pk, ()),
                employees=employees,
                is_headquarters=hq,
                registers_in_district=registers,
                settles_in_district=settles,
                pays_tax_in_district=pays_tax,
            )
        except MatchingInputError as error:
            invalid[error.field] = invalid.get(error.field, 0) + 1
            continue
        queries.append(query)
        labels[pk] = (ref, name)
    return OpenLeads(LeadTable.of(queries, invalid), labels)


# ---------------------------------------------------------------------------- the cache


@dataclass
class _State:
    stamp: dict[str, tuple] = field(default_factory=dict)
    industries: Industries | None = None
    buildings: BuildingRows | None = None
    reference: np.ndarray | None = None
    units: UnitRows | None = None
    tenancies: TenancyTable | None = None
    tax: TaxFigures | None = None
    entry: list[EntryRule] = field(default_factory=list)
    book: PolicyBook | None = None
    model: tuple[int, np.ndarray, dict, float] | None = None
    leads: OpenLeads | None = None
    exposure: np.ndarray | None = None
    exposure_key: tuple | None = None
    snapshot: Snapshot | None = None
    snapshot_key: tuple | None = None
    incentives: PolicyIncentives | None = None
    incentives_key: tuple | None = None
    loads: dict[str, float] = field(default_factory=dict)  # seconds each part took to load last


_state = _State()
_lock = threading.RLock()


def cache_clear() -> None:
    """Forget every cached array; the next ranking reloads everything."""
    global _state
    with _lock:
        _state = _State()


def _timed(name: str, load: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    value = load()
    _state.loads[name] = time.perf_counter() - started
    return value


def _refresh(on: dt.date, *, leads: bool = False) -> _State:
    """Bring the cache up to date for a ranking on `on`: one stamp query, and reloads of what moved."""
    stamp = version_stamp()
    s = _state
    moved = {part for part in PARTS if s.stamp.get(part) != stamp[part]}
    if s.industries is None or "buildings" in moved:
        s.industries = _timed("industries", load_industries)
        s.buildings = _timed("buildings", load_buildings)
        s.entry = _timed("entry", lambda: load_entry_rules(s.buildings))
        s.reference = np.array([_reference_rent(r[16], r[17]) for r in s.buildings.rows], dtype=float)
        moved |= {"units", "tenants", "tax", "leads"}
    assert s.buildings is not None and s.industries is not None
    if s.units is None or "units" in moved:
        s.units = _timed("units", lambda: load_units(s.buildings, s.reference))
    if s.tenancies is None or "tenants" in moved:
        s.tenancies = _timed("tenancies", lambda: load_tenancies(s.buildings, s.industries))
    year = tax_year_for(on) if s.tax is None or "tax" in moved or "tenants" in moved else s.tax.year
    if s.tax is None or "tax" in moved or year != s.tax.year:
        s.tax = _timed("tax", lambda: load_tax(s.buildings, year))
    if s.book is None or "policies" in moved:
        s.book = _timed("policies", load_policy_book)
    if s.model is None or "model" in moved:
        s.model = load_model()
    key = (stamp["buildings"], stamp["units"], stamp["tenants"], stamp["tax"], on)
    if s.snapshot is None or s.snapshot_key != key:
        table = building_table(s.buildings, s.industries, on)
        s.snapshot = _timed(
            "snapshot",
            lambda: snapshot(
                on=on,
                industries=s.industries,
                buildings=table,
                units=s.units.table,
                tenancies=s.tenancies,
                tax_per_m2=s.tax.tax_per_m2,
                shortfall=s.tax.shortfall,
                next_tier=s.tax.next_tier,
                entry=s.entry,
            ),
        )
        s.snapshot_key = key
    incentives_key = (key, stamp["policies"])
    if s.incentives is None or s.incentives_key != incentives_key:
        s.incentives = PolicyIncentives(s.book, s.snapshot.buildings)
        s.incentives_key = incentives_key
    if leads and (s.leads is None or "leads" in moved):
        s.leads = _timed("leads", lambda: load_open_leads(s.industries))
    s.stamp = stamp
    return s


def tolerance_setting() -> float:
    return float(getattr(settings, "MATCHING_RENT_TOLERANCE", DEFAULT_TOLERANCE))


def cache_info() -> dict:
    """What the cache holds and its size in bytes (arrays only)."""
    with _lock:
        s = _state
        info: dict[str, Any] = {"loads_seconds": dict(s.loads)}
        if s.snapshot is not None:
            info["snapshot_bytes"] = s.snapshot.nbytes
            info["buildings"] = len(s.snapshot.buildings)
            info["units"] = len(s.snapshot.units)
            info["offers"] = len(s.snapshot.offers)
        if s.tenancies is not None:
            info["tenancy_bytes"] = sum(
                getattr(s.tenancies, f).nbytes for f in s.tenancies.__dataclass_fields__
            )
        if s.leads is not None:
            table = s.leads.table
            info["open_leads"] = len(table)
            info["lead_bytes"] = sum(
                getattr(table, f).nbytes for f in table.__dataclass_fields__ if f != "invalid"
            )
        info["total_bytes"] = sum(v for k, v in info.items() if k.endswith("_bytes"))
        return info


# ---------------------------------------------------------------------------- rankings


@dataclass(frozen=True)
class BuildingMatches:
    """Buildings for one lead, best first, explained; which model ranked them; what was excluded."""

    lead_id: int
    on: str
    model_version: int
    weights: dict[str, float]
    results: list[RankedBuilding]
    candidates: int
    excluded_counts: dict[str, int]
    excluded: list[Exclusion] | None = None
    data_version: int = 0  # the matching inputs' committed version the arrays were current with

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LeadMatches:
    """Open leads for one building (or one of its units), best first, explained."""

    building_id: int
    unit_id: int | None
    on: str
    model_version: int
    weights: dict[str, float]
    results: list[RankedLead]
    labels: dict[int, tuple[str, str]]
    candidates: int
    excluded_counts: dict[str, int]
    leads_without_data: dict[str, int]
    diversity_penalty: float
    data_version: int = 0  # the matching inputs' committed version the arrays were current with

    def to_dict(self) -> dict:
        data = asdict(self)
        data["labels"] = {str(k): list(v) for k, v in self.labels.items()}
        return data


def _today(on: dt.date | None) -> dt.date:
    return on or timezone.localdate()


def match_buildings(
    lead: Lead,
    *,
    limit: int = 20,
    include_excluded: bool = False,
    tolerance: float | None = None,
    on: dt.date | None = None,
    details: bool = True,
) -> BuildingMatches:
    """The buildings to show `lead` first, and why; raises MatchingInputError for a lead it cannot rank."""
    day = _today(on)
    with _lock:
        s = _refresh(day)
        query = query_for_lead(lead, s.industries)
        snap, incentives = s.snapshot, s.incentives
        version, weights, named, cutoff = s.model
        data_version = s.stamp[DATA_VERSION][0]
    tol = tolerance_setting() if tolerance is None else tolerance
    scores = rank_buildings(
        snap, query, weights=weights, incentives=incentives, tolerance=tol, budget_cutoff=cutoff
    )
    return BuildingMatches(
        lead_id=query.id,
        on=day.isoformat(),
        model_version=version,
        weights=dict(named),
        results=explain_buildings(snap, scores, incentives=incentives, limit=limit, details=details),
        candidates=int(scores.order.size),
        excluded_counts=scores.excluded_counts(),
        excluded=exclusions(snap, scores) if include_excluded else None,
        data_version=data_version,
    )


def match_leads(
    building: Building,
    *,
    unit: Unit | None = None,
    limit: int = 20,
    tolerance: float | None = None,
    on: dt.date | None = None,
    diversity: bool = True,
) -> LeadMatches:
    """The open leads that fit `building` (or one `unit` of it), best first, with the diversity penalty."""
    if unit is not None and unit.building_id != building.pk:
        raise MatchingInputError(
            "unit",
            f"房源 {unit.number} 不在楼宇 {building.name}",
            f"unit {unit.number} is not in {building.name}",
        )
    day = _today(on)
    tol = tolerance_setting() if tolerance is None else tolerance
    with _lock:
        s = _refresh(day, leads=True)
        snap, incentives, leads = s.snapshot, s.incentives, s.leads
        version, weights, named, cutoff = s.model
        data_version = s.stamp[DATA_VERSION][0]
        row = s.buildings.row_of[building.pk]
        unit_row = None if unit is None else s.units.row_of[unit.pk]
        exposure = None
        if diversity and len(leads.table):
            key = (s.stamp["leads"], version)
            if s.exposure is None or s.exposure_key != key:
                # Soft and costly: measured once per change of the leads, not per unit change.
                s.exposure = _timed(
                    "exposure",
                    lambda: lead_exposure(
                        snap,
                        leads.table,
                        weights=weights,
                        incentives=incentives,
                        tolerance=tol,
                        budget_cutoff=cutoff,
                    ),
                )
                s.exposure_key = key
            exposure = s.exposure
    scores = rank_leads(
        snap,
        row,
        leads.table,
        weights=weights,
        incentives=incentives,
        tolerance=tol,
        budget_cutoff=cutoff,
        unit=unit_row,
        exposure=exposure,
    )
    results = explain_leads(snap, scores, leads.table, limit=limit)
    return LeadMatches(
        building_id=building.pk,
        unit_id=None if unit is None else unit.pk,
        on=day.isoformat(),
        model_version=version,
        weights=dict(named),
        results=results,
        labels={r.lead_id: leads.labels[r.lead_id] for r in results},
        candidates=int(scores.order.size),
        excluded_counts=scores.excluded_counts(),
        leads_without_data=dict(leads.table.invalid),
        diversity_penalty=DIVERSITY_PENALTY if exposure is not None else 0.0,
        data_version=data_version,
    )


def match_all_open_leads(*, top: int = 10, on: dt.date | None = None) -> dict[int, list[tuple[int, float]]]:
    """Every open lead's best `top` buildings: lead id -> [(building id, score), ...]."""
    day = _today(on)
    with _lock:
        s = _refresh(day, leads=True)
        snap, incentives, leads = s.snapshot, s.incentives, s.leads
        _, weights, _, cutoff = s.model
    return _ranked(snap, leads.table, weights, incentives, cutoff, top)


def match_changed_open_leads(
    known: Mapping[int, str], *, top: int = 1, on: dt.date | None = None
) -> tuple[dict[int, list[tuple[int, float]]], dict[int, str]]:
    """The best `top` buildings of the open leads whose inputs differ from `known` (lead id ->
    LeadTable.fingerprints digest of an earlier ranking) or are new, and every open lead's digest
    now: a promoter's edit ranks one lead, not the district's 11,600 (the buildings unchanged)."""
    day = _today(on)
    with _lock:
        s = _refresh(day, leads=True)
        snap, incentives, leads = s.snapshot, s.incentives, s.leads
        _, weights, _, cutoff = s.model
    digests = leads.table.fingerprints()
    changed = np.array(
        [
            row
            for row, lead_id in enumerate(leads.table.id.tolist())
            if known.get(lead_id) != digests[lead_id]
        ],
        dtype=np.int64,
    )
    return _ranked(snap, leads.table.take(changed), weights, incentives, cutoff, top), digests


def _ranked(snap, table, weights, incentives, cutoff, top: int) -> dict[int, list[tuple[int, float]]]:
    rows, scores = rank_all(
        snap,
        table,
        weights=weights,
        incentives=incentives,
        tolerance=tolerance_setting(),
        budget_cutoff=cutoff,
        top=top,
    )
    ids = snap.buildings.id
    result = {}
    for i, lead_id in enumerate(table.id.tolist()):
        valid = rows[i] >= 0
        result[lead_id] = list(
            zip(ids[rows[i][valid]].tolist(), scores[i][valid].round(6).tolist(), strict=True)
        )
    return result


def prepared(
    on: dt.date | None = None, *, leads: bool = False
) -> tuple[Snapshot, PolicyIncentives, np.ndarray, Any]:
    """The cached arrays themselves, for benchmarks and batch jobs: (snapshot, incentives, weights, leads)."""
    with _lock:
        s = _refresh(_today(on), leads=leads)
        return s.snapshot, s.incentives, s.model[1], s.leads


def loaded(on: dt.date | None = None, *, leads: bool = False) -> _State:
    """The cache brought up to date, for batch jobs that build their own snapshots (training)."""
    with _lock:
        return _refresh(_today(on), leads=leads)

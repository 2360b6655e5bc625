"""The plan's fourteen indicators (domain.md) for the district, a street or each building, for any year.

Everything is measured as of D = 31 December of the year Y and aggregated in the database: one
statement computes every building's figures (and, for the district or a street, their totals), so
the number of queries does not depend on the size of the data. The statement is SQL rather than the
ORM because the area split of an enterprise's tax needs each enterprise's total settled area beside
each of its tenancies: the ORM can only express that as per-row correlated subqueries, which took
8.4 s at city scale (2,000 buildings, 150,000 enterprises) against 0.7 s for the set-based plan
below. It uses only SQL that PostgreSQL and SQLite (≥ 3.25, window functions) both run.
docs/indicators.md gives each formula and the interpretation details.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import CharField, Value

from crm.constants import (
    BILLION_TIER_YUAN,
    M2_PER_WAN,
    TEN_MILLION_TIER_YUAN,
    YUAN_PER_YI,
    IndicatorKey,
    UnitStatus,
)
from crm.models import (
    Building,
    Enterprise,
    Industry,
    PlanTarget,
    Street,
    StreetTarget,
    TaxRecord,
    Tenancy,
    Unit,
)

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
HIGHER_IS_BETTER = "higher"

UNITS: dict[str, str] = {
    IndicatorKey.GROSS_AREA: "万㎡",
    IndicatorKey.LEASABLE_AREA: "万㎡",
    IndicatorKey.OCCUPANCY_RATE: "%",
    IndicatorKey.REGISTRATION_RATE: "%",
    IndicatorKey.INDUSTRY_CONCENTRATION: "%",
    IndicatorKey.TAX_SOURCE_RATE: "%",
    IndicatorKey.BILLION_BUILDINGS: "幢",
    IndicatorKey.BUILDING_TAX: "亿元",
    IndicatorKey.TAX_PER_M2: "元/㎡",
    IndicatorKey.PARTY_COVERAGE: "%",
    IndicatorKey.INTERMEDIARY_COVERAGE: "%",
    IndicatorKey.SMART_PLATFORM_COVERAGE: "%",
    IndicatorKey.STAR_BUILDINGS: "幢",
    IndicatorKey.FEATURED_BUILDINGS: "幢",
}

# The indicators that are ratios: a street without its own target for one of them is held to the
# district's. The others (areas, tax, counts of buildings) are sums over the scope, so a district's
# target means nothing for one street: without a street target they have no target and no gap.
RATE_KEYS: frozenset[str] = frozenset(
    {
        IndicatorKey.OCCUPANCY_RATE,
        IndicatorKey.REGISTRATION_RATE,
        IndicatorKey.INDUSTRY_CONCENTRATION,
        IndicatorKey.TAX_SOURCE_RATE,
        IndicatorKey.TAX_PER_M2,
        IndicatorKey.PARTY_COVERAGE,
        IndicatorKey.INTERMEDIARY_COVERAGE,
        IndicatorKey.SMART_PLATFORM_COVERAGE,
    }
)

# Machine outputs (JSON, API, snapshots) carry every value exactly. Areas and tax are sums of
# figures stored to the cent (0.01 m², 1 fen), so in 万㎡ and 亿元 they end at the 6th and 10th
# decimal: quantizing to those places only fixes the number of digits shown, it loses nothing.
# Counts are whole. Every other indicator is a ratio and is left as Decimal division gives it
# (28 significant digits): ratios like 2/3 do not terminate, so no number of places is exact.
EXACT_PLACES: dict[str, Decimal] = {
    IndicatorKey.GROSS_AREA: Decimal("0.000001"),
    IndicatorKey.LEASABLE_AREA: Decimal("0.000001"),
    IndicatorKey.BUILDING_TAX: Decimal("1E-10"),
    IndicatorKey.BILLION_BUILDINGS: Decimal(1),
    IndicatorKey.STAR_BUILDINGS: Decimal(1),
    IndicatorKey.FEATURED_BUILDINGS: Decimal(1),
}


def exact(key: str, value: Decimal | None) -> Decimal | None:
    """The value of indicator `key` at the precision its unit implies (EXACT_PLACES), a ratio as is."""
    if value is None or key not in EXACT_PLACES:
        return value
    return value.quantize(EXACT_PLACES[key])


def precision_note(key: str) -> str:
    """How exact indicator `key` is in machine output, in words (docs/indicators.md, the API schema)."""
    places = EXACT_PLACES.get(key)
    if places is None:
        return "unrounded ratio"
    if places == 1:
        return "whole number"
    return f"exact, {-places.as_tuple().exponent} decimals"


# The indicators that describe one building on its own; the others count or cover buildings.
BUILDING_KEYS: tuple[str, ...] = (
    IndicatorKey.GROSS_AREA,
    IndicatorKey.LEASABLE_AREA,
    IndicatorKey.OCCUPANCY_RATE,
    IndicatorKey.REGISTRATION_RATE,
    IndicatorKey.INDUSTRY_CONCENTRATION,
    IndicatorKey.TAX_SOURCE_RATE,
    IndicatorKey.BUILDING_TAX,
    IndicatorKey.TAX_PER_M2,
)


@dataclass(frozen=True)
class IndicatorValue:
    """One indicator's value beside its plan target; value is None where its denominator is 0."""

    key: str
    label: str
    value: Decimal | None
    unit: str
    target: Decimal | None
    gap: Decimal | None
    direction: str = HIGHER_IS_BETTER


@dataclass(frozen=True)
class BuildingFigures:
    """The raw figures of one building in service on D, from which its indicators are ratios."""

    building_id: int
    gross_area_m2: Decimal
    leasable_area_m2: Decimal
    tenancy_area_m2: Decimal
    self_used_area_m2: Decimal
    has_main_industry: bool
    settled_count: int
    registered_count: int
    tax_source_count: int
    in_main_industry_count: int
    tax_yuan: Decimal

    @property
    def occupied_area_m2(self) -> Decimal:
        return self.tenancy_area_m2 + self.self_used_area_m2


def as_of(year: int) -> dt.date:
    """D, the day the indicators of year Y are measured on."""
    return dt.date(year, 12, 31)


# `settled`: one row per (enterprise, building) settlement on D, i.e. tenancies active on D in a
# building in service on D, carrying what the indicators need of the enterprise: its settled area in
# ALL buildings (the window, so that its tax splits by area even when one street is asked for), its
# registration, its industry and its tax of Y (yearly totals and monthly amounts alike).
# It joins base tables only, so that PostgreSQL's estimates stay good; every later step reads it.
# `{in_scope}` narrows the buildings b to those in service on D, in the street or among the ids.
# A section's code is its letter, so "inside the section" is industry_section = main_industry_id;
# a division's code is the two digits every finer code under it starts with.
# `1.0 *` keeps SQLite from dividing whole-number decimals (stored as integers) as integers.
_FIGURES_SQL = """
WITH settled AS (
    SELECT t.enterprise_id, t.building_id, SUM(t.area_m2) AS area_m2,
           SUM(SUM(t.area_m2)) OVER (PARTITION BY t.enterprise_id) AS enterprise_area_m2,
           e.registered_in_district AS registered, i.section AS industry_section,
           i.code AS industry_code, COALESCE(et.tax_yuan, 0) AS tax_yuan
    FROM {tenancy} t
    JOIN {building} b ON b.id = t.building_id
    JOIN {enterprise} e ON e.id = t.enterprise_id
    LEFT JOIN {industry} i ON i.code = e.industry_id
    LEFT JOIN (
        SELECT enterprise_id, SUM(amount_yuan) AS tax_yuan
        FROM {taxrecord}
        WHERE year = %(year)s
        GROUP BY enterprise_id
    ) et ON et.enterprise_id = t.enterprise_id
    WHERE t.start <= %(day)s AND (t."end" IS NULL OR t."end" >= %(day)s)
      AND (b.in_service_since IS NULL OR b.in_service_since <= %(day)s)
    GROUP BY t.enterprise_id, t.building_id, e.registered_in_district, i.section, i.code, et.tax_yuan
),
per_building AS (
    SELECT s.building_id,
           SUM(s.area_m2) AS tenancy_area_m2,
           COUNT(*) AS settled_count,
           SUM(CASE WHEN s.registered THEN 1 ELSE 0 END) AS registered_count,
           SUM(CASE WHEN s.tax_yuan > 0 THEN 1 ELSE 0 END) AS tax_source_count,
           SUM(CASE WHEN s.industry_section = b.main_industry_id
                      OR s.industry_code LIKE b.main_industry_id || '%%'
                    THEN 1 ELSE 0 END) AS in_main_industry_count,
           ROUND(SUM(1.0 * s.tax_yuan * s.area_m2 / s.enterprise_area_m2), 2) AS tax_yuan
    FROM settled s
    JOIN {building} b ON b.id = s.building_id
    WHERE {in_scope}
    GROUP BY s.building_id
),
self_used AS (
    SELECT u.building_id, SUM(u.area_m2) AS area_m2
    FROM {unit} u
    JOIN {building} b ON b.id = u.building_id
    WHERE u.status = %(self_used)s AND {in_scope}
    GROUP BY u.building_id
),
figures AS (
    SELECT b.id AS building_id, {key} AS scope_key, b.gross_area_m2, b.leasable_area_m2, b.main_industry_id,
           b.party_org_since, b.intermediary_since, b.smart_platform_since,
           b.star_rating, b.star_since, b.featured_type, b.featured_since,
           COALESCE(pb.tenancy_area_m2, 0) AS tenancy_area_m2,
           COALESCE(su.area_m2, 0) AS self_used_area_m2,
           COALESCE(pb.tenancy_area_m2, 0) + COALESCE(su.area_m2, 0) AS occupied_area_m2,
           COALESCE(pb.settled_count, 0) AS settled_count,
           COALESCE(pb.registered_count, 0) AS registered_count,
           COALESCE(pb.tax_source_count, 0) AS tax_source_count,
           COALESCE(pb.in_main_industry_count, 0) AS in_main_industry_count,
           COALESCE(pb.tax_yuan, 0) AS tax_yuan
    FROM {building} b
    LEFT JOIN per_building pb ON pb.building_id = b.id
    LEFT JOIN self_used su ON su.building_id = b.id
    WHERE {in_scope}
)"""

_BUILDINGS_SQL = """
SELECT building_id, gross_area_m2, leasable_area_m2, tenancy_area_m2, self_used_area_m2,
       main_industry_id, settled_count, registered_count, tax_source_count, in_main_industry_count,
       tax_yuan
FROM figures
ORDER BY building_id"""

# Counts of enterprises are of DISTINCT enterprises settled anywhere in the scope; industry
# concentration is per settlement, so it sums the buildings' counts. One row per `{key}`: a constant
# for the district (or the one street asked for), the street for every street at once.
_TOTALS_SQL = """,
scope_enterprises AS (
    SELECT DISTINCT {key} AS scope_key, s.enterprise_id, s.registered, s.tax_yuan
    FROM settled s
    JOIN {building} b ON b.id = s.building_id
    WHERE {in_scope}
),
enterprise_counts AS (
    SELECT scope_key, COUNT(*) AS settled,
           SUM(CASE WHEN registered THEN 1 ELSE 0 END) AS registered,
           SUM(CASE WHEN tax_yuan > 0 THEN 1 ELSE 0 END) AS tax_sources
    FROM scope_enterprises
    GROUP BY scope_key
)
SELECT f.scope_key,
       COUNT(*) AS buildings,
       SUM(gross_area_m2) AS gross,
       SUM(leasable_area_m2) AS leasable,
       SUM(occupied_area_m2) AS occupied,
       SUM(CASE WHEN main_industry_id IS NOT NULL THEN settled_count ELSE 0 END)
           AS settled_where_main_industry,
       SUM(in_main_industry_count) AS in_main_industry,
       SUM(tax_yuan) AS tax,
       SUM(CASE WHEN tax_yuan >= %(billion)s THEN 1 ELSE 0 END) AS billion,
       SUM(CASE WHEN tax_yuan >= %(ten_million)s THEN tax_yuan ELSE 0 END) AS key_tax,
       SUM(CASE WHEN tax_yuan >= %(ten_million)s THEN occupied_area_m2 ELSE 0 END) AS key_occupied,
       SUM(CASE WHEN party_org_since <= %(day)s THEN 1 ELSE 0 END) AS party,
       SUM(CASE WHEN intermediary_since <= %(day)s THEN 1 ELSE 0 END) AS intermediary,
       SUM(CASE WHEN smart_platform_since <= %(day)s THEN 1 ELSE 0 END) AS smart_platform,
       SUM(CASE WHEN star_rating >= 1 AND (star_since IS NULL OR star_since <= %(day)s)
                THEN 1 ELSE 0 END) AS star,
       SUM(CASE WHEN featured_type <> '' AND (featured_since IS NULL OR featured_since <= %(day)s)
                THEN 1 ELSE 0 END) AS featured,
       MAX(ec.settled) AS settled,
       MAX(ec.registered) AS registered,
       MAX(ec.tax_sources) AS tax_sources
FROM figures f
LEFT JOIN enterprise_counts ec ON ec.scope_key = f.scope_key
GROUP BY f.scope_key"""


def _street_id(street: Street | int | None) -> int | None:
    return street.pk if isinstance(street, Street) else street


def _run(
    tail: str,
    *,
    year: int,
    street: Street | int | None,
    building_ids: Iterable[int] | None,
    key: str = "0",
) -> tuple[list[str], list[tuple]]:
    """Run the figures statement followed by `tail`; returns the column names and the rows."""
    day = as_of(year)
    params: dict[str, object] = {
        "day": connection.ops.adapt_datefield_value(day),
        "year": year,
        "self_used": UnitStatus.SELF_USED.value,
        "billion": BILLION_TIER_YUAN,
        "ten_million": TEN_MILLION_TIER_YUAN,
    }
    in_scope = "(b.in_service_since IS NULL OR b.in_service_since <= %(day)s)"
    street_id = _street_id(street)
    if street_id is not None:
        in_scope += " AND b.street_id = %(street)s"
        params["street"] = street_id
    if building_ids is not None:
        names = [f"building_{n}" for n, _ in enumerate(building_ids)]
        params.update(zip(names, building_ids, strict=True))
        # An empty list must select nothing, not everything.
        placeholders = ", ".join(f"%({name})s" for name in names) or "NULL"
        in_scope += f" AND b.id IN ({placeholders})"
    tables = {
        "building": Building._meta.db_table,
        "enterprise": Enterprise._meta.db_table,
        "industry": Industry._meta.db_table,
        "taxrecord": TaxRecord._meta.db_table,
        "tenancy": Tenancy._meta.db_table,
        "unit": Unit._meta.db_table,
    }
    sql = (_FIGURES_SQL + tail).format(in_scope=in_scope, key=key, **tables)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [column[0] for column in cursor.description], cursor.fetchall()


def _decimal(value, exponent: Decimal = CENT) -> Decimal:
    """A database number as a Decimal to the cent (SQLite hands back floats and integers)."""
    if value is None:
        value = 0
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(exponent)


def _ratio(part, whole, scale: Decimal = Decimal(1)) -> Decimal | None:
    """part / whole × scale, or None where the denominator is 0 (shown as "—")."""
    if not whole:
        return None
    return Decimal(part or 0) * scale / Decimal(whole)


def building_figures(
    *, year: int, street: Street | int | None = None, building_ids: Iterable[int] | None = None
) -> list[BuildingFigures]:
    """The raw figures of every building in service on D (or of one street, or of the ids given). One
    query; each building's tax is split by area across every building its enterprises settle in."""
    ids = list(building_ids) if building_ids is not None else None
    _, rows = _run(_BUILDINGS_SQL, year=year, street=street, building_ids=ids)
    return [
        BuildingFigures(
            building_id=building_id,
            gross_area_m2=_decimal(gross),
            leasable_area_m2=_decimal(leasable),
            tenancy_area_m2=_decimal(tenancy_area),
            self_used_area_m2=_decimal(self_used_area),
            has_main_industry=main_industry_id is not None,
            settled_count=int(settled),
            registered_count=int(registered),
            tax_source_count=int(tax_sources),
            in_main_industry_count=int(in_main_industry),
            tax_yuan=_decimal(tax),
        )
        for (
            building_id,
            gross,
            leasable,
            tenancy_area,
            self_used_area,
            main_industry_id,
            settled,
            registered,
            tax_sources,
            in_main_industry,
            tax,
        ) in rows
    ]


def _totals(*, year: int, street: Street | int | None, key: str) -> dict[int, dict[str, Decimal]]:
    """_TOTALS_SQL's sums by scope key; a key with no building in service gets every sum 0."""
    columns, rows = _run(_TOTALS_SQL, year=year, street=street, building_ids=None, key=key)
    names = columns[1:]
    totals = {int(row[0]): dict(zip(names, map(_decimal, row[1:]), strict=True)) for row in rows}
    return defaultdict(lambda: dict.fromkeys(names, _decimal(0)), totals)


def district_totals(*, year: int, street: Street | int | None = None) -> dict[str, Decimal]:
    """The raw sums the district's (or a street's) indicators are ratios of, for year Y (one query)."""
    return _totals(year=year, street=street, key="0")[0]


def street_totals(*, year: int) -> dict[int, dict[str, Decimal]]:
    """district_totals of every street, by street id, in one query (not one a street: a city has
    hundreds, and each query reads every tenancy); a street with no building in service has 0s."""
    return _totals(year=year, street=None, key="b.street_id")


def indicators_from_totals(totals: Mapping[str, Decimal]) -> dict[str, Decimal | None]:
    """The fourteen indicators from district_totals' sums (or sums a forecast has added to)."""
    buildings = totals["buildings"]
    return {
        IndicatorKey.GROSS_AREA: totals["gross"] / M2_PER_WAN,
        IndicatorKey.LEASABLE_AREA: totals["leasable"] / M2_PER_WAN,
        IndicatorKey.OCCUPANCY_RATE: _ratio(totals["occupied"], totals["leasable"], HUNDRED),
        IndicatorKey.REGISTRATION_RATE: _ratio(totals["registered"], totals["settled"], HUNDRED),
        IndicatorKey.INDUSTRY_CONCENTRATION: _ratio(
            totals["in_main_industry"], totals["settled_where_main_industry"], HUNDRED
        ),
        IndicatorKey.TAX_SOURCE_RATE: _ratio(totals["tax_sources"], totals["settled"], HUNDRED),
        IndicatorKey.BILLION_BUILDINGS: totals["billion"],
        IndicatorKey.BUILDING_TAX: totals["tax"] / YUAN_PER_YI,
        IndicatorKey.TAX_PER_M2: _ratio(totals["key_tax"], totals["key_occupied"]),
        IndicatorKey.PARTY_COVERAGE: _ratio(totals["party"], buildings, HUNDRED),
        IndicatorKey.INTERMEDIARY_COVERAGE: _ratio(totals["intermediary"], buildings, HUNDRED),
        IndicatorKey.SMART_PLATFORM_COVERAGE: _ratio(totals["smart_platform"], buildings, HUNDRED),
        IndicatorKey.STAR_BUILDINGS: totals["star"],
        IndicatorKey.FEATURED_BUILDINGS: totals["featured"],
    }


def district_values(*, year: int, street: Street | int | None = None) -> dict[str, Decimal | None]:
    """The fourteen indicators of the district, or of one street, for year Y (one query)."""
    return indicators_from_totals(district_totals(year=year, street=street))


def street_values(*, year: int, street_ids: Iterable[int]) -> dict[int, dict[str, Decimal | None]]:
    """district_values of each street in `street_ids` for year Y, all in one query."""
    totals = street_totals(year=year)
    return {pk: indicators_from_totals(totals[pk]) for pk in street_ids}


def plan_targets(*, year: int) -> dict[str, Decimal]:
    """The plan's target of each indicator for Y; a year without targets gives an empty dict."""
    return dict(PlanTarget.objects.filter(year=year).values_list("key", "value"))


def scope_targets(*, year: int, street: Street | int | None = None) -> dict[str, Decimal]:
    """The target each indicator of the district (or of one street) is held to in Y (one query).

    The district: the plan's targets. A street: its own StreetTarget rows; a ratio without one is
    held to the district's ratio (RATE_KEYS); an area, tax or count without one has no target.
    """
    street_id = _street_id(street)
    if street_id is None:
        return plan_targets(year=year)
    source = CharField()
    plan = (
        PlanTarget.objects.filter(year=year, key__in=RATE_KEYS)
        .annotate(source=Value("plan", output_field=source))
        .values_list("source", "key", "value")
        .order_by()
    )
    own = (
        StreetTarget.objects.filter(year=year, street_id=street_id)
        .annotate(source=Value("street", output_field=source))
        .values_list("source", "key", "value")
        .order_by()
    )
    rows = list(plan.union(own, all=True))
    targets = {key: value for source, key, value in rows if source == "plan"}
    targets.update({key: value for source, key, value in rows if source == "street"})
    return targets


def district_indicators(*, year: int, street: Street | int | None = None) -> list[IndicatorValue]:
    """The fourteen indicators beside the targets of their scope for Y (scope_targets), in the plan's
    order (two queries)."""
    return indicators_beside_targets(
        district_values(year=year, street=street), scope_targets(year=year, street=street)
    )


def indicators_beside_targets(
    values: Mapping[str, Decimal | None], targets: Mapping[str, Decimal]
) -> list[IndicatorValue]:
    """The fourteen indicators of `values` (district_values' dict, computed now or read from the
    stored figures) beside `targets`, exact to their unit's precision, in the plan's order."""
    result = []
    for key in IndicatorKey:
        value, target = exact(key, values[key]), targets.get(key.value)
        result.append(
            IndicatorValue(
                key=key.value,
                label=str(key.label),
                value=value,
                unit=UNITS[key],
                target=target,
                gap=value - target if value is not None and target is not None else None,
            )
        )
    return result


def building_indicators(
    *, year: int, building_ids: Iterable[int] | None = None, street: Street | int | None = None
) -> dict[int, dict[str, Decimal | None]]:
    """For each building in service on D, the indicators that describe one building (BUILDING_KEYS).

    One building's tax_per_m2 is its own tax / its occupied area, key building or not; the
    district's figure takes key buildings only. One query.
    """
    return {
        figures.building_id: indicators_of_building(figures)
        for figures in building_figures(year=year, street=street, building_ids=building_ids)
    }


def indicators_of_building(figures: BuildingFigures) -> dict[str, Decimal | None]:
    """The indicators that describe one building (BUILDING_KEYS), from its figures."""
    settled = figures.settled_count
    return {
        IndicatorKey.GROSS_AREA: figures.gross_area_m2 / M2_PER_WAN,
        IndicatorKey.LEASABLE_AREA: figures.leasable_area_m2 / M2_PER_WAN,
        IndicatorKey.OCCUPANCY_RATE: _ratio(figures.occupied_area_m2, figures.leasable_area_m2, HUNDRED),
        IndicatorKey.REGISTRATION_RATE: _ratio(figures.registered_count, settled, HUNDRED),
        IndicatorKey.INDUSTRY_CONCENTRATION: (
            _ratio(figures.in_main_industry_count, settled, HUNDRED) if figures.has_main_industry else None
        ),
        IndicatorKey.TAX_SOURCE_RATE: _ratio(figures.tax_source_count, settled, HUNDRED),
        IndicatorKey.BUILDING_TAX: figures.tax_yuan / YUAN_PER_YI,
        IndicatorKey.TAX_PER_M2: _ratio(figures.tax_yuan, figures.occupied_area_m2),
    }

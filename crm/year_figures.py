"""One year's indicator figures of the whole district, as one stored result: the district's and every
street's raw totals and every building's figures, from which every page derives its indicators.

Computing them reads every tenancy of the district (three statements of crm.indicators, about 2 s
at city scale); a worker does it (crm.services.stored_results) and pages only read the result.
Everything here but `year_figures_compute` is pure: JSON in, Decimals out.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from functools import cached_property

from crm.indicators import (
    BuildingFigures,
    building_figures,
    district_totals,
    indicators_from_totals,
    street_totals,
)
from crm.models import Building

# The sums of crm.indicators._TOTALS_SQL (a street with no building in service has all of them 0).
TOTAL_NAMES = (
    "buildings",
    "gross",
    "leasable",
    "occupied",
    "settled_where_main_industry",
    "in_main_industry",
    "tax",
    "billion",
    "key_tax",
    "key_occupied",
    "party",
    "intermediary",
    "smart_platform",
    "star",
    "featured",
    "settled",
    "registered",
    "tax_sources",
)
_FIGURE_FIELDS = tuple(f.name for f in fields(BuildingFigures))


@dataclass(frozen=True)
class PlacedFigures:
    """One building's figures with what the pages group it by."""

    figures: BuildingFigures
    street_id: int
    main_industry_id: str | None


def _totals_json(totals: Mapping[str, Decimal]) -> dict[str, str]:
    return {name: str(value) for name, value in totals.items()}


def totals_from_json(values: Mapping[str, str] | None) -> dict[str, Decimal]:
    """Stored totals back as district_totals' dict (None: a scope with nothing in service: all 0)."""
    if values is None:
        return dict.fromkeys(TOTAL_NAMES, Decimal(0))
    return {name: Decimal(value) for name, value in values.items()}


def building_from_json(building_id: int, values: list) -> PlacedFigures:
    """A stored building row (BuildingFigures' fields after the id, then street and main industry)."""
    *figure_values, street_id, main = values
    kwargs = dict(zip(_FIGURE_FIELDS[1:], figure_values, strict=True))
    for name in ("gross_area_m2", "leasable_area_m2", "tenancy_area_m2", "self_used_area_m2", "tax_yuan"):
        kwargs[name] = Decimal(kwargs[name])
    return PlacedFigures(BuildingFigures(building_id=building_id, **kwargs), street_id, main)


def year_figures_compute(*, year: int) -> dict:
    """The stored payload of `year`: {"district": totals, "streets": {id: totals}, "buildings":
    {id: [figures…, street id, main industry]}}. Four queries, each independent of the district's size
    in number, not in work."""
    district = district_totals(year=year)
    streets = street_totals(year=year)
    placed = dict(
        (pk, (street_id, main))
        for pk, street_id, main in Building.objects.values_list("pk", "street_id", "main_industry_id")
    )
    buildings = {}
    for f in building_figures(year=year):
        street_id, main = placed[f.building_id]
        values = [getattr(f, name) for name in _FIGURE_FIELDS[1:]]
        buildings[str(f.building_id)] = [str(v) if isinstance(v, Decimal) else v for v in values] + [
            street_id,
            main,
        ]
    return {
        "year": year,
        "district": _totals_json(district),
        "streets": {str(pk): _totals_json(totals) for pk, totals in streets.items()},
        "buildings": buildings,
    }


def values_of_totals(values: Mapping[str, str] | None) -> dict[str, Decimal | None]:
    """The fourteen indicators from a stored totals list (district_values' result)."""
    return indicators_from_totals(totals_from_json(values))


@dataclass(frozen=True)
class YearFigures:
    """A stored payload of year_figures_compute, read back. Building rows are parsed when asked
    for, and only those of the scope asked: a street officer's page reads its street's few dozen of
    a city's 2,000 (parsing them all took longer than the rest of the forecast)."""

    district: dict[str, Decimal]
    streets: Mapping[str, Mapping[str, str]]
    rows: Mapping[str, list]  # building id -> the stored row (building_from_json)

    @cached_property
    def buildings(self) -> dict[int, PlacedFigures]:
        return {int(pk): building_from_json(int(pk), row) for pk, row in self.rows.items()}

    def totals(self, street_id: int | None) -> dict[str, Decimal]:
        """district_totals of the district, or of one street."""
        if street_id is None:
            return self.district
        return totals_from_json(self.streets.get(str(street_id)))

    def in_scope(self, street_id: int | None) -> dict[int, PlacedFigures]:
        """The buildings in service on D, of one street if asked."""
        if street_id is None:
            return self.buildings
        # A row ends with the building's street id, then its main industry.
        return {
            int(pk): building_from_json(int(pk), row) for pk, row in self.rows.items() if row[-2] == street_id
        }


def year_figures_from_json(payload: Mapping) -> YearFigures:
    return YearFigures(
        district=totals_from_json(payload["district"]),
        streets=payload["streets"],
        rows=payload["buildings"],
    )

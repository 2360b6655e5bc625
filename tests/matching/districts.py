"""Small hand-built districts for the pure ranking core: real arrays, written one building at a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from crm.data.industries import DIVISIONS
from matching.core.snapshot import Snapshot, snapshot
from matching.core.types import (
    ALWAYS,
    MAIN_DIVISION,
    MAIN_NONE,
    MAIN_SECTION,
    NEVER,
    UNIT_STATUS_CODES,
    BuildingTable,
    EntryRule,
    Industries,
    LeadQuery,
    LinkTable,
    TenancyTable,
    UnitTable,
    lead_query,
    make_industries,
)

INDUSTRIES: Industries = make_industries([(code, section, name) for code, section, name, _ in DIVISIONS])
TODAY = dt.date(2024, 3, 1)


@dataclass
class _Building:
    id: int
    name: str
    street_id: int
    street: str
    main: str | None
    star: int
    services: int
    featured: str
    in_service: dt.date | None
    reference_rent: float | None
    circle_id: int = -1
    circle: str = ""


@dataclass
class HandDistrict:
    """Buildings, units and tenants added by hand; `snapshot()` turns them into the core's arrays."""

    on: dt.date = TODAY
    buildings: list[_Building] = field(default_factory=list)
    units: list[dict] = field(default_factory=list)
    tenants: list[dict] = field(default_factory=list)
    rules: list[tuple[int, object, str]] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)

    def building(
        self,
        name: str = "",
        *,
        street: int = 1,
        main: str | None = None,
        star: int = 0,
        services: int = 0,
        featured: str = "",
        in_service: dt.date | None = None,
        reference_rent: float | None = None,
        circle: int = -1,
    ) -> int:
        """Add a building; returns its row (its id is row + 1)."""
        row = len(self.buildings)
        self.buildings.append(
            _Building(
                id=row + 1,
                name=name or f"大厦{row + 1}",
                street_id=street,
                street=f"街道{street}",
                main=main,
                star=star,
                services=services,
                featured=featured,
                in_service=in_service,
                reference_rent=reference_rent,
                circle_id=circle,
                circle=f"商圈{circle}" if circle >= 0 else "",
            )
        )
        return row

    def unit(
        self,
        building: int,
        *,
        area: float,
        rent: float | None = 2.0,
        floor: int = 5,
        number: str | None = None,
        status: str = "vacant",
        available: dt.date | None = None,
        hold_lead: int = -1,
        hold_expires: dt.date | None = None,
    ) -> int:
        """Add a unit; returns its id (the snapshot sorts rows, so tests look units up by id)."""
        unit_id = len(self.units) + 1
        self.units.append(
            {
                "id": unit_id,
                "building": building,
                "floor": floor,
                "number": number or f"{floor}{len(self.units) + 1:02d}",
                "area": area,
                "rent": np.nan if rent is None else rent,
                "available": ALWAYS if available is None else available.toordinal(),
                "status": UNIT_STATUS_CODES[status],
                "hold_lead": hold_lead,
                "hold_expires": (hold_expires or self.on).toordinal(),
            }
        )
        return unit_id

    def tenant(
        self, building: int, division: str, *, area: float = 100.0, start=dt.date(2020, 1, 1), end=None
    ):
        self.tenants.append(
            {
                "building": building,
                "division": INDUSTRIES.division(division),
                "area": area,
                "start": start.toordinal(),
                "end": NEVER if end is None else end.toordinal(),
            }
        )

    def link(self, unit_id: int, start: dt.date, end: dt.date | None = None) -> None:
        self.links.append({"unit_id": unit_id, "start": start, "end": end})

    def entry(self, building: int, condition, text: str) -> None:
        self.rules.append((building, condition, text))

    # ------------------------------------------------------------------ arrays

    def building_table(self) -> BuildingTable:
        def main(b: _Building) -> tuple[int, int, str]:
            if b.main is None:
                return MAIN_NONE, -1, ""
            if len(b.main) == 1:
                return MAIN_SECTION, INDUSTRIES.section(b.main), b.main
            return MAIN_DIVISION, INDUSTRIES.division(b.main), b.main

        mains = [main(b) for b in self.buildings]
        return BuildingTable(
            id=np.array([b.id for b in self.buildings], dtype=np.int64),
            name=np.array([b.name for b in self.buildings], dtype=object),
            street_id=np.array([b.street_id for b in self.buildings], dtype=np.int64),
            street=np.array([b.street for b in self.buildings], dtype=str),
            circle_id=np.array([b.circle_id for b in self.buildings], dtype=np.int64),
            circle=np.array([b.circle for b in self.buildings], dtype=str),
            main_kind=np.array([m[0] for m in mains], dtype=np.int8),
            main_index=np.array([m[1] for m in mains], dtype=np.int64),
            main_code=np.array([m[2] for m in mains], dtype=str),
            star=np.array([b.star for b in self.buildings], dtype=float),
            services=np.array([b.services for b in self.buildings], dtype=float),
            featured=np.array([b.featured for b in self.buildings], dtype=str),
            in_service_since=np.array(
                [ALWAYS if b.in_service is None else b.in_service.toordinal() for b in self.buildings],
                dtype=np.int64,
            ),
            reference_rent=np.array(
                [np.nan if b.reference_rent is None else b.reference_rent for b in self.buildings],
                dtype=float,
            ),
        )

    def unit_table(self) -> UnitTable:
        rows = sorted(self.units, key=lambda u: (u["building"], u["floor"], u["number"]))

        def col(name, dtype):
            return np.array([u[name] for u in rows], dtype=dtype)

        return UnitTable(
            id=col("id", np.int64),
            building=col("building", np.int64),
            floor=col("floor", np.int64),
            number=col("number", object),
            area=col("area", float),
            rent=col("rent", float),
            available_from=col("available", np.int64),
            status=col("status", np.int8),
            hold_lead=col("hold_lead", np.int64),
            hold_expires=col("hold_expires", np.int64),
        )

    def tenancy_table(self) -> TenancyTable:
        def col(name, dtype):
            return np.array([t[name] for t in self.tenants], dtype=dtype)

        return TenancyTable(
            building=col("building", np.int64),
            division=col("division", np.int64),
            area=col("area", float),
            start=col("start", np.int64),
            end=col("end", np.int64),
        )

    def snapshot(self, *, on: dt.date | None = None, historical: bool = False, **extra) -> Snapshot:
        units = self.unit_table()
        links = None
        if historical:
            row_of = {int(u): i for i, u in enumerate(units.id)}
            links = LinkTable(
                unit=np.array([row_of[x["unit_id"]] for x in self.links], dtype=np.int64),
                start=np.array([x["start"].toordinal() for x in self.links], dtype=np.int64),
                end=np.array(
                    [NEVER if x["end"] is None else x["end"].toordinal() for x in self.links], np.int64
                ),
            )
        return snapshot(
            on=on or self.on,
            industries=INDUSTRIES,
            buildings=self.building_table(),
            units=units,
            tenancies=self.tenancy_table(),
            entry=[EntryRule(b, c, t) for b, c, t in self.rules],
            links=links,
            **extra,
        )


def lead(
    division: str = "72",
    *,
    area: tuple[float, float] = (150, 300),
    budget: float | None = 3.0,
    lead_id: int = 1,
    expected_tax: float = 0.0,
    desired_move_in: dt.date | None = None,
    preferred_streets: tuple[int, ...] = (),
    employees: float = 0.0,
    is_headquarters: bool = False,
    registers_in_district: bool = True,
    settles_in_district: bool = True,
    pays_tax_in_district: bool = True,
) -> LeadQuery:
    return lead_query(
        id=lead_id,
        industries=INDUSTRIES,
        division_code=division,
        area_min=area[0],
        area_max=area[1],
        budget=budget,
        expected_tax=expected_tax,
        desired_move_in=desired_move_in,
        preferred_streets=preferred_streets,
        employees=employees,
        is_headquarters=is_headquarters,
        registers_in_district=registers_in_district,
        settles_in_district=settles_in_district,
        pays_tax_in_district=pays_tax_in_district,
    )

"""The spaces a building can offer: single vacant units and runs of vacant units on one floor.

A building can offer a lead one vacant unit, or vacant units on one floor taken together. Every
candidate offer is listed once per snapshot: each vacant unit alone, each run of up to MAX_RUN
consecutive vacant units of a floor (in unit-number order; leased units between them are skipped,
as a promoter offers 1203 and 1205 together) and each floor's whole vacancy. For a lead, the
offer is the one whose area is closest to the middle of its range among those that pass the
filters; ties go to fewer units, then the lower rent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.core.types import UnitTable

MAX_RUN = 8
_FLOOR_SPAN = 4096  # floors per building in the run key; basements are negative floors


@dataclass(frozen=True)
class OfferTable:
    """Candidate offers as columns, sorted by building row, then the tie-break order."""

    building: np.ndarray  # int64 building row
    area: np.ndarray  # float64 m²
    rent: np.ndarray  # float64 area-weighted asking rent, NaN when a unit's rent is unknown
    n_units: np.ndarray  # int64
    floor: np.ndarray  # int64
    available_from: np.ndarray  # int64 ordinal: the latest of its units
    start: np.ndarray  # int64: its units are members[start : start + n_units]
    members: np.ndarray  # int64 unit rows the offers are built from, in table order
    building_starts: np.ndarray  # offers of building row b are [building_starts[b], building_starts[b+1])

    def __len__(self) -> int:
        return int(self.area.size)

    def units_of(self, offer: int) -> np.ndarray:
        """Unit rows of one offer."""
        start = int(self.start[offer])
        return self.members[start : start + int(self.n_units[offer])]

    def of_building(self, row: int) -> slice:
        return slice(int(self.building_starts[row]), int(self.building_starts[row + 1]))

    def blocked(self, unit_blocked: np.ndarray) -> np.ndarray:
        """Offers that contain at least one unit of the boolean unit mask (e.g. held for another lead)."""
        if not unit_blocked.any() or len(self) == 0:
            return np.zeros(len(self), dtype=bool)
        counts = np.concatenate(([0], np.cumsum(unit_blocked[self.members])))
        return counts[self.start + self.n_units] > counts[self.start]

    def containing(self, unit_row: int) -> np.ndarray:
        """Offers that include the unit row."""
        position = np.flatnonzero(self.members == unit_row)
        if position.size == 0:
            return np.zeros(len(self), dtype=bool)
        p = int(position[0])
        return (self.start <= p) & (p < self.start + self.n_units)

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, f).nbytes for f in self.__dataclass_fields__)


def build_offers(
    units: UnitTable, offerable: np.ndarray, n_buildings: int, max_run: int = MAX_RUN
) -> OfferTable:
    """Every candidate offer made of the units where `offerable` is true; vectorised over units."""
    members = np.flatnonzero(offerable)
    m = members.size
    if m == 0:
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
        return OfferTable(
            empty_i,
            empty_f,
            empty_f,
            empty_i,
            empty_i,
            empty_i,
            empty_i,
            members.astype(np.int64),
            np.zeros(n_buildings + 1, np.int64),
        )
    building = units.building[members]
    floor = units.floor[members]
    key = building * _FLOOR_SPAN + (floor + _FLOOR_SPAN // 2)
    area = units.area[members]
    rent = units.rent[members]
    known = ~np.isnan(rent)
    area_sum = np.concatenate(([0.0], np.cumsum(area)))
    rent_area_sum = np.concatenate(([0.0], np.cumsum(np.where(known, rent * area, 0.0))))
    unknown_sum = np.concatenate(([0], np.cumsum(~known)))
    available = units.available_from[members]

    starts, lengths, latest = [], [], []
    window_latest = available.copy()
    for length in range(1, min(max_run, m) + 1):
        if length > 1:
            window_latest = np.maximum(window_latest[:-1], available[length - 1 :])
        first = np.arange(m - length + 1)
        same_floor = key[first] == key[first + length - 1]
        starts.append(first[same_floor])
        lengths.append(np.full(int(same_floor.sum()), length))
        latest.append(window_latest[same_floor])
    # A floor with more vacant units than the longest run also offers all of them together.
    floor_first = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    floor_count = np.diff(np.concatenate((floor_first, [m])))
    big = floor_count > max_run
    if big.any():
        starts.append(floor_first[big])
        lengths.append(floor_count[big])
        latest.append(np.maximum.reduceat(available, floor_first)[big])
    start = np.concatenate(starts).astype(np.int64)
    n_units = np.concatenate(lengths).astype(np.int64)
    available_from = np.concatenate(latest).astype(np.int64)
    end = start + n_units
    offer_area = area_sum[end] - area_sum[start]
    offer_rent = np.where(
        unknown_sum[end] - unknown_sum[start] > 0,
        np.nan,
        (rent_area_sum[end] - rent_area_sum[start]) / offer_area,
    )
    offer_building = building[start]
    offer_floor = floor[start]
    # Within a building: fewer units first, then cheaper, so that equal distances resolve that way.
    order = np.lexsort((start, np.where(np.isnan(offer_rent), np.inf, offer_rent), n_units, offer_building))
    offer_building = offer_building[order]
    return OfferTable(
        building=offer_building.astype(np.int64),
        area=offer_area[order],
        rent=offer_rent[order],
        n_units=n_units[order],
        floor=offer_floor[order].astype(np.int64),
        available_from=available_from[order],
        start=start[order],
        members=members.astype(np.int64),
        building_starts=np.searchsorted(offer_building, np.arange(n_buildings + 1)).astype(np.int64),
    )


def best_per_building(offers: OfferTable, ok: np.ndarray, cost: np.ndarray, n_buildings: int) -> np.ndarray:
    """For each building row, the index of its allowed offer of least cost (first on ties), or -1."""
    chosen = np.full(n_buildings, -1, dtype=np.int64)
    if len(offers) == 0 or not ok.any():
        return chosen
    c = np.where(ok, cost, np.inf)
    counts = np.diff(offers.building_starts)
    nonempty = np.flatnonzero(counts)
    # Offers are grouped by building, so one reduceat gives every building's least cost.
    least = np.repeat(np.minimum.reduceat(c, offers.building_starts[nonempty]), counts[nonempty])
    hit = np.flatnonzero(ok & (c == least))
    b = offers.building[hit]
    first = np.concatenate(([True], b[1:] != b[:-1]))
    chosen[b[first]] = hit[first]
    return chosen


def any_per_building(offers: OfferTable, ok: np.ndarray, n_buildings: int) -> np.ndarray:
    """Whether each building row has at least one allowed offer."""
    return np.bincount(offers.building[ok], minlength=n_buildings) > 0

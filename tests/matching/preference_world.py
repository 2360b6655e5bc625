"""A small generated district whose companies choose by a preference this module states, with noise.

Each company's utility for a building (and the unit of it closest to the middle of its range):

    u = 3.0 · share of the building's tenants in its own division
      + 0.8 · [the building's main industry is its division]
      + 0.25 · star rating
      − 6.0 · overshoot      (rent / budget − 1, where the rent is above the budget)
      + 2.0 · saving         (1 − rent / budget, where below it, at most 0.5)
      + 1.0 · closeness      (1 − |area − middle| / (max − min))
      − 2.0 · outside        (distance outside the range / the range's end, 0 inside)
      + ε,   ε ~ N(0, NOISE)

It considers units up to 15 % beyond either end of its stated range, so some companies sign above
their budget and some slightly outside their range, as real ones do. It tours its three best
buildings and signs the best. None of this calls the ranking code: the test compares the product
with this stated preference and with a simple baseline.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from crm.constants import ActivityKind, LeadStage
from crm.models import Lead
from crm.services.activities import activity_log
from crm.services.signings import signing_complete
from crm.services.tenancies import tenancy_end
from tests.factories import (
    BuildingFactory,
    EnterpriseFactory,
    LeadFactory,
    StreetFactory,
    TenancyFactory,
    UnitFactory,
    industry,
    make_credit_code,
)

DIVISIONS = ("72", "65", "51", "67", "70")
NOISE = 0.3
CONSIDERED_BEYOND = 0.15  # companies look at units up to 15 % beyond either end of their range
LEASE_DAYS = 45
FIRST_DAY = dt.date(2024, 2, 1)
AREAS = (130, 165, 200, 250, 300, 345)


@dataclass
class WorldBuilding:
    row: object  # the Building
    rent: float
    star: int
    main: str | None
    share: dict[str, float]
    units: list = field(default_factory=list)


@dataclass(frozen=True)
class Demand:
    division: str
    low: int
    high: int
    budget: float


@dataclass
class World:
    buildings: list[WorldBuilding]
    rng: random.Random
    busy: dict[int, dt.date] = field(default_factory=dict)  # unit id -> first free day
    signed: int = 0

    # ------------------------------------------------------------------ the stated preference
    def offer(self, b: WorldBuilding, demand: Demand, day: dt.date | None):
        """The unit the company would take in `b` (closest to its middle among those it considers)."""
        low, high = demand.low * (1 - CONSIDERED_BEYOND), demand.high * (1 + CONSIDERED_BEYOND)
        middle = (demand.low + demand.high) / 2
        free = [
            u
            for u in b.units
            if low <= float(u.area_m2) <= high and (day is None or self.busy.get(u.pk, day) <= day)
        ]
        return min(free, key=lambda u: (abs(float(u.area_m2) - middle), u.pk)) if free else None

    @staticmethod
    def utility(b: WorldBuilding, demand: Demand, unit) -> float:
        area, middle = float(unit.area_m2), (demand.low + demand.high) / 2
        ratio = b.rent / demand.budget
        overshoot = max(0.0, ratio - 1)
        saving = min(max(0.0, 1 - ratio), 0.5)
        closeness = 1 - abs(area - middle) / (demand.high - demand.low)
        outside = max(demand.low - area, area - demand.high, 0.0) / (
            demand.low if area < demand.low else demand.high
        )
        return (
            3.0 * b.share.get(demand.division, 0.0)
            + 0.8 * (b.main == demand.division)
            + 0.25 * b.star
            - 6.0 * overshoot
            + 2.0 * saving
            + 1.0 * closeness
            - 2.0 * outside
        )

    def options(
        self, demand: Demand, day: dt.date | None
    ) -> list[tuple[float, float, WorldBuilding, object]]:
        """(noisy utility, utility, building, unit) for every building it would consider, best first."""
        result = []
        for b in self.buildings:
            unit = self.offer(b, demand, day)
            if unit is not None:
                u = self.utility(b, demand, unit)
                result.append((u + self.rng.gauss(0, NOISE), u, b, unit))
        return sorted(result, key=lambda o: (-o[0], o[2].row.pk))

    def demand(self) -> Demand:
        low = self.rng.choice((150, 180, 210))
        return Demand(self.rng.choice(DIVISIONS), low, low + 80, round(self.rng.uniform(1.9, 3.3), 2))

    def lead(self, demand: Demand, n: int) -> Lead:
        return LeadFactory(
            industry=industry(demand.division),
            area_min_m2=demand.low,
            area_max_m2=demand.high,
            budget_rent=Decimal(str(demand.budget)),
            stage=LeadStage.NEGOTIATING,
            credit_code=make_credit_code(70_000 + n),
        )

    # ------------------------------------------------------------------ the past
    def decide(self, n: int, day: dt.date) -> None:
        """One company of the past: tours its three best buildings and signs the best; moves out later."""
        demand = self.demand()
        options = self.options(demand, day)
        if len(options) < 4:
            return
        lead = self.lead(demand, n)
        for k, (_, _, b, _) in enumerate(options[:3]):
            activity_log(
                lead=lead,
                kind=ActivityKind.SITE_TOUR,
                building=b.row,
                occurred_at=dt.datetime.combine(day - dt.timedelta(days=5 - k), dt.time(10), dt.UTC),
            )
        _, _, chosen, unit = options[0]
        signing = signing_complete(lead=lead, building=chosen.row, units=[unit], signed_on=day)
        tenancy_end(tenancy=signing.tenancy, end=day + dt.timedelta(days=LEASE_DAYS))
        self.busy[unit.pk] = day + dt.timedelta(days=LEASE_DAYS + 1)
        self.signed += 1


def build_world(*, buildings: int = 14, past_leads: int = 180, days: int = 18, seed: int = 11) -> World:
    """Buildings with clustered tenants, then `past_leads` companies deciding on `days` days a month apart."""
    rng = random.Random(seed)
    streets = [StreetFactory(name="东街"), StreetFactory(name="西街")]
    rows = []
    for i in range(buildings):
        main = rng.choice(DIVISIONS + (None,))
        star = rng.randint(1, 5)
        building = BuildingFactory(
            name=f"偏好楼{i}",
            street=streets[i % 2],
            main_industry=industry(main) if main else None,
            star_rating=star,
            in_service_since=dt.date(2015, 1, 1),
        )
        rent = round(rng.uniform(1.8, 3.4), 2)
        units = [
            UnitFactory(
                building=building,
                floor=1 + k // 4,
                number=f"{1 + k // 4}{k % 4:02d}",
                area_m2=Decimal(rng.choice(AREAS)),
                asking_rent=Decimal(str(rent)),
            )
            for k in range(12)
        ]
        cluster = rng.choice(DIVISIONS)
        counts: dict[str, int] = {}
        for _ in range(8):
            division = cluster if rng.random() < 0.75 else rng.choice(DIVISIONS)
            counts[division] = counts.get(division, 0) + 1
            TenancyFactory(
                enterprise=EnterpriseFactory(industry=industry(division)),
                building=building,
                area_m2=Decimal("100"),
                start=dt.date(2018, 1, 1),
            )
        share = {d: c / 8 for d, c in counts.items()}
        rows.append(WorldBuilding(building, rent, star, main, share, units))
    world = World(rows, rng)
    per_day = math.ceil(past_leads / days)
    for n in range(past_leads):
        world.decide(n, FIRST_DAY + dt.timedelta(days=30 * (n // per_day)))
    return world

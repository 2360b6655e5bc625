"""Plans one demo district in memory so that its plan indicators land on the targets of each plan year.

Nothing here touches the database: the planner builds plain objects (buildings, units, tenancies,
enterprises, tax) from one random.Random, year by year, choosing each year's leavers, arrivals, tax
payers, industries and service flags so that the fourteen indicators of domain.md come out on the
targets as of 31 December. `plan_indicators` recomputes them from the plan, by domain.md's
definitions, so a plan that misses is refused before anything is written.
"""

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from crm.constants import UnitStatus
from crm.demo.names import OUTSIDE_REGIONS, CreditCodes, NameMaker
from crm.demo.profiles import (
    OFFICE_DIVISIONS,
    PRESTIGE_THEMES,
    SECTION_OF,
    TAX_INTENSITY,
    THEME_BY_KEY,
    THEMES,
    YEARS,
    DistrictProfile,
    Theme,
)
from matching.demo_text import business_scope_for

CENT = 100
TEN_MILLION = 10_000_000 * CENT  # 千万元楼, in cents
BILLION = 100_000_000 * CENT  # 亿元楼, in cents
# Margins that keep every building clear of a tier threshold, so rounding can never move it across.
BILLION_LOW, BILLION_HIGH = int(1.03 * BILLION), int(1.40 * BILLION)
KEY_LOW, KEY_HIGH = int(1.05 * TEN_MILLION), int(0.95 * BILLION)
NON_KEY_HIGH = int(0.95 * TEN_MILLION)
LEAVE_RATE = 0.06  # share of tenants that move out in a year, before the stay's multiplier:
# newcomers leave more often, long stayers seldom (docs/retention.md, "The demo's departures").
NEW_STAY_YEARS, NEW_STAY_FACTOR = 2, 2.5
LONG_STAY_YEARS, LONG_STAY_FACTOR = 6, 0.4


def leave_factor(start: dt.date, on: dt.date) -> float:
    """How much likelier than LEAVE_RATE a tenant here since `start` is to leave in the year after `on`."""
    years = (on - start).days / 365.25
    if years < NEW_STAY_YEARS:
        return NEW_STAY_FACTOR
    if years >= LONG_STAY_YEARS:
        return LONG_STAY_FACTOR
    return 1.0


RELET_GAP_DAYS = 30  # a unit stands empty at least this long between two tenants
TOLERANCE = 0.03  # the brief: each year-1 indicator within ±3 % of its target


class PlanError(Exception):
    """The planned district does not meet its targets: a bug in the planner, or a profile it cannot meet."""


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


@dataclass(slots=True, eq=False)
class BuildingPlan:
    index: int
    street: int
    rank: int  # prestige among the district's buildings, 0 = first
    theme: Theme
    gross: int
    leasable: int
    in_service_since: dt.date | None
    code: str = ""
    name: str = ""
    circle: str = ""
    address: str = ""
    floors: int = 0
    main_industry: str | None = None
    lat: float = 0.0
    lng: float = 0.0
    rent_min: float = 0.0
    rent_max: float = 0.0
    star_rating: int = 0
    star_since: dt.date | None = None
    featured_type: str = ""
    featured_since: dt.date | None = None
    party_org_since: dt.date | None = None
    intermediary_since: dt.date | None = None
    smart_platform_since: dt.date | None = None
    tax_weight: float = 1.0
    match_propensity: float = 0.0
    units: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    self_used_area: int = 0

    def in_service(self, day: dt.date) -> bool:
        return self.in_service_since is None or self.in_service_since <= day


@dataclass(slots=True, eq=False)
class UnitPlan:
    building: int
    floor: int
    number: str
    area: int
    asking_rent: float
    status: str = UnitStatus.VACANT
    available_from: dt.date | None = None
    free_from: dt.date = dt.date.min  # first day no tenancy holds it any more


@dataclass(slots=True, eq=False)
class GroupPlan:
    """Adjacent units on one floor that are let together, tenant after tenant."""

    building: int
    units: list[int]
    area: int
    tenancies: list[int] = field(default_factory=list)  # in date order


@dataclass(slots=True, eq=False)
class TenancyPlan:
    building: int
    units: list[int]
    area: int
    start: dt.date
    end: dt.date | None = None
    enterprise: int = -1

    def active(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or self.end >= day)


@dataclass(slots=True, eq=False)
class EnterprisePlan:
    tenancies: list[int] = field(default_factory=list)
    credit_code: str = ""
    name: str = ""
    industry: str = ""
    registered: bool = True
    settles: bool = True
    headquarters: bool = False
    employees: int = 0
    scope: str = ""
    tax: dict[int, int] = field(default_factory=dict)  # year -> cents; a 0 is a filed nil return
    monthly: bool = False
    tax_weight: float = 1.0
    pay_propensity: float = 0.0


@dataclass(eq=False)
class DistrictPlan:
    profile: DistrictProfile
    as_of: dt.date
    buildings: list[BuildingPlan] = field(default_factory=list)
    units: list[UnitPlan] = field(default_factory=list)
    groups: list[GroupPlan] = field(default_factory=list)
    tenancies: list[TenancyPlan] = field(default_factory=list)
    enterprises: list[EnterprisePlan] = field(default_factory=list)

    def settled(self, day: dt.date) -> dict[int, list[int]]:
        """Enterprise -> its tenancies active on `day` in buildings in service then."""
        result: dict[int, list[int]] = {}
        for index, tenancy in enumerate(self.tenancies):
            if tenancy.active(day) and self.buildings[tenancy.building].in_service(day):
                result.setdefault(tenancy.enterprise, []).append(index)
        return result


def matches(industry: str, main: str | None) -> bool:
    """domain.md: same division, or inside the section when the main industry is a section."""
    if not main or not industry:
        return False
    if len(main) == 1:
        return SECTION_OF.get(industry) == main
    return industry == main


def weighted_choice(rng: random.Random, options: list[tuple[str, float]]) -> str:
    total = sum(weight for _, weight in options)
    pick = rng.random() * total
    for value, weight in options:
        pick -= weight
        if pick < 0:
            return value
    return options[-1][0]


def random_date(rng: random.Random, low: dt.date, high: dt.date) -> dt.date:
    if high <= low:
        return low
    return low + dt.timedelta(days=rng.randint(0, (high - low).days))


def largest_remainder(total: int, shares: list[float]) -> list[int]:
    """Integers proportional to `shares` that add up to exactly `total`."""
    whole = sum(shares)
    exact = [total * share / whole for share in shares]
    counts = [math.floor(value) for value in exact]
    order = sorted(range(len(shares)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def water_fill(total: int, weights: list[float], caps: list[int]) -> list[int]:
    """Split `total` cents in proportion to `weights`, no part above its cap; the parts add up exactly."""
    parts = [0.0] * len(weights)
    open_ = [i for i, weight in enumerate(weights) if weight > 0 and caps[i] > 0]
    remaining = float(total)
    while open_ and remaining > 0.5:
        weight_sum = sum(weights[i] for i in open_)
        capped = [i for i in open_ if parts[i] + remaining * weights[i] / weight_sum >= caps[i]]
        if not capped:
            for i in open_:
                parts[i] += remaining * weights[i] / weight_sum
            remaining = 0
            break
        for i in capped:
            remaining -= caps[i] - parts[i]
            parts[i] = caps[i]
        open_ = [i for i in open_ if i not in set(capped)]
    cents = [math.floor(part) for part in parts]
    short = total - sum(cents)
    order = sorted(range(len(parts)), key=lambda i: (cents[i] - parts[i], i))
    for i in order:
        if short <= 0:
            break
        if cents[i] < caps[i]:
            cents[i] += 1
            short -= 1
    return cents


class DistrictPlanner:
    """Builds a DistrictPlan for one profile, deterministically for one random.Random and one as-of date."""

    def __init__(
        self,
        *,
        profile: DistrictProfile,
        rng: random.Random,
        names: NameMaker,
        codes: CreditCodes,
        as_of: dt.date,
        industries: set[str],
    ) -> None:
        self.profile = profile
        self.rng = rng
        self.names = names
        self.codes = codes
        self.as_of = as_of
        self.targets = profile.targets
        self.divisions = [(code, weight) for code, _, weight in OFFICE_DIVISIONS if code in industries]
        self.plan = DistrictPlan(profile=profile, as_of=as_of)

    # -- the whole plan ------------------------------------------------------------------------
    def run(self, *, expected_signings: int = 0) -> DistrictPlan:
        self._buildings()
        self._units()
        self._occupancy()
        self._history(expected_signings)
        self._enterprises()
        self._tax()
        self._present_tax()
        self._service_flags()
        self._unit_status()
        if self.profile.strict:
            self._verify()
        return self.plan

    def _verify(self) -> None:
        year = YEARS[0]
        misses = []
        for key, value in plan_indicators(self.plan, year).items():
            target = self.targets[year][key]
            if value is None or abs(value - target) > TOLERANCE * abs(target):
                misses.append(f"{key}={value} (target {target})")
        if misses:
            raise PlanError(f"演示数据未达到{year}年目标 / the demo plan misses its {year} targets: {misses}")

    # -- buildings -----------------------------------------------------------------------------
    def _buildings(self) -> None:
        rng, profile = self.rng, self.profile
        first, second, third = profile.buildings_new
        streets = profile.streets
        per_street = largest_remainder(first, [street.share for street in streets])
        homes = [s for s, count in enumerate(per_street) for _ in range(count)]
        rng.shuffle(homes)
        prestige = sorted(
            range(first), key=lambda i: (-streets[homes[i]].centrality * rng.uniform(0.6, 1.4), i)
        )
        ranks = {building: rank for rank, building in enumerate(prestige)}

        y1 = YEARS[0]
        raw_gross = [rng.uniform(14_000, 26_000) + 45_000 * math.exp(-ranks[i] / 10) for i in range(first)]
        gross = self._scaled(raw_gross, self.targets[y1]["gross_area"] * 10_000, step=10)
        raw_leasable = [g * rng.uniform(0.72, 0.80) for g in gross]
        leasable = self._scaled(raw_leasable, self.targets[y1]["leasable_area"] * 10_000, step=1)
        built: list[BuildingPlan] = []
        for i in range(first):
            since = None
            if rng.random() > 0.15:
                since = dt.date(rng.randint(y1 - 23, y1 - 1), rng.randint(1, 12), rng.randint(1, 28))
            built.append(
                BuildingPlan(0, homes[i], ranks[i], self._theme(ranks[i]), gross[i], leasable[i], since)
            )
        rank = first
        for year, count in zip(YEARS[1:], (second, third), strict=True):
            if not count:
                continue
            added = (self.targets[year]["gross_area"] - self.targets[year - 1]["gross_area"]) * 10_000
            sizes = largest_remainder(int(added) // 10, [rng.uniform(0.8, 1.2) for _ in range(count)])
            for size in sizes:
                street = rng.choices(range(len(streets)), weights=[s.share for s in streets])[0]
                since = random_date(rng, dt.date(year, 1, 15), dt.date(year, 11, 30))
                gross_area = size * 10
                built.append(
                    BuildingPlan(
                        0, street, rank, self._theme(rank), gross_area, round(gross_area * 0.86), since
                    )
                )
                rank += 1
        built.sort(key=lambda b: (b.street, b.rank))
        total = len(built)
        for index, building in enumerate(built):
            self._describe(index, building, total)
        self.plan.buildings = built

    def _scaled(self, raw: list[float], total: float, *, step: int) -> list[int]:
        factor = total / sum(raw)
        values = [max(step, round(value * factor / step) * step) for value in raw]
        values[0] += round(total) - sum(values)
        return values

    def _theme(self, rank: int) -> Theme:
        if rank < len(PRESTIGE_THEMES):
            return THEME_BY_KEY[PRESTIGE_THEMES[rank]]
        return self.rng.choices(THEMES, weights=[theme.weight for theme in THEMES])[0]

    def _describe(self, index: int, b: BuildingPlan, total: int) -> None:
        rng, street = self.rng, self.profile.streets[b.street]
        b.index = index
        b.code = f"{self.profile.code_prefix}{index + 1:03d}"
        # Some buildings carry their street's name (迪荡…, 府山…), the rest a brand or a local place name.
        own = street.name.removesuffix("街道")
        b.name = self.names.building((own,)) if rng.random() < 0.3 else self.names.building()
        b.circle = street.circle if street.circle and rng.random() < 0.75 else ""
        road = rng.choice(street.roads) if street.roads else "中心路"
        b.address = f"{self.profile.place}{road}{rng.randint(1, 399)}号"
        if self.profile.units_per_building:
            plate = rng.uniform(900, 2000)
            b.floors = min((5, 6, 10, 15), key=lambda n: abs(b.gross / n - plate))
        else:
            b.floors = max(4, min(60, round(b.gross / rng.uniform(1100, 2200))))
        if b.theme.mains:
            b.main_industry = weighted_choice(rng, list(b.theme.mains))
            section_level = len(b.main_industry) == 1
            b.match_propensity = rng.uniform(0.6, 0.85) if section_level else rng.uniform(0.5, 0.8)
        b.lat = street.lat + rng.gauss(0, 0.004)
        b.lng = street.lng + rng.gauss(0, 0.004)
        base = 1.5 + 1.6 * (1 - b.rank / total) + 0.6 * street.centrality + rng.uniform(-0.2, 0.2)
        b.rent_min = round(base * 0.85 * 20) / 20
        b.rent_max = round(base * 1.2 * 20) / 20
        b.tax_weight = b.theme.tax_factor * math.exp(rng.gauss(0, 0.5))

    # -- units and the groups let together -----------------------------------------------------
    def _units(self) -> None:
        rng, profile, plan = self.rng, self.profile, self.plan
        for b in plan.buildings:
            per_floor = largest_remainder(b.leasable, [1.0] * b.floors)
            for floor, floor_area in enumerate(per_floor, start=1):
                if profile.units_per_building:
                    count = profile.units_per_building // b.floors
                else:
                    count = round(floor_area / (profile.unit_area_mean * rng.uniform(0.8, 1.25)))
                count = max(1, min(count, floor_area // 40, 99))
                areas = largest_remainder(floor_area, [rng.uniform(0.6, 1.4) for _ in range(count)])
                for k, area in enumerate(areas, start=1):
                    height = floor / b.floors
                    rent = b.rent_min + (b.rent_max - b.rent_min) * height * rng.uniform(0.75, 1.0)
                    b.units.append(len(plan.units))
                    plan.units.append(
                        UnitPlan(b.index, floor, f"{floor}{k:02d}", area, round(rent * 20) / 20)
                    )
            # The property office keeps one small unit on the lowest floor for itself (自用).
            lowest = [u for u in b.units if plan.units[u].floor == 1]
            office = min(lowest, key=lambda u: (plan.units[u].area, u))
            plan.units[office].status = UnitStatus.SELF_USED
            b.self_used_area = plan.units[office].area
            self._group(b, office)

    def _group(self, b: BuildingPlan, office: int) -> None:
        rng, plan = self.rng, self.plan
        by_floor: dict[int, list[int]] = {}
        for u in b.units:
            if u != office:
                by_floor.setdefault(plan.units[u].floor, []).append(u)
        for floor_units in by_floor.values():
            i = 0
            while i < len(floor_units):
                size = rng.choices((1, 2, 3, 4, len(floor_units)), weights=(72, 18, 6, 3, 1))[0]
                chosen = floor_units[i : i + size]
                i += size
                b.groups.append(len(plan.groups))
                plan.groups.append(GroupPlan(b.index, chosen, sum(plan.units[u].area for u in chosen)))

    # -- who occupies what, year by year -------------------------------------------------------
    def _lease(self, group: int, start: dt.date) -> int:
        g = self.plan.groups[group]
        self.plan.tenancies.append(TenancyPlan(g.building, g.units, g.area, start))
        g.tenancies.append(len(self.plan.tenancies) - 1)
        return len(self.plan.tenancies) - 1

    def _in_service(self, day: dt.date) -> list[BuildingPlan]:
        return [b for b in self.plan.buildings if b.in_service(day)]

    def _occupied_target(self, year: int) -> float:
        buildings = self._in_service(year_end(year))
        leasable = sum(b.leasable for b in buildings)
        self_used = sum(b.self_used_area for b in buildings)
        return self.targets[year]["occupancy_rate"] / 100 * leasable - self_used

    def _floor_day(self, b: BuildingPlan) -> dt.date:
        earliest = dt.date(YEARS[0] - self.profile.history_years, 1, 1)
        return max(b.in_service_since or earliest, earliest)

    def _occupancy(self) -> None:
        rng, plan = self.rng, self.plan
        y1 = YEARS[0]
        d1 = year_end(y1)
        buildings = self._in_service(d1)
        wanted = self._occupied_target(y1)
        desire = {
            b.index: max(0.5, min(0.98, rng.gauss(0.84, 0.07) + (0.06 if b.rank < 10 else 0))) * b.leasable
            - b.self_used_area
            for b in buildings
        }
        factor = wanted / sum(desire.values())
        chosen: list[int] = []
        vacant: list[int] = []
        for b in buildings:
            groups = list(b.groups)
            rng.shuffle(groups)
            area = 0
            for g in groups:
                if area + plan.groups[g].area / 2 <= desire[b.index] * factor:
                    chosen.append(g)
                    area += plan.groups[g].area
                else:
                    vacant.append(g)
        chosen = self._hit(wanted, chosen, vacant)
        for g in chosen:
            b = plan.buildings[plan.groups[g].building]
            low = self._floor_day(b)
            start = d1 - dt.timedelta(days=int((d1 - low).days * rng.random() ** 1.6))
            self._lease(g, start)

        for year in YEARS[1:]:
            self._turn_over(year)
        self._after_plan_years()

    def _hit(self, wanted: float, chosen: list[int], pool: list[int], fixed: float = 0.0) -> list[int]:
        """Toggle groups between `chosen` and `pool` until fixed + chosen area is within 0.03 % of wanted."""
        rng, groups = self.rng, self.plan.groups
        chosen, pool = list(chosen), list(pool)
        area = fixed + sum(groups[g].area for g in chosen)
        for _ in range(20_000):
            gap = wanted - area
            if abs(gap) <= 0.0003 * wanted:
                break
            source = pool if gap > 0 else chosen
            if not source:
                break
            sample = rng.sample(range(len(source)), min(40, len(source)))
            pick = min(sample, key=lambda i: (abs(groups[source[i]].area - abs(gap)), i))
            g = source[pick]
            source[pick] = source[-1]
            source.pop()
            (chosen if gap > 0 else pool).append(g)
            area += groups[g].area if gap > 0 else -groups[g].area
        return chosen

    def _turn_over(self, year: int) -> None:
        """Year Y: some tenants leave, new ones arrive, so that occupancy on 31 December hits the target."""
        rng, plan = self.rng, self.plan
        previous, day = year_end(year - 1), year_end(year)
        carried = 0.0
        for tenancy in plan.tenancies:
            if not tenancy.active(previous) or tenancy.end is not None:
                continue
            if rng.random() < LEAVE_RATE * leave_factor(tenancy.start, previous):
                # Some leases run out on the last day of the year: such a tenant still counts then.
                if rng.random() < 0.12:
                    tenancy.end = previous
                else:
                    tenancy.end = random_date(rng, dt.date(year, 1, 1), dt.date(year, 12, 30))
            else:
                carried += tenancy.area
        candidates: list[int] = []
        earliest: dict[int, dt.date] = {}
        for b in self._in_service(day):
            for g in b.groups:
                group = plan.groups[g]
                last = plan.tenancies[group.tenancies[-1]] if group.tenancies else None
                if last is not None and (last.end is None or last.end >= day):
                    continue
                first_day = max(dt.date(year, 1, 1), b.in_service_since or dt.date.min)
                if last is not None:
                    first_day = max(first_day, last.end + dt.timedelta(days=RELET_GAP_DAYS))
                if first_day <= day:
                    candidates.append(g)
                    earliest[g] = first_day
        arrivals = self._hit(self._occupied_target(year), [], candidates, fixed=carried)
        for g in arrivals:
            self._lease(g, random_date(rng, earliest[g], day))

    def _after_plan_years(self) -> None:
        """After the plan years: a few more leave before the as-of date; the rest hold leases to later."""
        rng, plan = self.rng, self.plan
        last_year_end = year_end(YEARS[-1])
        latest_exit = self.as_of - dt.timedelta(days=RELET_GAP_DAYS)
        for tenancy in plan.tenancies:
            if tenancy.end is not None or not tenancy.active(last_year_end):
                continue
            if latest_exit > last_year_end and rng.random() < 0.08 * leave_factor(
                tenancy.start, last_year_end
            ):
                tenancy.end = random_date(rng, last_year_end + dt.timedelta(days=1), latest_exit)
            elif rng.random() < 0.3:
                tenancy.end = random_date(
                    rng, self.as_of + dt.timedelta(days=30), self.as_of + dt.timedelta(days=1100)
                )

    def _history(self, expected_signings: int) -> None:
        """Earlier tenants who have left, so that the district knows about `profile.enterprises` firms."""
        rng, plan = self.rng, self.plan
        needed = self.profile.enterprises - len(plan.tenancies) - expected_signings
        needed += min(self.profile.multi_building_enterprises, len(plan.tenancies) // 4)
        d1 = year_end(YEARS[0])
        groups = [g for b in self._in_service(d1) for g in b.groups]
        placed, attempts = 0, 0
        while placed < needed and attempts < 30 * max(needed, 1):
            attempts += 1
            g = rng.choice(groups)
            group = plan.groups[g]
            b = plan.buildings[group.building]
            # An earlier tenant left before the next one came, and, where the space stood empty on
            # 31 December of year 1, before that day: it must not count as settled then.
            first = plan.tenancies[group.tenancies[0]] if group.tenancies else None
            limits = []
            if first is not None:
                limits.append(first.start - dt.timedelta(days=rng.randint(RELET_GAP_DAYS, 180)))
            if first is None or first.start > d1:
                limits.append(d1 - dt.timedelta(days=1 + rng.randint(0, 400)))
            limit = min(limits)
            room = (limit - self._floor_day(b)).days
            if room < 300:
                continue
            length = rng.randint(300, min(room, 5 * 365))
            plan.tenancies.append(
                TenancyPlan(b.index, group.units, group.area, limit - dt.timedelta(days=length), limit)
            )
            group.tenancies.insert(0, len(plan.tenancies) - 1)
            placed += 1

    # -- enterprises ---------------------------------------------------------------------------
    def _enterprises(self) -> None:
        rng, plan = self.rng, self.plan
        y1, y3 = YEARS[0], YEARS[-1]
        # A few firms are settled in two buildings at once; their tax is split between them by area.
        stayers = [
            i
            for i, t in enumerate(plan.tenancies)
            if t.active(year_end(y1)) and t.active(year_end(y3)) and plan.buildings[t.building].main_industry
        ]
        rng.shuffle(stayers)
        partner: dict[int, int] = {}
        wanted_pairs = self.profile.multi_building_enterprises
        for i in range(0, len(stayers) - 1, 2):
            if len(partner) >= wanted_pairs:
                break
            first, second = stayers[i], stayers[i + 1]
            if plan.tenancies[first].building != plan.tenancies[second].building:
                partner[second] = first
        order = sorted(range(len(plan.tenancies)), key=lambda i: (plan.tenancies[i].start, i))
        for i in order:
            if i in partner:
                continue
            plan.tenancies[i].enterprise = len(plan.enterprises)
            plan.enterprises.append(EnterprisePlan(tenancies=[i]))
        for second, first in partner.items():
            enterprise = plan.tenancies[first].enterprise
            plan.tenancies[second].enterprise = enterprise
            plan.enterprises[enterprise].tenancies.append(second)
        self._industries()
        self._registration()
        for enterprise in plan.enterprises:
            self._describe_enterprise(enterprise)

    def _cohorts(self) -> list[list[int]]:
        """Firms settled at the end of year 1, those new at the end of year 2, of year 3, and the rest."""
        seen: set[int] = set()
        cohorts = []
        for year in YEARS:
            settled = sorted(self.plan.settled(year_end(year)))
            cohorts.append([e for e in settled if e not in seen])
            seen.update(settled)
        cohorts.append([e for e in range(len(self.plan.enterprises)) if e not in seen])
        return cohorts

    def _pairs(self, year: int) -> list[tuple[int, int]]:
        """(enterprise, building) settled on 31 December in buildings that have a main industry."""
        day, plan = year_end(year), self.plan
        pairs = set()
        for e, tenancies in plan.settled(day).items():
            for t in tenancies:
                b = plan.tenancies[t].building
                if plan.buildings[b].main_industry:
                    pairs.add((e, b))
        return sorted(pairs)

    def _matching(self, main: str) -> str:
        if len(main) == 2:
            return main
        return weighted_choice(self.rng, [(c, w) for c, w in self.divisions if SECTION_OF[c] == main])

    def _not_matching(self, mains: list[str]) -> str:
        options = [(c, w) for c, w in self.divisions if not any(matches(c, m) for m in mains)]
        return weighted_choice(self.rng, options)

    def _industries(self) -> None:
        rng, plan = self.rng, self.plan
        cohorts = self._cohorts()
        for year, cohort in zip(YEARS, cohorts, strict=False):
            pairs = self._pairs(year)
            by_enterprise: dict[int, list[int]] = {}
            for e, b in pairs:
                by_enterprise.setdefault(e, []).append(b)
            wanted = round(self.targets[year]["industry_concentration"] / 100 * len(pairs))
            need = wanted - sum(
                matches(plan.enterprises[e].industry, plan.buildings[b].main_industry)
                for e, b in pairs
                if plan.enterprises[e].industry
            )
            new = [e for e in cohort if e in by_enterprise]
            keys = {e: plan.buildings[by_enterprise[e][0]].match_propensity + rng.random() * 0.5 for e in new}
            for e in sorted(new, key=lambda e: (-keys[e], e)):
                mains = [plan.buildings[b].main_industry for b in by_enterprise[e]]
                industry = self._matching(mains[0]) if need > 0 else self._not_matching(mains)
                plan.enterprises[e].industry = industry
                need -= sum(matches(industry, main) for main in mains)
            for e in cohort:
                if not plan.enterprises[e].industry:
                    plan.enterprises[e].industry = weighted_choice(rng, self.divisions)
        for e in cohorts[-1]:
            b = plan.buildings[plan.tenancies[plan.enterprises[e].tenancies[0]].building]
            if b.main_industry and rng.random() < b.match_propensity:
                plan.enterprises[e].industry = self._matching(b.main_industry)
            else:
                plan.enterprises[e].industry = weighted_choice(rng, self.divisions)

    def _area(self, enterprise: EnterprisePlan) -> int:
        return max(self.plan.tenancies[t].area for t in enterprise.tenancies)

    def _registration(self) -> None:
        rng, plan = self.rng, self.plan
        cohorts = self._cohorts()
        decided: set[int] = set()
        # Firms that stay to the end of the plan are the registered ones more often, so that the
        # registration rate can still rise in years 2 and 3 as the others leave.
        staying = set(plan.settled(year_end(YEARS[-1])))
        for year, cohort in zip(YEARS, cohorts, strict=False):
            settled = plan.settled(year_end(year))
            wanted = round(self.targets[year]["registration_rate"] / 100 * len(settled))
            have = sum(plan.enterprises[e].registered for e in settled if e in decided)
            keys = {
                e: math.log(self._area(plan.enterprises[e])) + rng.random() * 4 + (3 if e in staying else 0)
                for e in cohort
            }
            ordered = sorted(cohort, key=lambda e: (-keys[e], e))
            take = max(0, min(len(ordered), wanted - have))
            for position, e in enumerate(ordered):
                plan.enterprises[e].registered = position < take
                decided.add(e)
        for e in cohorts[-1]:
            plan.enterprises[e].registered = rng.random() < 0.9

    def _describe_enterprise(self, e: EnterprisePlan) -> None:
        rng = self.rng
        area = self._area(e)
        e.name = self.names.company(e.industry, local=e.registered or rng.random() < 0.5)
        e.credit_code = self.codes.next("330602" if e.registered else rng.choice(OUTSIDE_REGIONS))
        e.settles = e.registered or rng.random() < 0.3
        e.headquarters = (area >= 1500 and rng.random() < 0.5) or rng.random() < 0.01
        e.employees = max(2, round(area / rng.uniform(5, 12)))
        e.scope = business_scope_for(e.industry, rng)
        e.monthly = rng.random() < self.profile.monthly_tax_share
        intensity = TAX_INTENSITY.get(SECTION_OF.get(e.industry, ""), 0.7)
        e.tax_weight = area * intensity * math.exp(rng.gauss(0, 1.0)) * (4 if e.headquarters else 1)
        e.pay_propensity = rng.random() + (0.35 if e.registered else 0) + 0.15 * math.log10(area)

    # -- tax -----------------------------------------------------------------------------------
    def _tax(self) -> None:
        for year in YEARS:
            self._tax_year(year)

    def _tax_year(self, year: int) -> None:
        rng, plan = self.rng, self.plan
        day = year_end(year)
        settled = plan.settled(day)
        occupied: dict[int, float] = {b.index: float(b.self_used_area) for b in self._in_service(day)}
        members: dict[int, list[int]] = {}
        for e, tenancies in settled.items():
            for t in tenancies:
                tenancy = plan.tenancies[t]
                occupied[tenancy.building] += tenancy.area
                members.setdefault(tenancy.building, []).append(e)
        multi = {e for e, tenancies in settled.items() if len(tenancies) > 1}

        # Who pays: exactly the target share of settled firms, and at least one single firm per building.
        wanted = round(self.targets[year]["tax_source_rate"] / 100 * len(settled))
        keys = {e: plan.enterprises[e].pay_propensity + rng.random() * 0.3 for e in settled}
        ranked = sorted(settled, key=lambda e: (-keys[e], e))
        payers = set(ranked[:wanted])
        for b in sorted(members):
            singles = [e for e in members[b] if e not in multi]
            if singles and not any(e in payers for e in singles):
                best = max(singles, key=lambda e: (keys[e], -e))
                payers.add(best)
                count = {bb: sum(1 for x in members[bb] if x in payers and x not in multi) for bb in members}
                for drop in reversed(ranked):
                    if drop in payers and drop not in multi:
                        home = plan.tenancies[settled[drop][0]].building
                        if count[home] > 1:
                            payers.discard(drop)
                            break

        targets = self._building_targets(year, occupied, members)
        for e in sorted(multi & payers):
            amount = rng.randint(20_000, 80_000) * CENT
            plan.enterprises[e].tax[year] = amount
            total_area = sum(plan.tenancies[t].area for t in settled[e])
            for t in settled[e]:
                targets[plan.tenancies[t].building] -= amount * plan.tenancies[t].area / total_area
        for b in sorted(members):
            singles = sorted({e for e in members[b] if e in payers and e not in multi})
            weights = [plan.enterprises[e].tax_weight * rng.uniform(0.8, 1.25) for e in singles]
            amounts = water_fill(max(0, round(targets[b])), weights, [BILLION_HIGH] * len(singles))
            for e, amount in zip(singles, amounts, strict=True):
                plan.enterprises[e].tax[year] = amount
        for e in settled:
            if e not in payers and rng.random() < 0.03:
                plan.enterprises[e].tax[year] = 0  # a nil return: filed, but no tax
        self._leavers_tax(year, settled, targets, occupied)

    def _present_tax(self) -> None:
        """Tax of the years after the plan, up to the as-of date, so that the present is not empty.

        A firm pays about what it last paid in a plan year, a little more each year (0–8 %), for the
        months it was here; the as-of year counts only its full months before the as-of date (the
        writer records that year month by month). The plan years keep their figures.
        """
        plan, as_of = self.plan, self.plan.as_of
        # A child generator seeded from the main one's state without drawing from it, so that the
        # pipeline planned next from the main generator keeps its draws: same seed, same leads.
        rng = random.Random(repr(self.rng.getstate()[1][:8]))
        growth = [1.0] * len(plan.enterprises)
        for year in range(YEARS[-1] + 1, as_of.year + 1):
            first, last = dt.date(year, 1, 1), year_end(year)
            if year == as_of.year:
                last = as_of.replace(day=1) - dt.timedelta(days=1)  # the last full month
                if last < first:
                    break  # January: nothing has been paid this year yet
            span = (last - first).days + 1
            for e, enterprise in enumerate(plan.enterprises):
                paid = [enterprise.tax[y] for y in YEARS if enterprise.tax.get(y, 0) > 0]
                if not paid:
                    continue
                growth[e] *= 1 + rng.uniform(0.0, 0.08)
                present = 0
                for t in enterprise.tenancies:
                    tenancy = plan.tenancies[t]
                    start, end = max(tenancy.start, first), min(tenancy.end or last, last)
                    present += max(0, (end - start).days + 1)
                share = min(present, span) / 365
                if share * 12 >= 0.5:  # at least half a month here
                    enterprise.tax[year] = max(CENT, round(paid[-1] * growth[e] * share))

    def _leavers_tax(self, year: int, settled: dict, targets: dict[int, float], occupied: dict) -> None:
        """Firms not settled in a building on 31 December still pay the district: those that left during
        the year for their months there, and many that left earlier, registered here, a smaller amount.
        No indicator counts them (domain.md counts settled firms only)."""
        rng, plan = self.rng, self.plan
        first, last = dt.date(year, 1, 1), year_end(year)
        for enterprise in plan.enterprises:
            if year in enterprise.tax or not enterprise.tenancies:
                continue
            tenancies = [plan.tenancies[t] for t in enterprise.tenancies]
            if min(t.start for t in tenancies) > last or any(t.active(last) for t in tenancies):
                continue  # not here yet, or settled (and decided above)
            months = 0.0
            for tenancy in tenancies:
                start, end = max(tenancy.start, first), min(tenancy.end or last, last)
                if start <= end:
                    months += (end - start).days / 30.4
            b = tenancies[0].building
            per_m2 = targets.get(b, 0) / max(occupied.get(b, 1.0), 1.0) or 30 * CENT
            area = self._area(enterprise)
            if months >= 1 and rng.random() < 0.7:
                amount = per_m2 * area * min(months, 12) / 12 * rng.uniform(0.3, 1.0)
            elif months < 1 and enterprise.registered and rng.random() < 0.6:
                amount = per_m2 * area * rng.uniform(0.05, 0.4)
            else:
                continue
            enterprise.tax[year] = max(CENT, round(amount))

    def _building_targets(self, year: int, occupied: dict[int, float], members: dict) -> dict[int, float]:
        """Each building's tax in cents: the 亿元楼, the other key buildings (≥ 10M), then the rest."""
        rng, plan = self.rng, self.plan
        t = self.targets[year]
        total = t["building_tax"] * 100_000_000 * CENT
        per_m2 = t["tax_per_m2"] * CENT
        billion = int(t["billion_buildings"])
        taxed = sorted((b for b in members if members[b]), key=lambda b: (plan.buildings[b].rank, b))
        top, rest = taxed[:billion], taxed[billion:]
        # The key tier's tax is fixed by tax per m² × its occupied area, so which buildings form the
        # 千万元楼 tier decides how much is left for the 亿元楼: try runs of q buildings starting s ranks
        # down, and keep the one nearest to natural amounts (亿元楼 ≈ 112M, 千万元楼 ≈ 25M, 8 % left).
        best = None
        for skip in range(0, min(len(rest), 30)):
            for q in range(0, min(len(rest) - skip, 40) + 1):
                key_set = top + rest[skip : skip + q]
                others = rest[:skip] + rest[skip + q :]
                key_total = per_m2 * sum(occupied[b] for b in key_set)
                non_key = total - key_total
                low = billion * BILLION_LOW + q * KEY_LOW
                high = billion * BILLION_HIGH + q * KEY_HIGH
                feasible = low <= key_total <= high and 0 <= non_key <= 0.7 * NON_KEY_HIGH * len(others)
                miss = 0.0 if feasible else min(abs(key_total - low), abs(key_total - high)) / total + 1
                natural = billion * 112_000_000 * CENT + q * 25_000_000 * CENT
                penalty = (
                    miss
                    + abs(key_total - natural) / total
                    + abs(non_key / total - 0.08)
                    + (0.05 if q < 3 else 0)
                    + 0.002 * skip
                )
                if best is None or penalty < best[0]:
                    best = (penalty, skip, q, key_total, non_key)
        assert best is not None
        _, skip, q, key_total, non_key = best
        tier = rest[skip : skip + q]
        key_set, others = top + tier, rest[:skip] + rest[skip + q :]
        floor = [BILLION_LOW] * billion + [KEY_LOW] * q
        room = [BILLION_HIGH - BILLION_LOW] * billion + [KEY_HIGH - KEY_LOW] * q
        wished = [9_000_000 * CENT * rng.uniform(0.3, 1.7) for _ in range(billion)]
        wished += [14_500_000 * CENT * rng.uniform(0.3, 1.7) for _ in tier]
        extra = water_fill(max(0, round(key_total) - sum(floor)), wished, room)
        targets = {b: float(floor[i] + extra[i]) for i, b in enumerate(key_set)}
        # The strongest few of the rest are 准千万元楼, a little below the 10M line.
        weights = [
            occupied[b] * plan.buildings[b].tax_weight * (12 if i < 3 else 1) for i, b in enumerate(others)
        ]
        caps = [int(NON_KEY_HIGH * rng.uniform(0.86, 1.0)) for _ in others]
        for b, amount in zip(others, water_fill(max(0, round(non_key)), weights, caps), strict=True):
            targets[b] = float(amount)
        return targets

    # -- service flags, stars and featured types -----------------------------------------------
    def _service_flags(self) -> None:
        rng = self.rng
        plan = self.plan
        order = sorted(plan.buildings, key=lambda b: (b.rank + rng.uniform(0, 25), b.index))
        flags = (
            ("party_org_since", "party_coverage", dt.date(2016, 7, 1)),
            ("intermediary_since", "intermediary_coverage", dt.date(2015, 1, 1)),
            ("smart_platform_since", "smart_platform_coverage", dt.date(2019, 6, 1)),
        )
        for attribute, key, since in flags:
            shuffled = sorted(order, key=lambda b: (b.rank + rng.uniform(0, 40), b.index))
            self._grant(shuffled, attribute, key, since, share=True)
        stars = sorted(order, key=lambda b: (b.rank + rng.uniform(0, 12), b.index))
        for b in self._grant(stars, "star_since", "star_buildings", dt.date(2017, 1, 1), blank_share=0.4):
            b.star_rating = 5 if b.rank < 3 else 4 if b.rank < 8 else rng.choice((1, 2, 3, 3))
        featurable = [b for b in stars if b.theme.featured and b.main_industry]
        since = dt.date(2018, 1, 1)
        for b in self._grant(featurable, "featured_since", "featured_buildings", since, blank_share=0.2):
            b.featured_type = "ecommerce" if b.main_industry == "64" else b.theme.featured

    def _grant(
        self,
        order: list[BuildingPlan],
        attribute: str,
        key: str,
        since: dt.date,
        *,
        share: bool = False,
        blank_share: float = 0.0,
    ) -> list[BuildingPlan]:
        """Give the attribute to buildings in `order` so each plan year ends with the target count.

        Returns the holders; a holder whose since-date stays blank has held it since before records began.
        """
        rng = self.rng
        holders: list[BuildingPlan] = []
        for year in YEARS:
            day = year_end(year)
            in_service = [b for b in order if b.in_service(day)]
            target = self.targets[year][key]
            wanted = round(target / 100 * len(in_service)) if share else round(target)
            for b in in_service:
                if len(holders) >= wanted:
                    break
                if b in holders:
                    continue
                holders.append(b)
                if year == YEARS[0] and b.in_service_since is None and rng.random() < blank_share:
                    continue
                low = max(
                    b.in_service_since or dt.date.min, since if year == YEARS[0] else dt.date(year, 1, 1)
                )
                setattr(b, attribute, random_date(rng, low, day))
        # After the plan years the district keeps improving a little up to the as-of date.
        if self.as_of > year_end(YEARS[-1]):
            for b in order:
                if b not in holders and rng.random() < 0.1:
                    setattr(b, attribute, random_date(rng, dt.date(YEARS[-1] + 1, 1, 1), self.as_of))
                    holders.append(b)
        return holders

    # -- each unit's status on the as-of date --------------------------------------------------
    def _unit_status(self) -> None:
        plan = self.plan
        for group in plan.groups:
            b = plan.buildings[group.building]
            current = [t for t in group.tenancies if plan.tenancies[t].active(self.as_of)]
            last_end = max((plan.tenancies[t].end or dt.date.max for t in group.tenancies), default=None)
            free_from = b.in_service_since or dt.date.min
            if last_end is not None:
                free_from = dt.date.max if last_end == dt.date.max else last_end + dt.timedelta(days=1)
            for u in group.units:
                unit = plan.units[u]
                unit.free_from = free_from
                if current:
                    unit.status = UnitStatus.LEASED
                    end = plan.tenancies[current[0]].end
                    unit.available_from = end + dt.timedelta(days=1) if end else None
                else:
                    unit.available_from = None if free_from == dt.date.min else free_from
        for b in plan.buildings:
            for u in b.units:
                if plan.units[u].status == UnitStatus.SELF_USED:
                    plan.units[u].free_from = dt.date.max


def plan_indicators(plan: DistrictPlan, year: int) -> dict[str, float | None]:
    """The fourteen indicators of domain.md computed from the plan itself, as of 31 December of `year`."""
    day = year_end(year)
    buildings = [b for b in plan.buildings if b.in_service(day)]
    settled = plan.settled(day)
    occupied = {b.index: float(b.self_used_area) for b in buildings}
    tax = dict.fromkeys(occupied, 0.0)
    pairs: set[tuple[int, int]] = set()
    for e, tenancies in settled.items():
        total_area = sum(plan.tenancies[t].area for t in tenancies)
        amount = plan.enterprises[e].tax.get(year, 0) / CENT
        for t in tenancies:
            tenancy = plan.tenancies[t]
            occupied[tenancy.building] += tenancy.area
            tax[tenancy.building] += amount * tenancy.area / total_area
            pairs.add((e, tenancy.building))
    main = {b.index: b.main_industry for b in buildings}
    with_main = [(e, b) for e, b in pairs if main[b]]
    in_main = sum(matches(plan.enterprises[e].industry, main[b]) for e, b in with_main)
    key = [b for b in tax if tax[b] >= TEN_MILLION / CENT]
    count = len(buildings)

    def share(part: int, whole: int) -> float | None:
        return 100 * part / whole if whole else None

    def holds(attribute: str, blank_holds: bool) -> int:
        return sum(
            1
            for b in buildings
            if (getattr(b, attribute) is None and blank_holds)
            or (getattr(b, attribute) or dt.date.max) <= day
        )

    leasable = sum(b.leasable for b in buildings)
    key_area = sum(occupied[b] for b in key)
    return {
        "gross_area": sum(b.gross for b in buildings) / 10_000,
        "leasable_area": leasable / 10_000,
        "occupancy_rate": share(sum(occupied.values()), leasable),
        "registration_rate": share(sum(plan.enterprises[e].registered for e in settled), len(settled)),
        "industry_concentration": share(in_main, len(with_main)),
        "tax_source_rate": share(
            sum(plan.enterprises[e].tax.get(year, 0) > 0 for e in settled), len(settled)
        ),
        "billion_buildings": sum(tax[b] >= BILLION / CENT for b in tax),
        "building_tax": sum(tax.values()) / 100_000_000,
        "tax_per_m2": sum(tax[b] for b in key) / key_area if key_area else None,
        "party_coverage": share(holds("party_org_since", False), count),
        "intermediary_coverage": share(holds("intermediary_since", False), count),
        "smart_platform_coverage": share(holds("smart_platform_since", False), count),
        "star_buildings": sum(
            1 for b in buildings if b.star_rating >= 1 and (b.star_since is None or b.star_since <= day)
        ),
        "featured_buildings": sum(
            1 for b in buildings if b.featured_type and (b.featured_since is None or b.featured_since <= day)
        ),
    }

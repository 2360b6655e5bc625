"""Plans the promotion work of a demo district: promoters, agencies, leads, activities, holds and signings.

Where a lead tours and signs follows one preference that a ranking model can later learn: a firm
leans toward buildings whose main industry is its own and whose tenants share its division or
section, whose rent fits its budget, in its preferred streets, with space of the size it needs free
on one floor. Tours are drawn from that preference and the signed building is among the tours.
As in a real district, some firms stretch: a share sign above their stated budget, and a share take
space a little outside the area range they gave (STRETCH_* below, measured in docs/matching.md).
"""

import bisect
import datetime as dt
import math
import random
import zlib
from dataclasses import dataclass, field

from crm.constants import LEAD_TRANSITIONS, ActivityKind, LeadChannel, LeadStage, UnitStatus
from crm.demo.district import DistrictPlan, EnterprisePlan, TenancyPlan, largest_remainder, matches
from crm.demo.names import LOST_REASONS, CreditCodes, NameMaker
from crm.demo.profiles import (
    OFFICE_DIVISIONS,
    RENT_BUDGET,
    SECTION_OF,
    TAX_INTENSITY,
    YEARS,
    DistrictProfile,
)
from matching.demo_text import business_scope_for

STAGE_SHARES = {
    LeadStage.NEW: 0.14,
    LeadStage.CONTACTED: 0.18,
    LeadStage.VISITING: 0.14,
    LeadStage.NEGOTIATING: 0.12,
    LeadStage.SIGNED: 0.06,
    LeadStage.SETTLED: 0.14,
    LeadStage.LOST: 0.22,
}
CHANNEL_WEIGHTS = {
    LeadChannel.DEPARTMENT: 20,
    LeadChannel.INDIVIDUAL: 10,
    LeadChannel.PROFESSIONAL: 18,
    LeadChannel.TEMPORARY: 4,
    LeadChannel.ENTERPRISE: 10,
    LeadChannel.GOVERNMENT: 12,
    LeadChannel.AGENCY: 14,
    LeadChannel.TENANT_REFERRAL: 12,
}
TEAM_NUMERALS = "一二三四五六七八九十"
MAX_RUN = 6  # a firm takes at most this many adjacent units on one floor
TEMPERATURE = 0.8  # of the softmax over building scores: lower makes choices more predictable
# Firms that stretch, decided by a hash of the lead's reference so the rest of the demo draws the
# same random numbers: per 100 leads, this many accept buildings up to STRETCH_BUDGET × budget (the
# others up to 1.1 × budget), and this many consider space up to STRETCH_AREA beyond either end.
STRETCH_BUDGET_PER_100, STRETCH_BUDGET = 25, 1.4
STRETCH_AREA_PER_100, STRETCH_AREA = 15, 0.1


def stage_counts(leads: int) -> dict[str, int]:
    counts = largest_remainder(leads, list(STAGE_SHARES.values()))
    return dict(zip(STAGE_SHARES, counts, strict=True))


def expected_signings(profile: DistrictProfile) -> int:
    counts = stage_counts(profile.leads)
    return counts[LeadStage.SIGNED] + counts[LeadStage.SETTLED]


@dataclass(slots=True, eq=False)
class PromoterPlan:
    username: str
    name: str
    team: str
    is_team_lead: bool
    street: int


@dataclass(slots=True, eq=False)
class AgencyPlan:
    name: str
    kind: str
    contact_name: str
    contact_phone: str


@dataclass(slots=True, eq=False)
class ActivityPlan:
    kind: str
    notes: str
    building: int | None = None
    unit: int | None = None
    at: dt.datetime | None = None
    next_follow_up: dt.datetime | None = None
    stage_to: str = ""  # the stage the lead moves to with this activity
    reason: str = ""


@dataclass(slots=True, eq=False)
class ReservationPlan:
    unit: int
    created_at: dt.datetime
    expires_on: dt.date
    released_at: dt.datetime | None = None


@dataclass(slots=True, eq=False)
class SigningPlan:
    building: int
    units: list[int]
    area: int
    rent: float
    signed_on: dt.date
    enterprise: int
    tenancy: int


@dataclass(slots=True, eq=False)
class LeadPlan:
    ref: str
    stage: str
    company_name: str
    industry: str
    area_min: int
    area_max: int
    budget_rent: float
    expected_tax: int
    employees: int
    headquarters: bool
    channel: str
    created_at: dt.datetime
    credit_code: str = ""
    scope: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    preferred_streets: list[int] = field(default_factory=list)
    desired_move_in: dt.date | None = None
    owner: int | None = None
    agency: int | None = None
    referred_by: int | None = None
    lost_reason: str = ""
    case_by_case: bool = False
    activities: list[ActivityPlan] = field(default_factory=list)
    stage_changes: list[tuple[str, str, dt.datetime, str]] = field(default_factory=list)
    reservations: list[ReservationPlan] = field(default_factory=list)
    signing: SigningPlan | None = None
    last_activity_at: dt.datetime | None = None


@dataclass(eq=False)
class PipelinePlan:
    promoters: list[PromoterPlan] = field(default_factory=list)
    agencies: list[AgencyPlan] = field(default_factory=list)
    leads: list[LeadPlan] = field(default_factory=list)


class BuildingMarket:
    """What each building offers on a day: runs of adjacent vacant units, tenant mix, rent."""

    def __init__(self, plan: DistrictPlan) -> None:
        self.plan = plan
        self.runs: dict[int, tuple[list[int], list[tuple]]] = {}
        self.mix_division: list[dict[str, int]] = [{} for _ in plan.buildings]
        self.mix_section: list[dict[str, int]] = [{} for _ in plan.buildings]
        self.tenants = [0] * len(plan.buildings)
        settled = plan.settled(plan.as_of)
        self.settled_enterprises = sorted(settled)  # who can refer a firm (以商招商)
        for e, tenancies in settled.items():
            for t in tenancies:
                self.add_tenant(plan.tenancies[t].building, plan.enterprises[e].industry)

    def add_tenant(self, building: int, industry: str) -> None:
        self.tenants[building] += 1
        mix = self.mix_division[building]
        mix[industry] = mix.get(industry, 0) + 1
        section = SECTION_OF.get(industry, "")
        self.mix_section[building][section] = self.mix_section[building].get(section, 0) + 1

    def _runs(self, building: int) -> tuple[list[int], list[tuple]]:
        """Runs of 1..MAX_RUN adjacent vacant units on one floor, sorted by area."""
        if building not in self.runs:
            units = self.plan.units
            found = []
            floor_units: dict[int, list[int]] = {}
            for u in self.plan.buildings[building].units:
                floor_units.setdefault(units[u].floor, []).append(u)
            for row in floor_units.values():
                for i in range(len(row)):
                    area, free = 0, dt.date.min
                    for j in range(i, min(i + MAX_RUN, len(row))):
                        unit = units[row[j]]
                        if unit.status != UnitStatus.VACANT:
                            break
                        area += unit.area
                        free = max(free, unit.free_from)
                        found.append((area, free, tuple(row[i : j + 1])))
            found.sort()
            self.runs[building] = ([run[0] for run in found], found)
        return self.runs[building]

    def space(self, building: int, low: int, high: int, day: dt.date) -> tuple[int, ...] | None:
        """The smallest run of at least `low` m² (at most `high`) free from `day`, or None."""
        areas, runs = self._runs(building)
        for index in range(bisect.bisect_left(areas, low), bisect.bisect_right(areas, high)):
            if runs[index][1] <= day:
                return runs[index][2]
        return None

    def take(self, building: int, units: tuple[int, ...], status: str) -> None:
        for u in units:
            self.plan.units[u].status = status
        self.runs.pop(building, None)


class PipelinePlanner:
    """Plans promoters, agencies and leads of a DistrictPlan; signings add enterprises and tenancies."""

    def __init__(
        self,
        *,
        plan: DistrictPlan,
        rng: random.Random,
        names: NameMaker,
        codes: CreditCodes,
        usernames: str,
        first_lead: int,
        agency_home: str,
    ) -> None:
        self.plan = plan
        self.profile = plan.profile
        self.rng = rng
        self.names = names
        self.codes = codes
        self.usernames = usernames  # a format with one {n}
        self.first_lead = first_lead
        self.agency_home = agency_home
        self.as_of = plan.as_of
        self.market = BuildingMarket(plan)
        self.result = PipelinePlan()

    def run(self) -> PipelinePlan:
        self._promoters()
        self._agencies()
        self._leads()
        self._fill_activities()
        for lead in self.result.leads:
            self._timeline(lead)
        return self.result

    # -- people --------------------------------------------------------------------------------
    def _promoters(self) -> None:
        profile = self.profile
        per_team = largest_remainder(profile.promoters, [1.0] * profile.teams)
        n = 0
        for team, size in enumerate(per_team):
            street = team % len(profile.streets)
            label = f"招商{TEAM_NUMERALS[team % 10]}组（{profile.streets[street].name}）"
            for member in range(size):
                n += 1
                self.result.promoters.append(
                    PromoterPlan(self.usernames.format(n=n), self.names.person(), label, member == 0, street)
                )

    def _agencies(self) -> None:
        kinds = ("intermediary", "intermediary", "service_firm", "chamber")
        for i in range(self.profile.agencies):
            kind = kinds[i % len(kinds)]
            self.result.agencies.append(
                AgencyPlan(
                    self.names.agency(kind, self.agency_home), kind, self.names.person(), self.names.phone()
                )
            )

    # -- leads ---------------------------------------------------------------------------------
    def _leads(self) -> None:
        counts = stage_counts(self.profile.leads)
        stages = [stage for stage, count in counts.items() for _ in range(count)]
        self.rng.shuffle(stages)
        leads = [self._lead(i, stage) for i, stage in enumerate(stages)]
        # Signings in date order, so each takes space that is free on its day; then the live holds.
        signing = [lead for lead in leads if lead.stage in (LeadStage.SIGNED, LeadStage.SETTLED)]
        working = [lead for lead in leads if lead.stage not in (LeadStage.SIGNED, LeadStage.SETTLED)]
        for lead in sorted(signing, key=lambda lead: (lead.created_at, lead.ref)):
            self._sign(lead)
        for lead in working:
            self._work(lead)
        self.result.leads = leads

    def _lead(self, i: int, stage: str) -> LeadPlan:
        rng, names = self.rng, self.names
        division = self._industry()
        section = SECTION_OF[division]
        area_min = int(max(60, min(4000, math.exp(rng.gauss(math.log(230), 0.7)))) // 10 * 10)
        area_max = int(area_min * rng.uniform(1.3, 2.0)) // 10 * 10
        headquarters = rng.random() < (0.4 if area_max >= 1500 else 0.05)
        per_m2 = TAX_INTENSITY.get(section, 0.7) * 350 * math.exp(rng.gauss(0, 0.6))
        expected_tax = int((area_min + area_max) / 2 * per_m2 * (3 if headquarters else 1)) // 1000 * 1000
        age = {
            LeadStage.NEW: (0, 20),
            LeadStage.CONTACTED: (7, 60),
            LeadStage.VISITING: (20, 90),
            LeadStage.NEGOTIATING: (30, 150),
            LeadStage.SIGNED: (60, 200),
            LeadStage.SETTLED: (200, 520),
            LeadStage.LOST: (20, 420),
        }[stage]
        created = self._moment(self.as_of - dt.timedelta(days=rng.randint(*age)))
        channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
        lead = LeadPlan(
            ref=f"ZS{created.year}{self.first_lead + i:06d}",
            stage=stage,
            company_name=names.company(division, local=rng.random() < 0.4),
            industry=division,
            area_min=area_min,
            area_max=area_max,
            budget_rent=round(RENT_BUDGET.get(section, 2.2) * rng.uniform(0.75, 1.3) * 20) / 20,
            expected_tax=expected_tax,
            employees=max(3, round((area_min + area_max) / 2 / rng.uniform(6, 12))),
            headquarters=headquarters,
            channel=channel,
            created_at=created,
            contact_name=names.person(),
            contact_phone=names.phone(),
        )
        lead.scope = business_scope_for(division, rng)
        lead.case_by_case = (expected_tax >= 5_000_000 or area_min >= 2000) and rng.random() < 0.7
        if rng.random() < 0.7 or stage in (LeadStage.SIGNED, LeadStage.SETTLED):
            lead.credit_code = self.codes.next("330602" if rng.random() < 0.3 else "330106")
        streets = len(self.profile.streets)
        lead.preferred_streets = sorted(rng.sample(range(streets), rng.choices((0, 1, 2), (40, 45, 15))[0]))
        promoters = self.result.promoters
        lead.owner = rng.randrange(len(promoters))
        # The demo promoter (the first) works a full desk, so a demo login has leads in every stage.
        if i < len(STAGE_SHARES) * 3 or rng.random() < 0.08:
            lead.owner = 0
        if channel == LeadChannel.AGENCY and self.result.agencies:
            lead.agency = rng.randrange(len(self.result.agencies))
            if stage == LeadStage.NEW and rng.random() < 0.5:
                lead.owner = None  # submitted by the agency, not yet assigned
        if channel == LeadChannel.TENANT_REFERRAL:
            tenants = self.market.settled_enterprises
            lead.referred_by = rng.choice(tenants) if tenants else None
        if stage in (LeadStage.NEW, LeadStage.CONTACTED, LeadStage.VISITING, LeadStage.NEGOTIATING):
            lead.desired_move_in = self.as_of + dt.timedelta(days=rng.randint(30, 270))
        return lead

    def _industry(self) -> str:
        codes = [code for code, _, _ in OFFICE_DIVISIONS]
        return self.rng.choices(codes, weights=[weight for _, _, weight in OFFICE_DIVISIONS])[0]

    def _moment(self, day: dt.date) -> dt.datetime:
        """A working-hours moment on `day`, on a five-minute mark."""
        return dt.datetime.combine(day, dt.time(self.rng.randint(9, 17), 5 * self.rng.randint(0, 11)))

    # -- preference --------------------------------------------------------------------------
    def score(self, lead: LeadPlan, b: int) -> float:
        building = self.plan.buildings[b]
        market = self.market
        section = SECTION_OF.get(lead.industry, "")
        value = 0.0
        main = building.main_industry
        if main and matches(lead.industry, main):
            value += 2.0 if len(main) == 2 else 1.4
        elif main and len(main) == 2 and SECTION_OF.get(main) == section:
            value += 0.6
        tenants = market.tenants[b] or 1
        value += 4.0 * market.mix_division[b].get(lead.industry, 0) / tenants
        value += 1.5 * market.mix_section[b].get(section, 0) / tenants
        rent = (building.rent_min + building.rent_max) / 2
        value += -4.0 * (rent / lead.budget_rent - 1) if rent > lead.budget_rent else 0.3
        if building.street in lead.preferred_streets:
            value += 0.8
        if lead.headquarters or lead.area_min >= 1000:
            value += 0.15 * building.star_rating
        return value

    @staticmethod
    def stretch(lead: LeadPlan) -> tuple[float, int, int]:
        """(highest rent / budget it accepts, least and most m² it considers) for the lead."""
        draw = zlib.crc32(lead.ref.encode())
        budget = STRETCH_BUDGET if draw % 100 < STRETCH_BUDGET_PER_100 else 1.1
        if (draw // 100) % 100 < STRETCH_AREA_PER_100:
            return budget, int(lead.area_min * (1 - STRETCH_AREA)), int(lead.area_max * (1 + STRETCH_AREA))
        return budget, lead.area_min, lead.area_max

    def choose(self, lead: LeadPlan, day: dt.date, count: int, exclude: tuple[int, ...] = ()) -> list[int]:
        """Up to `count` buildings with space for the lead on `day`, drawn by the softmax of their scores."""
        candidates = []
        budget, low, high = self.stretch(lead)
        for b, building in enumerate(self.plan.buildings):
            if b in exclude or not building.in_service(day):
                continue
            # Most firms keep to their budget with the 10% a negotiation moves; some stretch further.
            if building.rent_min > lead.budget_rent * budget:
                continue
            if self.market.space(b, low, high, day) is not None:
                candidates.append((b, self.score(lead, b)))
        chosen = []
        while candidates and len(chosen) < count:
            top = max(score for _, score in candidates)
            weights = [math.exp((score - top) / TEMPERATURE) for _, score in candidates]
            pick = self.rng.choices(range(len(candidates)), weights=weights)[0]
            chosen.append(candidates.pop(pick)[0])
        return chosen

    # -- signing and working leads -------------------------------------------------------------
    def _sign(self, lead: LeadPlan) -> None:
        rng = self.rng
        if lead.stage == LeadStage.SETTLED:
            signed_on = self.as_of - dt.timedelta(days=rng.randint(90, 400))
        else:
            signed_on = self.as_of - dt.timedelta(days=rng.randint(1, 50))
        # Never inside the plan years, whose figures the district plan has already fixed.
        after_plan = dt.date(YEARS[-1] + 1, 1, 1)
        signed_on = min(
            max(signed_on, lead.created_at.date() + dt.timedelta(days=30), after_plan), self.as_of
        )
        chosen: list[int] = []
        for _ in range(4):
            chosen = self.choose(lead, signed_on, 1)
            if chosen:
                break
            # Nothing of its size is free: the firm widens its range, both ways.
            lead.area_min = max(40, int(lead.area_min * 0.7) // 10 * 10)
            lead.area_max = int(lead.area_max * 1.4) // 10 * 10
        if not chosen:
            lead.stage = LeadStage.NEGOTIATING
            lead.desired_move_in = self.as_of + dt.timedelta(days=rng.randint(30, 120))
            self._work(lead)
            return
        b = chosen[0]
        _, low, high = self.stretch(lead)
        units = self.market.space(b, low, high, signed_on)
        assert units is not None
        self.market.take(b, units, UnitStatus.LEASED)
        plan = self.plan
        area = sum(plan.units[u].area for u in units)
        rent = (
            sum(plan.units[u].asking_rent * plan.units[u].area for u in units) / area * rng.uniform(0.9, 1.0)
        )
        enterprise = EnterprisePlan(
            credit_code=lead.credit_code,
            name=lead.company_name,
            industry=lead.industry,
            registered=True,  # the entry threshold: register, settle and pay tax in the district
            settles=True,
            headquarters=lead.headquarters,
            employees=lead.employees,
            scope=lead.scope,
        )
        end = signed_on + dt.timedelta(days=3 * 365 - 1)  # a three-year lease
        tenancy = TenancyPlan(b, list(units), area, signed_on, end, enterprise=len(plan.enterprises))
        enterprise.tenancies.append(len(plan.tenancies))
        plan.enterprises.append(enterprise)
        plan.tenancies.append(tenancy)
        for u in units:
            plan.units[u].free_from = dt.date.max
            plan.units[u].available_from = end + dt.timedelta(days=1)
        self.market.add_tenant(b, lead.industry)
        lead.signing = SigningPlan(
            b, list(units), area, round(rent, 2), signed_on, tenancy.enterprise, len(plan.tenancies) - 1
        )
        lead.desired_move_in = signed_on + dt.timedelta(days=rng.randint(0, 30))
        # Tours: the signed building and up to three others the firm also liked.
        others = self.choose(lead, signed_on, rng.randint(0, 3), exclude=(b,))
        tours = [b, *others]
        rng.shuffle(tours)
        self._script(lead, tours, end_day=signed_on)

    def _work(self, lead: LeadPlan) -> None:
        rng = self.rng
        tours: list[int] = []
        reaches_tours = lead.stage in (LeadStage.VISITING, LeadStage.NEGOTIATING) or (
            lead.stage == LeadStage.LOST and rng.random() < 0.5
        )
        if reaches_tours:
            tours = self.choose(lead, self.as_of, rng.randint(1, 3))
            if not tours:
                # Nothing of its size is free: it still toured the building it liked best.
                scores = [(self.score(lead, b), b) for b in range(len(self.plan.buildings))]
                tours = [max(scores)[1]]
        if lead.stage == LeadStage.NEGOTIATING and tours and rng.random() < 0.5:
            units = self.market.space(tours[0], lead.area_min, lead.area_max, self.as_of)
            if units is not None:
                self.market.take(tours[0], units, UnitStatus.RESERVED)
                held = self._moment(self.as_of - dt.timedelta(days=rng.randint(1, 20)))
                for u in units:
                    lead.reservations.append(
                        ReservationPlan(u, held, self.as_of + dt.timedelta(days=rng.randint(3, 30)))
                    )
        self._script(lead, tours, end_day=None)

    # -- what happened, in order ---------------------------------------------------------------
    def _script(self, lead: LeadPlan, tours: list[int], end_day: dt.date | None) -> None:
        """The lead's activities in order; each may move the lead to its next stage."""
        rng, plan = self.rng, self.plan
        stage = lead.stage
        contact = lead.contact_name
        acts = lead.activities
        if stage == LeadStage.NEW:
            if rng.random() < 0.6:
                acts.append(
                    ActivityPlan(ActivityKind.NOTE, f"线索录入：{lead.company_name}，需求约{lead.area_min}㎡")
                )
            return
        lost_before = ""
        if stage == LeadStage.LOST:
            lost_before = (
                LeadStage.VISITING
                if tours
                else rng.choice(
                    (LeadStage.NEW, LeadStage.CONTACTED, LeadStage.CONTACTED, LeadStage.NEGOTIATING)
                )
            )
        if lost_before != LeadStage.NEW:
            acts.append(
                ActivityPlan(
                    ActivityKind.CALL,
                    f"电话联系{contact}，了解选址需求：{lead.area_min}-{lead.area_max}㎡，预算{lead.budget_rent}元/㎡·天",
                    stage_to=LeadStage.CONTACTED,
                )
            )
            if rng.random() < 0.5:
                acts.append(ActivityPlan(ActivityKind.EMAIL, "发送楼宇推介材料及产业扶持政策汇编"))
            if rng.random() < 0.5:
                acts.append(ActivityPlan(ActivityKind.VISIT, f"上门拜访{contact}，介绍区位与配套"))
        if stage == LeadStage.CONTACTED and rng.random() < 0.08:
            # Reopened: the firm went quiet, was marked lost, then came back.
            acts.append(
                ActivityPlan(
                    ActivityKind.NOTE,
                    "企业暂停选址，标记流失",
                    stage_to=LeadStage.LOST,
                    reason="企业暂缓扩张计划",
                )
            )
            acts.append(
                ActivityPlan(ActivityKind.CALL, f"{contact}来电，重新启动选址", stage_to=LeadStage.CONTACTED)
            )
        for n, b in enumerate(tours):
            if lead.signing is not None and b == lead.signing.building:
                unit: int | None = lead.signing.units[0]
            else:
                units = self.market.space(b, lead.area_min, lead.area_max, end_day or self.as_of)
                unit = units[0] if units else None
            where = plan.buildings[b].name + (f" {plan.units[unit].number}室" if unit is not None else "")
            acts.append(
                ActivityPlan(
                    ActivityKind.SITE_TOUR,
                    f"陪同{contact}实地看房：{where}",
                    building=b,
                    unit=unit,
                    stage_to=LeadStage.VISITING if n == 0 else "",
                )
            )
        negotiates = stage in (LeadStage.NEGOTIATING, LeadStage.SIGNED, LeadStage.SETTLED) or (
            lost_before == LeadStage.NEGOTIATING
        )
        if negotiates:
            for n in range(rng.randint(1, 2)):
                acts.append(
                    ActivityPlan(
                        ActivityKind.MEETING,
                        f"商务洽谈：租金{lead.budget_rent}元/㎡·天，免租期{rng.randint(1, 6)}个月",
                        stage_to=LeadStage.NEGOTIATING if n == 0 else "",
                    )
                )
        if lead.signing is not None:
            building = plan.buildings[lead.signing.building]
            acts.append(
                ActivityPlan(
                    ActivityKind.MEETING,
                    f"签约：{building.name}，{lead.signing.area}㎡",
                    building=lead.signing.building,
                    stage_to=LeadStage.SIGNED,
                )
            )
            if stage == LeadStage.SETTLED:
                acts.append(
                    ActivityPlan(
                        ActivityKind.VISIT, "入驻回访：装修进度与政策申报", stage_to=LeadStage.SETTLED
                    )
                )
        if stage == LeadStage.LOST:
            lead.lost_reason = rng.choice(LOST_REASONS)
            acts.append(
                ActivityPlan(
                    ActivityKind.NOTE,
                    f"线索流失：{lead.lost_reason}",
                    stage_to=LeadStage.LOST,
                    reason=lead.lost_reason,
                )
            )

    def _fill_activities(self) -> None:
        """With a fixed activity total (city scale), add calls, e-mails and notes to reach it exactly."""
        wanted = self.profile.activities
        if not wanted:
            return
        leads = [lead for lead in self.result.leads if len(lead.activities) >= 2]
        missing = wanted - sum(len(lead.activities) for lead in self.result.leads)
        if missing <= 0 or not leads:
            return
        extra = largest_remainder(missing, [self.rng.uniform(0.2, 1.8) for _ in leads])
        kinds = (
            ActivityKind.CALL,
            ActivityKind.CALL,
            ActivityKind.EMAIL,
            ActivityKind.NOTE,
            ActivityKind.VISIT,
        )
        notes = {
            ActivityKind.CALL: "电话跟进，确认需求与决策进度",
            ActivityKind.EMAIL: "发送补充资料：房源平面图与报价",
            ActivityKind.NOTE: "内部记录：更新需求信息",
            ActivityKind.VISIT: "上门拜访，沟通政策申报材料",
        }
        for lead, count in zip(leads, extra, strict=True):
            for _ in range(count):
                kind = self.rng.choice(kinds)
                position = self.rng.randint(1, len(lead.activities) - 1)
                lead.activities.insert(position, ActivityPlan(kind, notes[kind]))

    def _timeline(self, lead: LeadPlan) -> None:
        """Give each activity its moment and the lead its stage changes, last activity and follow-up."""
        rng = self.rng
        acts = lead.activities
        open_lead = lead.stage in (
            LeadStage.NEW,
            LeadStage.CONTACTED,
            LeadStage.VISITING,
            LeadStage.NEGOTIATING,
        )
        if lead.signing is not None:
            finish = dt.datetime.combine(lead.signing.signed_on, dt.time(15, 0))
        elif open_lead:
            finish = self._moment(self.as_of - dt.timedelta(days=rng.randint(0, 10)))
        else:
            finish = self._moment(self.as_of - dt.timedelta(days=rng.randint(1, 15)))
        finish = max(finish, lead.created_at + dt.timedelta(hours=1))
        after = [a for a in acts if a.stage_to == LeadStage.SETTLED]
        before = [a for a in acts if a.stage_to != LeadStage.SETTLED]
        moments = self._moments(lead.created_at, finish, len(before))
        for activity, moment in zip(before, moments, strict=True):
            activity.at = moment
        if after and lead.signing is not None:
            moved_in = lead.signing.signed_on + dt.timedelta(days=rng.randint(15, 60))
            moved_in = min(moved_in, self.as_of - dt.timedelta(days=1))
            after[0].at = max(self._moment(moved_in), finish + dt.timedelta(hours=1))
        # Each activity sets the next one as its follow-up; the last of an open lead falls due about now.
        for current, following in zip(acts, acts[1:], strict=False):
            if rng.random() < 0.6:
                current.next_follow_up = dt.datetime.combine(following.at.date(), dt.time(10, 0))
                if current.next_follow_up <= current.at:
                    current.next_follow_up = None
        if acts and open_lead:
            due = dt.datetime.combine(self.as_of + dt.timedelta(days=rng.randint(-6, 12)), dt.time(10, 0))
            acts[-1].next_follow_up = max(due, acts[-1].at + dt.timedelta(hours=2))
        stage = LeadStage.NEW
        for activity in acts:
            if activity.stage_to and activity.stage_to != stage:
                assert activity.stage_to in LEAD_TRANSITIONS[stage], (lead.ref, stage, activity.stage_to)
                lead.stage_changes.append((stage, activity.stage_to, activity.at, activity.reason))
                stage = activity.stage_to
        assert stage == lead.stage, (lead.ref, stage, lead.stage)
        lead.last_activity_at = acts[-1].at if acts else lead.created_at

    def _moments(self, start: dt.datetime, finish: dt.datetime, count: int) -> list[dt.datetime]:
        """`count` strictly increasing moments after `start`, mostly in working hours, the last at finish."""
        if count == 0:
            return []
        span_days = max(0, (finish.date() - start.date()).days)
        days = sorted(self.rng.randint(0, span_days) for _ in range(count - 1))
        moments, previous = [], start
        for offset in days:
            moment = max(
                self._moment(start.date() + dt.timedelta(days=offset)), previous + dt.timedelta(minutes=5)
            )
            moments.append(moment)
            previous = moment
        if moments and moments[-1] >= finish:
            # Too many in too short a time: space them evenly instead.
            step = (finish - start) / count
            moments = [start + step * (i + 1) for i in range(count - 1)]
        return [*moments, finish]

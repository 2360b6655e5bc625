"""Writes planned demo districts to the database with bulk inserts in batches, in one transaction.

Bulk inserts skip save(), signals and simple-history, which is what makes the city scale fast; so the
writer fills the derived columns save() would (normalised names), and the signing, tenancy and unit
rows are written consistent with one another, as crm's services would leave them.
"""

import datetime as dt
import random
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import islice

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Group
from django.db.models import F, Model
from django.utils import timezone

from crm import models
from crm.constants import LawfulBasis, LeadStage, Role, StreetKind
from crm.demo.district import CENT, YEARS, DistrictPlan, largest_remainder
from crm.demo.leases import lease_terms
from crm.demo.pipeline import PipelinePlan
from crm.names import normalise_company_name

BATCH = 2000
TWO_PLACES = Decimal("0.01")


def batched(rows: Iterable, size: int = BATCH) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def money(cents: int) -> Decimal:
    return (Decimal(cents) / CENT).quantize(TWO_PLACES)


def decimal(value: float, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places))


class DemoWriter:
    """Inserts plans and keeps the counts of what it wrote, table by table."""

    def __init__(self, *, rng: random.Random) -> None:
        self.rng = rng
        self.counts: dict[str, int] = {}
        self.first_pk: dict[str, int] = {}
        self.tz = timezone.get_default_timezone()
        self.promoter_group = Group.objects.get(name=Role.PROMOTER)

    def _insert(self, model: type[Model], rows: Iterable[Model]) -> list[Model]:
        created: list[Model] = []
        for chunk in batched(rows):
            created.extend(model.objects.bulk_create(chunk))
        key = model._meta.label
        self.counts[key] = self.counts.get(key, 0) + len(created)
        if created and key not in self.first_pk:
            self.first_pk[key] = created[0].pk
        return created

    def _aware(self, moment: dt.datetime | None) -> dt.datetime | None:
        return None if moment is None else timezone.make_aware(moment, self.tz)

    def write(self, plan: DistrictPlan, pipeline: PipelinePlan) -> None:
        streets = self._insert(
            models.Street,
            (models.Street(name=s.name, kind=StreetKind.SUBDISTRICT) for s in plan.profile.streets),
        )
        circle_names = sorted({b.circle for b in plan.buildings if b.circle})
        circles = {
            c.name: c
            for c in self._insert(
                models.BusinessCircle, (models.BusinessCircle(name=n) for n in circle_names)
            )
        }
        buildings = self._buildings(plan, streets, circles)
        units = self._insert(
            models.Unit,
            (
                models.Unit(
                    building_id=buildings[u.building].pk,
                    floor=u.floor,
                    number=u.number,
                    area_m2=Decimal(u.area),
                    status=u.status,
                    asking_rent=decimal(u.asking_rent),
                    available_from=u.available_from,
                )
                for u in plan.units
            ),
        )
        enterprises = self._enterprises(plan)
        tenancies = self._tenancies(plan, buildings, units, enterprises)
        self._tax(plan, enterprises)
        self._pipeline(plan, pipeline, streets, buildings, units, enterprises, tenancies)

    def _buildings(self, plan: DistrictPlan, streets: list, circles: dict) -> list:
        def row(b) -> models.Building:
            return models.Building(
                code=b.code,
                name=b.name,
                street_id=streets[b.street].pk,
                business_circle_id=circles[b.circle].pk if b.circle else None,
                address=b.address,
                gross_area_m2=Decimal(b.gross),
                leasable_area_m2=Decimal(b.leasable),
                floors=b.floors,
                in_service_since=b.in_service_since,
                star_rating=b.star_rating,
                star_since=b.star_since,
                featured_type=b.featured_type,
                featured_since=b.featured_since,
                main_industry_id=b.main_industry,
                party_org_since=b.party_org_since,
                intermediary_since=b.intermediary_since,
                smart_platform_since=b.smart_platform_since,
                rent_min=decimal(b.rent_min),
                rent_max=decimal(b.rent_max),
                lat=decimal(b.lat, "0.000001"),
                lng=decimal(b.lng, "0.000001"),
            )

        return self._insert(models.Building, (row(b) for b in plan.buildings))

    def _enterprises(self, plan: DistrictPlan) -> list:
        return self._insert(
            models.Enterprise,
            (
                models.Enterprise(
                    credit_code=e.credit_code,
                    name=e.name,
                    normalised_name=normalise_company_name(e.name),
                    industry_id=e.industry,
                    registered_in_district=e.registered,
                    settles_in_district=e.settles,
                    is_headquarters=e.headquarters,
                    employees=e.employees,
                    business_scope=e.scope,
                )
                for e in plan.enterprises
            ),
        )

    def _tenancies(self, plan: DistrictPlan, buildings: list, units: list, enterprises: list) -> list:
        """Each planned stay as its lease terms (crm.demo.leases); returns each stay's first lease."""
        terms = [lease_terms(i, t.start, t.end, as_of=plan.as_of) for i, t in enumerate(plan.tenancies)]
        rows = self._insert(
            models.Tenancy,
            (
                models.Tenancy(
                    enterprise_id=enterprises[t.enterprise].pk,
                    building_id=buildings[t.building].pk,
                    area_m2=Decimal(t.area),
                    start=start,
                    end=end,
                )
                for t, leases in zip(plan.tenancies, terms, strict=True)
                for start, end in leases
            ),
        )
        self._insert(
            models.TenancyUnit,
            (
                models.TenancyUnit(tenancy_id=row.pk, unit_id=units[u].pk, start=row.start, end=row.end)
                for row, t in zip(
                    rows,
                    (t for t, leases in zip(plan.tenancies, terms, strict=True) for _ in leases),
                    strict=True,
                )
                for u in t.units
            ),
        )
        firsts, position = [], 0
        for leases in terms:
            firsts.append(rows[position])
            position += len(leases)
        return firsts

    def _tax(self, plan: DistrictPlan, enterprises: list) -> None:
        """A yearly total per firm and year, or monthly amounts (months it was here) adding up to it.

        The as-of year is not over: every firm's tax of it is monthly, for its full months to date."""
        rng, current = self.rng, plan.as_of.year
        # The years after the plan split their months with their own generator (seeded from the
        # writer's state without drawing from it), so the plan years' rows stay as they were.
        present_rng = random.Random(repr(rng.getstate()[1][:8]))

        def rows() -> Iterator[models.TaxRecord]:
            for e, enterprise in enumerate(plan.enterprises):
                pk = enterprises[e].pk
                for year in sorted(enterprise.tax):
                    cents = enterprise.tax[year]
                    if (not enterprise.monthly and year != current) or cents == 0:
                        yield models.TaxRecord(
                            enterprise_id=pk, year=year, month=None, amount_yuan=money(cents)
                        )
                        continue
                    months = self._months_present(plan, enterprise, year)
                    if year == current:
                        done = plan.as_of.month - 1  # the full months before the as-of date
                        months = [m for m in months if m <= done] or [done]
                    draw = rng if year in YEARS else present_rng
                    parts = largest_remainder(cents, [draw.uniform(0.6, 1.4) for _ in months])
                    for month, part in zip(months, parts, strict=True):
                        yield models.TaxRecord(
                            enterprise_id=pk, year=year, month=month, amount_yuan=money(part)
                        )

        self._insert(models.TaxRecord, rows())

    @staticmethod
    def _months_present(plan: DistrictPlan, enterprise, year: int) -> list[int]:
        months = set()
        for t in enterprise.tenancies:
            tenancy = plan.tenancies[t]
            first = max(tenancy.start, dt.date(year, 1, 1))
            last = min(tenancy.end or dt.date(year, 12, 31), dt.date(year, 12, 31))
            months.update(range(first.month, last.month + 1) if first <= last else ())
        return sorted(months) or [12]

    def _pipeline(
        self, plan, pipeline: PipelinePlan, streets, buildings, units, enterprises, tenancies
    ) -> None:
        User = get_user_model()
        joined = self._aware(dt.datetime.combine(plan.as_of - dt.timedelta(days=900), dt.time(9, 0)))
        # demo_login may have made the demo promoter's login before the district was seeded: reuse it.
        wanted = [p.username for p in pipeline.promoters]
        existing = {u.username: u for u in User.objects.filter(username__in=wanted)}
        made = iter(
            self._insert(
                User,
                (
                    User(
                        username=p.username,
                        first_name=p.name[1:],
                        last_name=p.name[:1],
                        # Unusable; demo_login gives the demo logins a password.
                        password=f"{UNUSABLE_PASSWORD_PREFIX}demo",
                        date_joined=joined,
                    )
                    for p in pipeline.promoters
                    if p.username not in existing
                ),
            )
        )
        users = [existing[name] if name in existing else next(made) for name in wanted]
        self._insert(
            User.groups.through,
            (
                User.groups.through(user_id=u.pk, group_id=self.promoter_group.pk)
                for u in users
                if u.username not in existing
            ),
        )
        for user in existing.values():
            user.groups.add(self.promoter_group)
        known = {p.user_id: p for p in models.Promoter.objects.filter(user__in=list(existing.values()))}
        made_promoters = iter(
            self._insert(
                models.Promoter,
                (
                    models.Promoter(
                        user_id=users[i].pk,
                        name=p.name,
                        team=p.team,
                        is_team_lead=p.is_team_lead,
                        street_id=streets[p.street].pk,
                    )
                    for i, p in enumerate(pipeline.promoters)
                    if users[i].pk not in known
                ),
            )
        )
        promoters = [known[u.pk] if u.pk in known else next(made_promoters) for u in users]
        for i, p in enumerate(pipeline.promoters):
            if users[i].pk in known:
                promoter = known[users[i].pk]
                promoter.name, promoter.team, promoter.is_team_lead = p.name, p.team, p.is_team_lead
                promoter.street_id = streets[p.street].pk
                promoter.save()
        agencies = self._insert(
            models.Agency,
            (
                models.Agency(
                    name=a.name, kind=a.kind, contact_name=a.contact_name, contact_phone=a.contact_phone
                )
                for a in pipeline.agencies
            ),
        )
        leads = self._insert(
            models.Lead,
            (
                models.Lead(
                    ref=lead.ref,
                    company_name=lead.company_name,
                    normalised_name=normalise_company_name(lead.company_name),
                    credit_code=lead.credit_code,
                    industry_id=lead.industry,
                    business_scope=lead.scope,
                    contact_name=lead.contact_name,
                    contact_phone=lead.contact_phone,
                    # As every entry point asks (crm.services.leads): a contact comes with its basis.
                    lawful_basis=LawfulBasis.CONSENT if lead.contact_name or lead.contact_phone else "",
                    lawful_basis_recorded_at=self._aware(lead.created_at)
                    if lead.contact_name or lead.contact_phone
                    else None,
                    area_min_m2=Decimal(lead.area_min),
                    area_max_m2=Decimal(lead.area_max),
                    budget_rent=decimal(lead.budget_rent),
                    expected_annual_tax=Decimal(lead.expected_tax),
                    employees=lead.employees,
                    is_headquarters=lead.headquarters,
                    desired_move_in=lead.desired_move_in,
                    channel=lead.channel,
                    owner_id=promoters[lead.owner].pk if lead.owner is not None else None,
                    agency_id=agencies[lead.agency].pk if lead.agency is not None else None,
                    referred_by_id=enterprises[lead.referred_by].pk if lead.referred_by is not None else None,
                    stage=lead.stage,
                    lost_reason=lead.lost_reason,
                    case_by_case=lead.case_by_case,
                    created_at=self._aware(lead.created_at),
                    last_activity_at=self._aware(lead.last_activity_at),
                    version=1 + len(lead.stage_changes),
                )
                for lead in pipeline.leads
            ),
        )
        self._insert(
            models.Lead.preferred_streets.through,
            (
                models.Lead.preferred_streets.through(lead_id=leads[i].pk, street_id=streets[s].pk)
                for i, lead in enumerate(pipeline.leads)
                for s in lead.preferred_streets
            ),
        )

        def user_of(lead) -> int | None:
            return users[lead.owner].pk if lead.owner is not None else None

        self._insert(
            models.StageChange,
            (
                models.StageChange(
                    lead_id=leads[i].pk,
                    from_stage=source,
                    to_stage=target,
                    reason=reason,
                    changed_by_id=user_of(lead),
                    changed_at=self._aware(moment),
                )
                for i, lead in enumerate(pipeline.leads)
                for source, target, moment, reason in lead.stage_changes
            ),
        )
        self._insert(
            models.Activity,
            (
                models.Activity(
                    lead_id=leads[i].pk,
                    kind=a.kind,
                    occurred_at=self._aware(a.at),
                    building_id=buildings[a.building].pk if a.building is not None else None,
                    unit_id=units[a.unit].pk if a.unit is not None else None,
                    promoter_id=promoters[lead.owner].pk if lead.owner is not None else None,
                    notes=a.notes,
                    next_follow_up_at=self._aware(a.next_follow_up),
                )
                for i, lead in enumerate(pipeline.leads)
                for a in lead.activities
            ),
        )
        self._insert(
            models.Reservation,
            (
                models.Reservation(
                    lead_id=leads[i].pk,
                    unit_id=units[r.unit].pk,
                    promoter_id=promoters[lead.owner].pk if lead.owner is not None else None,
                    created_at=self._aware(r.created_at),
                    expires_on=r.expires_on,
                    released_at=self._aware(r.released_at),
                )
                for i, lead in enumerate(pipeline.leads)
                for r in lead.reservations
            ),
        )
        signed = [(i, lead) for i, lead in enumerate(pipeline.leads) if lead.signing is not None]
        signings = self._insert(
            models.Signing,
            (
                models.Signing(
                    lead_id=leads[i].pk,
                    building_id=buildings[lead.signing.building].pk,
                    enterprise_id=enterprises[lead.signing.enterprise].pk,
                    tenancy_id=tenancies[lead.signing.tenancy].pk,
                    area_m2=Decimal(lead.signing.area),
                    rent=decimal(lead.signing.rent),
                    signed_on=lead.signing.signed_on,
                    signed_by_id=promoters[lead.owner].pk if lead.owner is not None else None,
                    # A settled lead's signing was verified when the lead moved to settled, as
                    # signing_settle records it: the appraisal counts results from then on.
                    settled_at=self._aware(_settled_at(lead)),
                )
                for i, lead in signed
            ),
        )
        self._insert(
            models.Signing.units.through,
            (
                models.Signing.units.through(signing_id=signing.pk, unit_id=units[u].pk)
                for signing, (_, lead) in zip(signings, signed, strict=True)
                for u in lead.signing.units
            ),
        )

    def finish(self) -> None:
        """Bulk inserts stamp auto_now(_add) columns with the wall clock; give them the planned moments."""
        first = self.first_pk
        if models.Activity._meta.label in first:
            activities = models.Activity.objects.filter(pk__gte=first[models.Activity._meta.label])
            activities.update(created_at=F("occurred_at"))
        if models.Lead._meta.label in first:
            models.Lead.objects.filter(pk__gte=first[models.Lead._meta.label]).update(
                updated_at=F("last_activity_at")
            )


def _settled_at(lead) -> dt.datetime | None:
    """When a planned lead moved to settled (its signing's verification), or None."""
    return next((at for _, to, at, _ in lead.stage_changes if to == LeadStage.SETTLED), None)

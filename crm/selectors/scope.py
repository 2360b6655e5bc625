"""The one place that says which rows a user may see or change, for every CRM model.

Admin, API and pages call `visible_to` and nothing else; a second copy of these rules is a bug.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import F, Model, Q, QuerySet

from crm import models as m
from crm.constants import Role
from crm.roles import user_role
from crm.selectors.compiled import SLOT_ID, Compiled
from matching import models as mm
from policies import models as pm
from retention import models as rm

VIEW = "view"
CHANGE = "change"
# Choose a row as the value of a foreign key or many-to-many field on a row one writes (a building's
# street, a unit's building): the rows one may see, narrowed where seeing is wider than placing.
LINK = "link"


@dataclass(frozen=True)
class Viewer:
    """The parts of a user that decide scope, read once per call."""

    role: Role | None
    user_id: int | None
    street_id: int | None
    building_id: int | None
    agency_id: int | None
    promoter_id: int | None


NO_ONE = Viewer(None, None, None, None, None, None)


# The scope facts a user loaded by user_with_scope carries as attributes.
LOADED_FACTS = ("crm_street_id", "crm_building_id", "crm_agency_id", "crm_promoter_id")


@functools.cache
def _user_with_scope_query() -> Compiled:
    # One row per group the user is in (at least one: the joins are outer); scope and promoter are 1:1.
    users = get_user_model().objects.filter(pk=SLOT_ID)
    return Compiled.of(
        users.annotate(
            crm_group=F("groups__name"),
            crm_street_id=F("scope__street_id"),
            crm_building_id=F("scope__building_id"),
            crm_agency_id=F("scope__agency_id"),
            crm_promoter_id=F("promoter__id"),
        )
    )


def user_with_scope(user_id):
    """The user `user_id`, or None, read with its roles and scope in one query (so that viewer_of
    asks nothing more): how a request's login is loaded (crm.auth_backends, crm.api.authentication)."""
    model = get_user_model()
    rows = _user_with_scope_query().instances(model, model._meta.pk.to_python(user_id))
    if not rows:
        return None
    user = rows[0]
    user._role_names = {row.crm_group for row in rows if row.crm_group}  # crm.roles.user_role's cache
    return user


def viewer_of(user) -> Viewer:
    """The user's role, scope and promoter row: loaded with the user already (user_with_scope, as
    every request's login is), else read now in that one query."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ONE
    source = user if hasattr(user, LOADED_FACTS[0]) else user_with_scope(user.pk)
    if source is None:
        return NO_ONE
    if getattr(user, "_role_names", None) is None:
        user._role_names = source._role_names  # crm.roles.user_role reads this cache
    role = user_role(user)
    if role is None:
        return NO_ONE
    return Viewer(role, user.pk, *(getattr(source, name) for name in LOADED_FACTS))


NOTHING = Q(pk__in=[])
EVERYTHING = Q()


def _street_leads(v: Viewer) -> Q:
    # A street's leads: owned by its promoters, wanting to come to it, or signed into it: the union
    # of three id lists, each read by its index, so the outer rows stay unique and are fetched by
    # primary key. One subquery joining all three and filtering on their OR read every lead of the
    # city with its streets and signings (130 ms at city scale, on every page of the officer).
    owned = m.Lead.objects.filter(owner__street_id=v.street_id).order_by().values("pk")
    wanted = (
        m.Lead.preferred_streets.through.objects.filter(street_id=v.street_id).order_by().values("lead_id")
    )
    signed = m.Signing.objects.filter(building__street_id=v.street_id).order_by().values("lead_id")
    return Q(pk__in=owned.union(wanted, signed))


def _lead_rule(prefix: str) -> Callable[[Viewer, str], Q]:
    """The lead rule applied through a relation (`prefix` like 'lead__')."""

    def rule(v: Viewer, action: str) -> Q:
        base = LEAD(v, action)
        if base is EVERYTHING or base is NOTHING:
            return base
        return Q(**{f"{prefix}pk__in": m.Lead.objects.filter(base).values("pk")})

    return rule


def LEAD(v: Viewer, action: str) -> Q:  # noqa: N802 - a rule table entry
    if v.role == Role.DISTRICT_ADMIN or (v.role == Role.AUDITOR and action == VIEW):
        return EVERYTHING
    if v.role == Role.PROMOTER and v.promoter_id:
        return Q(owner_id=v.promoter_id)
    if v.role == Role.AGENCY and v.agency_id:
        return Q(agency_id=v.agency_id)
    if v.role == Role.STREET_OFFICER and v.street_id and action == VIEW:
        return _street_leads(v)
    return NOTHING


def _reservations(v: Viewer, action: str) -> Q:
    """Holds: through their lead (a promoter's own, the office's all); and, to read, the holds on the
    units a building manager or a street officer looks after, so that they know who holds a unit
    until when before they let it. Pages show the lead of such a hold only to who sees the lead."""
    leads = _lead_rule("lead__")(v, action)
    if action != VIEW or leads is EVERYTHING:
        return leads
    if v.role == Role.BUILDING_MANAGER and v.building_id:
        units = Q(unit__building_id=v.building_id)
    elif v.role == Role.STREET_OFFICER and v.street_id:
        units = Q(unit__building__street_id=v.street_id)
    else:
        return leads
    return units if leads is NOTHING else leads | units


def _places(street_path: str, building_path: str, *, public: bool, managers_change: bool):
    """A rule for building-side rows: the street's, the managed building's, public to promoters/agencies."""

    def rule(v: Viewer, action: str) -> Q:
        if v.role == Role.DISTRICT_ADMIN or (v.role == Role.AUDITOR and action == VIEW):
            return EVERYTHING
        if v.role == Role.STREET_OFFICER and v.street_id:
            return Q(**{street_path: v.street_id})
        if v.role == Role.BUILDING_MANAGER and v.building_id and (action == VIEW or managers_change):
            return Q(**{building_path: v.building_id})
        if public and action == VIEW and v.role in (Role.PROMOTER, Role.AGENCY):
            return EVERYTHING
        return NOTHING

    return rule


def _reference(v: Viewer, action: str) -> Q:
    """Streets, circles, industries, plan targets: readable by every role, changed by the office."""
    if v.role is None:
        return NOTHING
    if action == VIEW or v.role == Role.DISTRICT_ADMIN:
        return EVERYTHING
    return NOTHING


def _tenant_rows(enterprise_path: str):
    """Enterprises and their tax: the street's or building's tenants; never promoters or agencies."""

    def rule(v: Viewer, action: str) -> Q:
        if v.role == Role.DISTRICT_ADMIN or (v.role == Role.AUDITOR and action == VIEW):
            return EVERYTHING
        if action != VIEW:
            return NOTHING
        if v.role == Role.STREET_OFFICER and v.street_id:
            tenants = m.Tenancy.objects.filter(building__street_id=v.street_id).values("enterprise_id")
            return Q(**{f"{enterprise_path}__in": tenants})
        if v.role == Role.BUILDING_MANAGER and v.building_id and enterprise_path == "pk":
            tenants = m.Tenancy.objects.filter(building_id=v.building_id).values("enterprise_id")
            return Q(pk__in=tenants)
        return NOTHING

    return rule


def _promoters(v: Viewer, action: str) -> Q:
    if v.role == Role.DISTRICT_ADMIN or (v.role == Role.AUDITOR and action == VIEW):
        return EVERYTHING
    if action == VIEW and v.role == Role.STREET_OFFICER and v.street_id:
        return Q(street_id=v.street_id)
    if action == VIEW and v.role == Role.PROMOTER and v.promoter_id:
        return Q(pk=v.promoter_id)
    return NOTHING


def _admin_only(v: Viewer, action: str) -> Q:
    if v.role == Role.DISTRICT_ADMIN or (v.role == Role.AUDITOR and action == VIEW):
        return EVERYTHING
    return NOTHING


def _agencies(v: Viewer, action: str) -> Q:
    if action == VIEW and v.role == Role.AGENCY and v.agency_id:
        return Q(pk=v.agency_id)
    return _admin_only(v, action)


def _policies(v: Viewer, action: str) -> Q:
    """Incentive policies are public to every role; a case-by-case package only to who sees its lead."""
    if v.role == Role.DISTRICT_ADMIN or (v.role == Role.AUDITOR and action == VIEW):
        return EVERYTHING
    if action != VIEW or v.role is None:
        return NOTHING
    leads = LEAD(v, VIEW)
    if leads is NOTHING:
        return Q(lead__isnull=True)
    return Q(lead__isnull=True) | Q(lead__in=m.Lead.objects.filter(leads).values("pk"))


def _through(prefix: str, rule: Callable[[Viewer, str], Q], model: type[Model]):
    """Apply `rule` of `model` through a relation, e.g. a benefit through its policy."""

    def through(v: Viewer, action: str) -> Q:
        base = rule(v, action)
        if base is EVERYTHING or base is NOTHING:
            return base
        return Q(**{f"{prefix}__in": model._default_manager.filter(base).values("pk")})

    return through


def _commitments(v: Viewer, action: str) -> Q:
    """What the district promised: the office and auditor; a street its buildings; a promoter its leads."""
    if action != VIEW:
        return NOTHING
    if v.role in (Role.DISTRICT_ADMIN, Role.AUDITOR):
        return EVERYTHING
    if v.role == Role.STREET_OFFICER and v.street_id:
        return Q(building__street_id=v.street_id)
    if v.role == Role.PROMOTER and v.promoter_id:
        return Q(signing__lead__owner_id=v.promoter_id)
    return NOTHING


def _promoter_rows(promoter_path: str, street_path: str):
    """Reminders, targets and appraisals: a promoter's own, a street's promoters', the office's all."""

    def rule(v: Viewer, action: str) -> Q:
        if v.role == Role.DISTRICT_ADMIN or (v.role == Role.AUDITOR and action == VIEW):
            return EVERYTHING
        if action != VIEW:
            return NOTHING
        if v.role == Role.PROMOTER and v.promoter_id:
            return Q(**{promoter_path: v.promoter_id})
        if v.role == Role.STREET_OFFICER and v.street_id:
            return Q(**{street_path: v.street_id})
        return NOTHING

    return rule


def _street_rows(street_path: str):
    """Street targets and assessments: the office's all, an officer's own street."""

    def rule(v: Viewer, action: str) -> Q:
        if v.role == Role.DISTRICT_ADMIN or (v.role == Role.AUDITOR and action == VIEW):
            return EVERYTHING
        if action == VIEW and v.role == Role.STREET_OFFICER and v.street_id:
            return Q(**{street_path: v.street_id})
        return NOTHING

    return rule


def _addressed_to_user(v: Viewer, action: str) -> Q:
    """Notifications and warning tasks are their recipient's; the office oversees them all."""
    if v.role == Role.DISTRICT_ADMIN or (v.role == Role.AUDITOR and action == VIEW):
        return EVERYTHING
    if v.user_id is None:
        return NOTHING
    return Q(user_id=v.user_id)


def _warnings(v: Viewer, action: str) -> Q:
    if v.role == Role.DISTRICT_ADMIN or (v.role == Role.AUDITOR and action == VIEW):
        return EVERYTHING
    if v.user_id is None:
        return NOTHING
    mine = Q(assignee_id=v.user_id)
    if action == VIEW and v.role == Role.STREET_OFFICER and v.street_id:
        return mine | Q(building__street_id=v.street_id)
    return mine


def _agency_webhooks(v: Viewer, action: str) -> Q:
    """An agency's webhooks are its own; the office oversees them all, the auditor reads them."""
    if v.role == Role.AGENCY and v.agency_id:
        return Q(agency_id=v.agency_id)
    return _admin_only(v, action)


def _channels(v: Viewer, action: str) -> Q:
    """A person's channel is their own; street robots and everyone's channels are the office's. The
    auditor does not read them: their URLs and secrets are credentials."""
    if v.role == Role.DISTRICT_ADMIN:
        return EVERYTHING
    if v.user_id is None:
        return NOTHING
    return Q(user_id=v.user_id)


def _channel_messages(v: Viewer, action: str) -> Q:
    """The robots' outbox holds no credential: the auditor reads it all, as the office does."""
    if v.role == Role.AUDITOR and action == VIEW:
        return EVERYTHING
    return _through("channel", _channels, m.NotificationChannel)(v, action)


def _internal_reports(v: Viewer, action: str) -> Q:
    """Indicator snapshots and white papers: every internal role reads them, the office writes."""
    if v.role == Role.DISTRICT_ADMIN:
        return EVERYTHING
    if action == VIEW and v.role not in (None, Role.AGENCY):
        return EVERYTHING
    return NOTHING


RULES: dict[type[Model], Callable[[Viewer, str], Q]] = {
    m.Street: _reference,
    m.BusinessCircle: _reference,
    m.Industry: _reference,
    m.PlanTarget: _reference,
    m.Building: _places("street_id", "pk", public=True, managers_change=False),
    m.Unit: _places("building__street_id", "building_id", public=True, managers_change=True),
    m.Tenancy: _places("building__street_id", "building_id", public=False, managers_change=False),
    m.Enterprise: _tenant_rows("pk"),
    m.TaxRecord: _tenant_rows("enterprise_id"),
    m.Promoter: _promoters,
    m.Agency: _agencies,
    m.UserScope: _admin_only,
    m.Lead: LEAD,
    m.Activity: _lead_rule("lead__"),
    m.StageChange: _lead_rule("lead__"),
    m.Reservation: _reservations,
    m.Signing: _lead_rule("lead__"),
    pm.Policy: _policies,
    pm.Benefit: _through("policy", _policies, pm.Policy),
    pm.Commitment: _commitments,
    pm.CommitmentLine: _through("commitment", _commitments, pm.Commitment),
    pm.CommitmentPayment: _through("line__commitment", _commitments, pm.Commitment),
    pm.DistrictPolicySettings: _reference,
    m.StageLimit: _reference,
    m.AppraisalWeight: _reference,
    m.Reminder: _promoter_rows("promoter_id", "promoter__street_id"),
    m.ReminderDigest: _promoter_rows("promoter_id", "promoter__street_id"),
    m.PromoterTarget: _promoter_rows("promoter_id", "promoter__street_id"),
    m.AppraisalSnapshot: _promoter_rows("promoter_id", "promoter__street_id"),
    m.StreetTarget: _street_rows("street_id"),
    m.StreetAssessmentSnapshot: _street_rows("street_id"),
    m.Notification: _addressed_to_user,
    m.EarlyWarning: _warnings,
    m.IndicatorSnapshot: _internal_reports,
    m.WhitePaper: _internal_reports,
    m.AgencyAPIKey: _admin_only,
    m.AgencyWebhook: _agency_webhooks,
    m.WebhookDelivery: _through("webhook", _agency_webhooks, m.AgencyWebhook),
    m.NotificationChannel: _channels,
    m.ChannelMessage: _channel_messages,
    m.ChannelMessageItem: _through("channel", _channels, m.NotificationChannel),
    # Who saw whose contact, and erasures: for the office and the auditor who oversee personal data.
    m.ContactAccess: _admin_only,
    m.ContactErasure: _admin_only,
    mm.EntryRule: _places("building__street_id", "building_id", public=True, managers_change=False),
    mm.RankingModel: _admin_only,
    mm.IndustryModel: _admin_only,
    # Retention (稳商): a tenancy's move-out risk and the visits to keep it are its building's — the
    # district's, the street officer's own street, the building manager's own building — and never
    # a promoter's or an agency's (they carry tenant tax). Officers and managers log the visits.
    rm.RetentionScore: _places("building__street_id", "building_id", public=False, managers_change=False),
    rm.RetentionVisit: _places("building__street_id", "building_id", public=False, managers_change=True),
    rm.RetentionModel: _admin_only,
}


def _street_choice(v: Viewer, action: str) -> Q:
    """Every role reads every street, but a street officer puts only their own street on a row:
    a building they move to another street would leave their scope and enter someone else's."""
    if v.role == Role.STREET_OFFICER:
        return Q(pk=v.street_id) if v.street_id else NOTHING
    return _reference(v, VIEW)


# Models whose LINK rule is narrower than their VIEW rule; every other model links what it shows.
LINK_RULES: dict[type[Model], Callable[[Viewer, str], Q]] = {
    m.Street: _street_choice,
}


def visible_to(
    user, queryset: QuerySet | type[Model], action: str = VIEW, *, viewer: Viewer | None = None
) -> QuerySet:
    """The rows of `queryset` (or a model's rows) that `user` may see (action='view'), change
    ('change') or choose as a related row of what they write ('link')."""
    qs = queryset._default_manager.all() if isinstance(queryset, type) else queryset
    rule = RULES.get(qs.model)
    if rule is None:
        raise LookupError(f"no visibility rule for {qs.model.__name__}: add one to crm.selectors.scope.RULES")
    if action == LINK:
        rule, action = LINK_RULES.get(qs.model, rule), VIEW
    condition = rule(viewer or viewer_of(user), action)
    if condition is NOTHING:
        return qs.none()
    if condition is EVERYTHING:
        return qs
    return qs.filter(condition)


# Personal contact data (PIPL: kept to those who need it). Rows are ruled above; this is the column rule.
PERSONAL_FIELDS: dict[type[Model], tuple[str, ...]] = {
    m.Lead: ("contact_name", "contact_phone"),
    m.Agency: ("contact_name", "contact_phone"),
}
# Roles that see only rows they own (promoter, agency) or everything by office (district admin) need
# the contacts; the auditor, street officers and building managers read leads they do not work.
_CONTACT_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.PROMOTER, Role.AGENCY})


def personal_data_hidden(user) -> bool:
    """Whether PERSONAL_FIELDS must be masked for this user."""
    return user_role(user) not in _CONTACT_ROLES


def can(user, instance: Model, action: str = CHANGE) -> bool:
    """Whether `user` may `action` this one row."""
    return visible_to(user, type(instance), action).filter(pk=instance.pk).exists()


def request_viewer(request) -> Viewer:
    """The scope facts of the request's user, read once per request (admin, pages and API alike)."""
    viewer = getattr(request, "_crm_viewer", None)
    if viewer is None:
        viewer = request._crm_viewer = viewer_of(request.user)
    return viewer


def scoped(request, queryset: QuerySet | type[Model], action: str = VIEW) -> QuerySet:
    """`queryset` narrowed to the rows the request's user may see (or change)."""
    return visible_to(request.user, queryset, action, viewer=request_viewer(request))

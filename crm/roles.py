"""Which of the six roles a user has, and the Django permissions each role's group carries."""

from collections.abc import Iterable

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

from crm.constants import Role

# Most powerful first: a user in several groups acts in the widest one.
_PRECEDENCE = [
    Role.DISTRICT_ADMIN,
    Role.AUDITOR,
    Role.STREET_OFFICER,
    Role.PROMOTER,
    Role.BUILDING_MANAGER,
    Role.AGENCY,
]

# The apps whose tables the roles work on; the office's two roles cover all of their models.
DOMAIN_APPS = ("crm", "policies", "matching", "retention", "workers")
ALL = "__all__"
ALL_VIEW = "__all_view__"
# The auditor reads everything but who may log in where, the agencies' keys and the robots' credentials.
AUDITOR_HIDDEN = frozenset({"view_userscope", "view_agencyapikey", "view_notificationchannel"})

# Move-out risks of their tenants, and the retention visits they log (scoped to street or building).
_RETENTION = ["view_retentionscore", "view_retentionvisit", "add_retentionvisit"]
_READ_POLICIES = [
    "view_policy",
    "view_benefit",
    "view_commitment",
    "view_commitmentline",
    "view_commitmentpayment",
    "view_entryrule",
]

# The model permissions behind the admin and pages; the scope selector narrows them to rows.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.DISTRICT_ADMIN: [ALL],
    Role.AUDITOR: [ALL_VIEW],
    Role.STREET_OFFICER: [
        *(
            f"view_{m}"
            for m in (
                "street",
                "businesscircle",
                "building",
                "unit",
                "industry",
                "enterprise",
                "tenancy",
                "taxrecord",
                "promoter",
                "lead",
                "activity",
                "signing",
                "stagechange",
                "plantarget",
            )
        ),
        "change_building",
        "change_unit",
        "add_unit",
        *_RETENTION,
        *_READ_POLICIES,
    ],
    Role.PROMOTER: [
        *(
            f"view_{m}"
            for m in (
                "street",
                "businesscircle",
                "building",
                "unit",
                "industry",
                "lead",
                "activity",
                "reservation",
                "signing",
                "stagechange",
                "plantarget",
            )
        ),
        "add_lead",
        "change_lead",
        "add_activity",
        "add_reservation",
        "change_reservation",
        "add_signing",
        *_READ_POLICIES,
    ],
    Role.BUILDING_MANAGER: [
        *(f"view_{m}" for m in ("building", "unit", "industry", "enterprise", "tenancy")),
        "change_unit",
        "add_unit",
        *_RETENTION,
    ],
    Role.AGENCY: [],
}


def user_role(user) -> Role | None:
    """The role a user acts in; superusers act as district admins; None for no role."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.DISTRICT_ADMIN
    names = getattr(user, "_role_names", None)
    if names is None:
        names = set(user.groups.values_list("name", flat=True))
        user._role_names = names  # cached on the request's user object
    return role_of_groups(names)


def role_of_groups(names: Iterable[str], *, is_superuser: bool = False) -> Role | None:
    """The role of an account in these groups, active or not (user_role asks for a live login)."""
    if is_superuser:
        return Role.DISTRICT_ADMIN
    names = set(names)
    for role in _PRECEDENCE:
        if role in names:
            return role
    return None


def roles_sync_permissions(**_kwargs) -> None:
    """Give each role's group exactly its permissions (run after every migrate)."""
    # post_migrate reaches crm before later apps have their permissions: create them all first.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    domain = Permission.objects.filter(content_type__app_label__in=DOMAIN_APPS)
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        if codenames == [ALL]:
            perms = domain
        elif codenames == [ALL_VIEW]:
            perms = domain.filter(codename__startswith="view_").exclude(codename__in=AUDITOR_HIDDEN)
        else:
            perms = domain.filter(codename__in=codenames)
        group.permissions.set(perms)

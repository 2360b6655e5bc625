"""Issuing and revoking agencies' API keys, and the API account each agency's keys act as."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from crm.constants import Role
from crm.models import Agency, AgencyAPIKey, UserScope
from crm.services.common import invalid


def agency_api_account(*, agency: Agency):
    """The login-less user an agency's API keys act as: role agency, scoped to that agency."""
    user, created = get_user_model().objects.get_or_create(username=f"api-agency-{agency.pk}")
    if created:
        user.set_unusable_password()  # API only: nobody signs in with it
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=Role.AGENCY))
    UserScope.objects.update_or_create(
        user=user, defaults={"street": None, "building": None, "agency": agency}
    )
    return user


@transaction.atomic
def agency_api_key_create(
    *, agency_name: str, key_name: str = "", expires_at: dt.datetime | None = None
) -> tuple[AgencyAPIKey, str, bool]:
    """A new key for the named agency (created if unknown): the key row, the key itself, and
    whether the agency was new. Only the key's hash is stored; the key is shown once."""
    name = (agency_name or "").strip()
    if not name:
        raise invalid("agency", "请填写机构名称 / the agency's name is required")
    agency, agency_created = Agency.objects.get_or_create(name=name)
    if not agency.active:
        raise invalid("agency", f"机构 {name} 已停止合作 / agency {name} is no longer active")
    user = agency_api_account(agency=agency)
    api_key, key = AgencyAPIKey.objects.create_key(
        name=(key_name or name)[:50], agency=agency, user=user, expiry_date=expires_at
    )
    return api_key, key, agency_created


@transaction.atomic
def agency_api_key_revoke(*, prefix: str) -> AgencyAPIKey:
    """Revoke one key for good (it cannot be re-enabled), by the prefix shown in the admin."""
    api_key = AgencyAPIKey.objects.select_for_update().filter(prefix=prefix).first()
    if api_key is None:
        raise invalid("prefix", f"没有前缀为 {prefix} 的密钥 / no key with prefix {prefix}")
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
    return api_key

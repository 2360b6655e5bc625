"""API keys of outside agencies: stored hashed, revocable, each acting as its agency's API account."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from rest_framework_api_key.models import AbstractAPIKey


class AgencyAPIKey(AbstractAPIKey):
    """One key an agency's systems send as `Authorization: Api-Key <key>`; only its hash is kept.

    The key acts as `user`, the agency's API account (role `agency`, scope the agency), so that
    every rule of crm.selectors.scope and the audit history apply to API calls as to logins.
    """

    agency = models.ForeignKey(
        "crm.Agency", verbose_name=_("中介机构"), on_delete=models.PROTECT, related_name="api_keys"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("API账号"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("机构API密钥")
        verbose_name_plural = pgettext_lazy("plural", "机构API密钥")

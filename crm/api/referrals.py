"""An agency's lead is its timestamped referral claim (报备): the first open claim on a company wins.

This is a service (keyword-only, atomic, the only writer of agency leads); it sits beside the API,
its one caller, until the CRM services take it over.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from crm.constants import LeadChannel
from crm.credit_code import normalise_credit_code
from crm.models import Agency, Lead
from crm.names import normalise_company_name
from crm.services.common import lock_key
from crm.services.leads import lead_create, lead_protection_conflict


class ReferralClaimedEarlier(Exception):
    """The company is already an open lead; says since when, never whose (the API answers 409)."""

    def __init__(self, registered_on: dt.date):
        super().__init__(f"already registered on {registered_on:%Y-%m-%d}")
        self.registered_on = registered_on


def lead_registered_on(*, company_name: str, credit_code: str = "") -> dt.date | None:
    """The day the open lead that holds this company inside its protection period (the one 撞单 rule,
    crm.services.leads.lead_protection_conflict) was registered, or None when none holds it."""
    holder = lead_protection_conflict(
        credit_code=normalise_credit_code(credit_code), company_name=company_name
    )
    return None if holder is None else timezone.localtime(holder.created_at).date()


@transaction.atomic
def lead_referral_submit(
    *, agency: Agency, company_name: str, credit_code: str = "", by=None, **facts
) -> Lead:
    """Register `agency`'s claim on a company: a new lead, channel agency, not yet assigned to anyone.

    Refused with ReferralClaimedEarlier while an open lead of anyone (another agency, a promoter, this
    agency) holds the company inside its protection period: the first claimant keeps the attribution
    that the signing later rewards. A lead whose protection lapsed is taken over (lead_create).
    """
    # The same locks as lead_create, taken first, so that two agencies' claims cannot both pass.
    lock_key("lead-company", normalise_company_name(company_name))
    code = normalise_credit_code(credit_code)
    if code:
        lock_key("lead-company", code)
    registered_on = lead_registered_on(company_name=company_name, credit_code=code)
    if registered_on is not None:
        raise ReferralClaimedEarlier(registered_on)
    return lead_create(
        company_name=company_name,
        credit_code=credit_code,
        channel=LeadChannel.AGENCY,
        agency=agency,
        owner=None,
        by=by,
        **facts,
    )

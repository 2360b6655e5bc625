"""An agency's lead is its timestamped referral claim (报备): the first open claim on a company wins.

This is a service (keyword-only, atomic, the only writer of agency leads); it sits beside the API,
its one caller, until the CRM services take it over.
"""

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.constants import OPEN_STAGES, LeadChannel
from crm.credit_code import normalise_credit_code
from crm.models import Agency, Lead
from crm.names import normalise_company_name
from crm.services.common import lock_key
from crm.services.leads import lead_create


class ReferralClaimedEarlier(Exception):
    """The company is already an open lead; says since when, never whose (the API answers 409)."""

    def __init__(self, registered_on: dt.date):
        super().__init__(f"already registered on {registered_on:%Y-%m-%d}")
        self.registered_on = registered_on


def lead_registered_on(*, company_name: str, credit_code: str = "") -> dt.date | None:
    """The day the earliest open lead for this company (same credit code or same normalised name)
    was registered, or None when there is none."""
    same_company = Q(normalised_name=normalise_company_name(company_name))
    code = normalise_credit_code(credit_code)
    if code:
        same_company |= Q(credit_code=code)
    first = (
        Lead.objects.filter(same_company, stage__in=OPEN_STAGES)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return None if first is None else timezone.localtime(first).date()


@transaction.atomic
def lead_referral_submit(
    *, agency: Agency, company_name: str, credit_code: str = "", by=None, **facts
) -> Lead:
    """Register `agency`'s claim on a company: a new lead, channel agency, not yet assigned to anyone.

    Refused with ReferralClaimedEarlier while the company is an open lead of anyone (another agency,
    a promoter): the first claimant keeps the attribution that the signing later rewards.
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

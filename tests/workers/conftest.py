"""Fixtures of the workers' tests: promoters with mail addresses, due leads, a fixed clock."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.constants import LeadStage
from tests.factories import LeadFactory, PromoterFactory, UserFactory

# A fixed "now" for the scan tests: Wednesday 15 May 2024, 09:00 in the district's time zone.
NOW = timezone.make_aware(dt.datetime(2024, 5, 15, 9, 0))


def mailed_promoter(n: int, **kwargs):
    """A promoter whose login has an e-mail address."""
    user = UserFactory(username=f"promoter{n}", email=f"promoter{n}@example.com", role="promoter")
    return PromoterFactory(user=user, name=f"招商员{n}", **kwargs)


def stale_lead(owner, *, days_quiet: int, stage: str = LeadStage.NEW, now: dt.datetime = NOW, **kwargs):
    """A lead whose last activity (its creation) was `days_quiet` days before `now`."""
    then = now - dt.timedelta(days=days_quiet)
    return LeadFactory(owner=owner, stage=stage, created_at=then, last_activity_at=then, **kwargs)


@pytest.fixture
def promoter(db):
    return mailed_promoter(1, team="一组")

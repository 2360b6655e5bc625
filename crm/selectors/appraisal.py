"""The signings an appraisal credits to a promoter: the one definition the appraisal's figures and the
pages that list them share, so that a promoter's detail lists exactly what their leaderboard row counts."""

from django.db.models import QuerySet
from django.db.models.functions import Coalesce

from crm.models import Signing


def signings_credited(signings: QuerySet[Signing] | None = None) -> QuerySet[Signing]:
    """`signings` (all by default) with `credited`: the promoter the outcome counts for, the lead's
    owner at signing (`signed_by`, which signing_complete sets), or its owner now for older rows."""
    rows = Signing.objects.all() if signings is None else signings
    return rows.annotate(credited=Coalesce("signed_by_id", "lead__owner_id"))


def signings_verified_in(period, signings: QuerySet[Signing] | None = None) -> QuerySet[Signing]:
    """Results: the signings verified (settled) within `period`, which the appraisal scores."""
    return signings_credited(signings).filter(settled_at__gte=period.start_at, settled_at__lt=period.end_at)


def signings_pipeline_in(period, signings: QuerySet[Signing] | None = None) -> QuerySet[Signing]:
    """Pipeline: signed within `period` and neither verified nor cancelled yet; shown, not scored."""
    return signings_credited(signings).filter(
        signed_on__gte=period.start,
        signed_on__lte=period.end,
        settled_at__isnull=True,
        cancelled_at__isnull=True,
    )

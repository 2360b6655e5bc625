"""Reading move-out risks (retention.RetentionScore) for the retention list and the building page."""

from decimal import Decimal

from django.db.models import QuerySet, Sum

from crm.selectors.scope import visible_to
from retention.models import RetentionScore

# A tenant at least this likely to leave within 12 months counts as at risk on the building page
# and in warnings.
AT_RISK_PROBABILITY = 0.3


def retention_list(user, *, viewer=None) -> QuerySet:
    """The scores `user` may see, by expected tax at risk (probability × last year's tax), largest first."""
    return (
        visible_to(user, RetentionScore, viewer=viewer)
        .select_related("enterprise", "building", "building__street", "tenancy")
        .order_by("-expected_tax_at_risk_yuan", "tenancy_id")
    )


def building_at_risk(user, *, building_id: int, viewer=None) -> QuerySet:
    """A building's tenants at risk that `user` may see, by expected tax at risk."""
    return retention_list(user, viewer=viewer).filter(
        building_id=building_id, probability__gte=AT_RISK_PROBABILITY
    )


def at_risk_tax(scores: QuerySet) -> Decimal:
    """Last year's tax of these tenants together: what the building loses if they all leave."""
    return scores.aggregate(total=Sum("tax_last_year_yuan"))["total"] or Decimal(0)

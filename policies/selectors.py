"""Queries over policies and commitments: what the district has promised, totalled in the database."""

from django.db.models import QuerySet, Sum

from policies.models import CommitmentLine


def commitments_by_year() -> QuerySet:
    """Promised yuan per calendar year: rows of {year, total}."""
    return CommitmentLine.objects.values("year").annotate(total=Sum("amount_yuan")).order_by("year")


def commitments_by_building() -> QuerySet:
    """Promised yuan per building: rows of {building_id, building_name, total}."""
    return (
        CommitmentLine.objects.values("commitment__building_id", "commitment__building__name")
        .annotate(total=Sum("amount_yuan"))
        .order_by("commitment__building_id")
    )


def commitments_by_policy() -> QuerySet:
    """Promised yuan per policy, by the name it had when promised: rows of {policy_id, policy_name, total}."""
    return (
        CommitmentLine.objects.values("policy_id", "policy_name")
        .annotate(total=Sum("amount_yuan"))
        .order_by("policy_id", "policy_name")
    )

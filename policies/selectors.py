"""Queries over policies and commitments: what the district has promised, totalled in the database."""

from django.db.models import QuerySet, Sum

from policies.models import CommitmentLine


def _standing_lines() -> QuerySet:
    """Lines of commitments still owed: a cancelled signing's promise is reversed (its rows stay, as
    the audit of what was once promised)."""
    return CommitmentLine.objects.filter(commitment__signing__cancelled_at__isnull=True)


def commitments_by_year() -> QuerySet:
    """Promised yuan per calendar year: rows of {year, total}."""
    return _standing_lines().values("year").annotate(total=Sum("amount_yuan")).order_by("year")


def commitments_by_building() -> QuerySet:
    """Promised yuan per building: rows of {building_id, building_name, total}."""
    return (
        _standing_lines()
        .values("commitment__building_id", "commitment__building__name")
        .annotate(total=Sum("amount_yuan"))
        .order_by("commitment__building_id")
    )


def commitments_by_policy() -> QuerySet:
    """Promised yuan per policy, by the name it had when promised: rows of {policy_id, policy_name, total}."""
    return (
        _standing_lines()
        .values("policy_id", "policy_name")
        .annotate(total=Sum("amount_yuan"))
        .order_by("policy_id", "policy_name")
    )

"""Street assessment (以考促建): indicators against street targets, signings, tax growth, promoters."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Avg, Count, Sum
from django.utils import timezone

from crm.constants import YUAN_PER_YI
from crm.indicators import street_values
from crm.models import AppraisalSnapshot, Signing, Street, StreetAssessmentSnapshot, StreetTarget
from crm.models.appraisal import PeriodKind

CENT = Decimal("0.01")
NO_DATA_NOTE = "本年无楼宇数据 / no building data for this year"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@transaction.atomic
def street_target_set(*, street: Street, year: int, key: str, value: Decimal) -> StreetTarget:
    """Set a street's target for one indicator and year; a negative target is refused."""
    target = StreetTarget.objects.filter(street=street, year=year, key=key).first() or StreetTarget(
        street=street, year=year, key=key
    )
    target.value = Decimal(value)
    target.full_clean()
    target.save()
    return target


@transaction.atomic
def street_assessment_compute(*, year: int, now: dt.datetime | None = None) -> list[StreetAssessmentSnapshot]:
    """Compute and store every street's assessment for `year`, replacing an earlier computation.

    Per street: two indicator queries (Y and Y−1, for tax growth); for all streets together: one for
    targets, one for signings, one for the promoters' yearly appraisal.
    """
    now = now or timezone.now()
    targets: dict[int, dict[str, Decimal]] = {}
    for street_id, key, value in StreetTarget.objects.filter(year=year).values_list(
        "street_id", "key", "value"
    ):
        targets.setdefault(street_id, {})[key] = value
    signings = {
        row["building__street_id"]: row
        for row in Signing.objects.filter(signed_on__year=year)
        .values("building__street_id")
        .annotate(n=Count("pk"), area=Sum("area_m2"))
        .order_by()
    }
    appraisals = {
        row["street_id"]: row
        for row in AppraisalSnapshot.objects.filter(
            period_kind=PeriodKind.YEAR, period_start=dt.date(year, 1, 1), street__isnull=False
        )
        .values("street_id")
        .annotate(n=Count("pk"), score=Avg("score"))
        .order_by()
    }
    streets = list(Street.objects.order_by("pk"))
    this_year = street_values(year=year, street_ids=[street.pk for street in streets])
    last_year = street_values(year=year - 1, street_ids=[street.pk for street in streets])
    snapshots = []
    for street in streets:
        values, previous = this_year[street.pk], last_year[street.pk]
        tax = (values["building_tax"] or Decimal(0)) * YUAN_PER_YI
        previous_tax = (previous["building_tax"] or Decimal(0)) * YUAN_PER_YI
        street_targets = targets.get(street.pk, {})
        met = sum(
            1
            for key, target in street_targets.items()
            if values.get(key) is not None and values[key] >= target
        )
        signed = signings.get(street.pk, {})
        appraised = appraisals.get(street.pk, {})
        snapshots.append(
            StreetAssessmentSnapshot(
                street=street,
                year=year,
                indicators={str(k): _text(v) for k, v in values.items()},
                targets={k: str(v) for k, v in street_targets.items()},
                targets_set=len(street_targets),
                targets_met=met,
                signings=signed.get("n", 0),
                signed_area_m2=Decimal(signed.get("area") or 0).quantize(CENT),
                tax_yuan=tax.quantize(CENT),
                previous_tax_yuan=previous_tax.quantize(CENT),
                tax_growth=((tax - previous_tax) * 100 / previous_tax).quantize(CENT)
                if previous_tax
                else None,
                promoters=appraised.get("n", 0),
                promoter_score=(
                    Decimal(str(appraised["score"])).quantize(CENT)
                    if appraised.get("score") is not None
                    else None
                ),
                note="" if values["gross_area"] else NO_DATA_NOTE,
                computed_at=now,
            )
        )
    StreetAssessmentSnapshot.objects.filter(year=year).delete()
    return StreetAssessmentSnapshot.objects.bulk_create(snapshots)

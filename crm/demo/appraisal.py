"""The demo's appraisal and street assessment: targets for every promoter and street, then the figures
computed at once, so that a fresh demo shows a leaderboard and an assessment without waiting for the
nightly run (docs/appraisal.md)."""

import datetime as dt
from decimal import Decimal

from crm.constants import PLAN_TARGETS
from crm.indicators import RATE_KEYS
from crm.models import Promoter, Street
from crm.models.appraisal import Metric, PeriodKind
from crm.services.appraisal import Period, appraisal_compute, promoter_target_set
from crm.services.assessment import street_assessment_compute, street_target_set

# A promoter's targets for a year; a quarter's are a quarter of them and a month's a twelfth (rates
# and the median days to sign stay as they are). Valid leads stay within the leads logged and site
# tours within activities, as the targets' checks require.
YEAR_TARGETS: dict[str, Decimal] = {
    Metric.LEADS_LOGGED: Decimal(24),
    Metric.VALID_LEADS: Decimal(12),
    Metric.ACTIVITIES: Decimal(96),
    Metric.SITE_TOURS: Decimal(12),
    Metric.SIGNINGS: Decimal(3),
    Metric.SIGNED_AREA_M2: Decimal(1200),
    Metric.EXPECTED_TAX_YUAN: Decimal(1_200_000),
    Metric.ACTUAL_TAX_YUAN: Decimal(300_000),
    Metric.CONVERSION_RATE: Decimal(20),
    Metric.MEDIAN_DAYS_TO_SIGN: Decimal(120),
    Metric.FOLLOWUP_TIMELINESS: Decimal(80),
}
NOT_SCALED = frozenset({Metric.CONVERSION_RATE, Metric.MEDIAN_DAYS_TO_SIGN, Metric.FOLLOWUP_TIMELINESS})
PERIODS_PER_YEAR = {PeriodKind.YEAR: 1, PeriodKind.QUARTER: 4, PeriodKind.MONTH: 12}
CENT = Decimal("0.01")


def demo_periods(as_of: dt.date) -> list[Period]:
    """The periods a fresh demo shows: the month, quarter and year of the as-of date, the month
    before it and the year before it (the leaderboard's own choices of recent periods)."""
    month = Period.containing(PeriodKind.MONTH, as_of)
    previous_month = Period.containing(PeriodKind.MONTH, month.start - dt.timedelta(days=1))
    return [
        month,
        previous_month,
        Period.containing(PeriodKind.QUARTER, as_of),
        Period.containing(PeriodKind.YEAR, as_of),
        Period.containing(PeriodKind.YEAR, as_of.replace(year=as_of.year - 1, day=1)),
    ]


def period_targets(kind: str) -> dict[str, Decimal]:
    share = PERIODS_PER_YEAR[kind]
    return {
        metric: value if metric in NOT_SCALED else (value / share).quantize(CENT)
        for metric, value in YEAR_TARGETS.items()
    }


def demo_appraisal_seed(*, as_of: dt.date) -> dict[str, int]:
    """Targets for the demo's promoters and streets, then their appraisal and assessment; the rows
    written per table."""
    periods = demo_periods(as_of)
    promoters = list(Promoter.objects.filter(active=True).order_by("pk"))
    for period in periods:
        targets = period_targets(period.kind)
        for promoter in promoters:
            promoter_target_set(
                promoter=promoter, period_kind=period.kind, period_start=period.start, **targets
            )
    # Each street is held to the rates of the plan's last milestone; its sums (areas, tax, counts of
    # buildings) are the district's to split, so the demo sets none for a street.
    years = (as_of.year - 1, as_of.year)
    streets = list(Street.objects.order_by("pk"))
    rates = {key: Decimal(str(PLAN_TARGETS[key][-1])) for key in sorted(RATE_KEYS)}
    for year in years:
        for street in streets:
            for key, value in rates.items():
                street_target_set(street=street, year=year, key=key, value=value)
    appraisals = sum(len(appraisal_compute(period_kind=p.kind, period_start=p.start)) for p in periods)
    # After the appraisal: a street's assessment reads its promoters' yearly scores.
    assessments = sum(len(street_assessment_compute(year=year)) for year in years)
    return {
        "crm.PromoterTarget": len(periods) * len(promoters),
        "crm.StreetTarget": len(years) * len(streets) * len(RATE_KEYS),
        "crm.AppraisalSnapshot": appraisals,
        "crm.StreetAssessmentSnapshot": assessments,
    }

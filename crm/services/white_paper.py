"""The yearly white paper (白皮书): indicators, tiers, industries, appraisal, commitments; HTML and PDF.

The HTML is a Django template with inline SVG charts, so it prints and renders without any system
package. The PDF is WeasyPrint's rendering of the same HTML; where WeasyPrint or its Pango libraries
are missing the paper is still produced, with a note saying why there is no PDF. The paper is a page:
its figures are formatted by the pages' one formatting module (crm.web.templatetags.web).
"""

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from crm.constants import YUAN_PER_YI, IndustryLevel, TaxTier
from crm.indicators import as_of, district_indicators
from crm.models import (
    AppraisalSnapshot,
    Building,
    Industry,
    Street,
    StreetAssessmentSnapshot,
    TaxRecord,
    Tenancy,
    WhitePaper,
)
from crm.models.appraisal import PeriodKind
from crm.services.appraisal import appraisal_compute
from crm.services.assessment import street_assessment_compute
from crm.tax_tiers import building_tax_tiers
from crm.validators import REPORT_YEAR_MIN, YEAR_MAX
from crm.web.templatetags.web import num, progress, wan

logger = logging.getLogger(__name__)

TOP_INDUSTRIES = 10
TOP_PROMOTERS = 10
CHART_WIDTH = 420  # px of the longest bar
BAR_STEP = 26  # px from one bar to the next


@dataclass(frozen=True)
class Bar:
    """One bar of an inline SVG chart: its label, shown value and length in pixels."""

    label: str
    value: str
    width: int
    y: int
    over: bool = False


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart: its bars and its height in pixels."""

    bars: list[Bar]
    height: int


def _bars(items: list[tuple[str, Decimal | float | None, str]], *, scale_to: Decimal | None = None) -> Chart:
    """Horizontal bars scaled to the largest value (or to `scale_to`)."""
    values = [Decimal(str(v)) for _, v, _ in items if v is not None]
    top = scale_to or (max(values) if values else Decimal(0))
    bars = []
    for index, (label, value, shown) in enumerate(items):
        number = Decimal(str(value)) if value is not None else Decimal(0)
        width = int(min(number, top * Decimal("1.5")) / top * CHART_WIDTH) if top > 0 else 0
        bars.append(
            Bar(
                label=label,
                value=shown,
                width=max(width, 0),
                y=index * BAR_STEP,
                over=bool(scale_to and number >= top),
            )
        )
    return Chart(bars=bars, height=len(bars) * BAR_STEP + 6)


def _indicator_rows(year: int, street: Street | None = None) -> list[dict]:
    rows = []
    for item in district_indicators(year=year, street=street):
        achieved = None
        if item.value is not None and item.target:
            achieved = item.value / item.target * 100
        rows.append(
            {
                "key": item.key,
                "label": item.label,
                "unit": item.unit,
                "value": num(item.value),
                "target": num(item.target),
                "gap": num(item.gap),
                "met": item.value is not None and item.target is not None and item.value >= item.target,
                "achieved": achieved,
            }
        )
    return rows


def _tiers(year: int) -> dict:
    current = building_tax_tiers(year=year)
    previous = building_tax_tiers(year=year - 1)
    names = dict(Building.objects.filter(pk__in=list(current)).values_list("pk", "name"))
    order = list(TaxTier)
    counts = [
        {"tier": tier.label, "count": sum(1 for t in current.values() if t.tier == tier)}
        for tier in reversed(order)
    ]
    movers = []
    for building_id, now in current.items():
        before = previous.get(building_id)
        old = before.tier if before else TaxTier.NONE
        if now.tier != old:
            movers.append(
                {
                    "building": names.get(building_id, building_id),
                    "from": TaxTier(old).label,
                    "to": TaxTier(now.tier).label,
                    "up": order.index(TaxTier(now.tier)) > order.index(TaxTier(old)),
                    "tax": wan(now.tax_yuan),
                }
            )
    movers.sort(key=lambda m: (not m["up"], m["building"]))
    near = sorted(
        (
            {
                "building": names.get(t.building_id),
                "tier": TaxTier(t.tier).label,
                "shortfall": wan(t.shortfall_yuan),
            }
            for t in current.values()
            if t.tier in (TaxTier.NEAR_BILLION, TaxTier.NEAR_TEN_MILLION)
        ),
        key=lambda row: row["building"] or "",
    )
    chart = _bars([(c["tier"], c["count"], str(c["count"])) for c in counts])
    return {"counts": counts, "movers": movers, "near": near, "chart": chart}


def _industries(year: int) -> dict:
    day = as_of(year)
    settled = (
        Tenancy.objects.filter(start__lte=day)
        .filter(Q(end__isnull=True) | Q(end__gte=day))
        .filter(Q(building__in_service_since__isnull=True) | Q(building__in_service_since__lte=day))
    )
    counts = {
        row["enterprise__industry__section"]: row["n"]
        for row in settled.values("enterprise__industry__section")
        .annotate(n=Count("enterprise_id", distinct=True))
        .order_by()
    }
    taxes = {
        row["enterprise__industry__section"]: row["tax"]
        for row in TaxRecord.objects.filter(year=year, enterprise__in=settled.values("enterprise_id"))
        .values("enterprise__industry__section")
        .annotate(tax=Sum("amount_yuan"))
        .order_by()
    }
    names = dict(Industry.objects.filter(level=IndustryLevel.SECTION).values_list("code", "name_zh"))
    rows = sorted(
        (
            {
                "section": section or "—",
                "name": names.get(section, "未填行业 / no industry"),
                "enterprises": count,
                "tax": Decimal(taxes.get(section) or 0),
            }
            for section, count in counts.items()
        ),
        key=lambda row: (-row["tax"], -row["enterprises"]),
    )[:TOP_INDUSTRIES]
    chart = _bars([(f"{r['section']} {r['name']}", r["tax"] / 10_000, wan(r["tax"])) for r in rows])
    for row in rows:
        row["tax"] = wan(row["tax"])
    return {"rows": rows, "chart": chart}


def _appraisal(year: int) -> dict:
    start = dt.date(year, 1, 1)
    snapshots = AppraisalSnapshot.objects.filter(period_kind=PeriodKind.YEAR, period_start=start)
    if not snapshots.exists():
        appraisal_compute(period_kind=PeriodKind.YEAR, period_start=start)
    summary = snapshots.aggregate(
        promoters=Count("pk"),
        signings=Sum("signings"),
        area=Sum("signed_area_m2"),
        actual_tax=Sum("actual_tax_yuan"),
        scored=Count("pk", filter=Q(score__isnull=False)),
    )
    top = list(
        snapshots.filter(rank_district__isnull=False)
        .select_related("promoter")
        .order_by("rank_district", "promoter__name")[:TOP_PROMOTERS]
    )
    teams = list(
        snapshots.exclude(team="")
        .values("team")
        .annotate(n=Count("pk"), signings=Sum("signings"))
        .order_by("team")
    )
    return {"summary": summary, "top": top, "teams": teams}


def _streets(year: int) -> list[dict]:
    if not StreetAssessmentSnapshot.objects.filter(year=year).exists():
        street_assessment_compute(year=year)
    result = []
    for assessment in (
        StreetAssessmentSnapshot.objects.filter(year=year).select_related("street").order_by("street__name")
    ):
        result.append(
            {
                "assessment": assessment,
                "tax": num(assessment.tax_yuan / YUAN_PER_YI, 2),
                "indicators": _indicator_rows(year, assessment.street),
            }
        )
    return result


def _commitments(year: int) -> dict | None:
    """The commitment schedule's year: per policy, what the periods starting in the year promise
    (signings not cancelled, periods not withheld) and what the district paid in the year; and the
    amount withheld from the year's periods."""
    from policies.models import CommitmentLine, CommitmentPayment
    from policies.selectors import commitment_lines_standing

    due = {
        row["policy_name"]: row
        for row in commitment_lines_standing()
        .filter(year=year)
        .values("policy_name")
        .annotate(total=Sum("amount_yuan"), n=Count("commitment_id", distinct=True))
        .order_by()
    }
    paid = dict(
        CommitmentPayment.objects.filter(paid_on__year=year)
        .values("line__policy_name")
        .annotate(total=Sum("amount_yuan"))
        .values_list("line__policy_name", "total")
    )
    withheld = CommitmentLine.objects.filter(
        year=year, withheld_at__isnull=False, commitment__signing__cancelled_at__isnull=True
    ).aggregate(total=Sum("amount_yuan"))["total"] or Decimal(0)
    names = sorted(set(due) | set(paid), key=lambda name: (-(due.get(name, {}).get("total") or 0), name))
    rows = [
        {
            "policy_name": name,
            "n": due.get(name, {}).get("n", 0),
            "total": wan(due.get(name, {}).get("total") or Decimal(0)),
            "paid": wan(paid.get(name, Decimal(0))),
        }
        for name in names
    ]
    total = sum((row["total"] for row in due.values()), Decimal(0))
    paid_total = sum(paid.values(), Decimal(0))
    return {
        "rows": rows,
        "total": wan(total),
        "paid": wan(paid_total),
        "withheld": wan(withheld) if withheld else None,
    }


def _stability(year: int) -> dict | None:
    """Tax-source stability (税源稳定性): who of the tenants of 1 January left the district in the year."""
    from retention.stability import tax_source_stability

    figures = tax_source_stability(year=year, today=timezone.localdate())
    if figures is None:
        return None
    kept_tax = figures["tax_kept_share"]
    return {
        **figures,
        "kept_share": num(figures["kept_share"] * 100, 1),
        "tax": wan(figures["tax"]),
        "tax_left": wan(figures["tax_left"]),
        "tax_kept_share": num(kept_tax * 100, 1) if kept_tax is not None else "—",
    }


def white_paper_context(*, year: int) -> dict:
    """Everything the white paper shows for `year`."""
    district = _indicator_rows(year)
    achievement_chart = _bars(
        [
            (
                row["label"],
                row["achieved"],
                progress(row["achieved"], 1),
            )
            for row in district
        ],
        scale_to=Decimal(100),
    )
    streets = _streets(year)
    street_chart = _bars(
        [
            (s["assessment"].street.name, s["assessment"].tax_yuan / YUAN_PER_YI, f"{s['tax']} 亿元")
            for s in streets
        ]
    )
    return {
        "year": year,
        "day": as_of(year),
        "district": district,
        "met": sum(1 for row in district if row["met"]),
        "achievement_chart": achievement_chart,
        "streets": streets,
        "street_chart": street_chart,
        "tiers": _tiers(year),
        "industries": _industries(year),
        "appraisal": _appraisal(year),
        "commitments": _commitments(year),
        "stability": _stability(year),
        "chart_width": CHART_WIDTH,
        "generated_at": timezone.now(),
    }


def render_pdf(html: str) -> tuple[bytes | None, str]:
    """The PDF of the HTML, or None and the reason when WeasyPrint or its system libraries are missing."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: the Pango/Cairo libraries are not installed
        return None, f"未生成PDF(需安装 weasyprint 与 Pango)/ no PDF: {type(exc).__name__}: {exc}"[:300]
    # WeasyPrint reports every layout step at INFO; the worker's log needs none of it.
    for name in ("weasyprint", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return HTML(string=html).write_pdf(), ""


@transaction.atomic
def white_paper_request(*, year: int) -> WhitePaper:
    """Ask for the paper of `year` to be (re)generated; the caller enqueues the generation after commit."""
    if not REPORT_YEAR_MIN <= year <= YEAR_MAX:
        # Year 0 was accepted once and stayed "requested" for ever: no generation can run for it.
        raise ValidationError(
            {
                "year": [
                    f"年度应在 {REPORT_YEAR_MIN}–{YEAR_MAX} 之间 / "
                    f"the year must be {REPORT_YEAR_MIN}–{YEAR_MAX}"
                ]
            }
        )
    paper, _ = WhitePaper.objects.get_or_create(year=year, defaults={"requested_at": timezone.now()})
    paper.state = WhitePaper.State.REQUESTED
    paper.requested_at = timezone.now()
    paper.save(update_fields=["state", "requested_at"])
    return paper


def white_paper_generate(*, year: int) -> WhitePaper:
    """Render the paper of `year` as HTML and, where possible, PDF, and store both."""
    html = render_to_string("crm/white_paper.html", white_paper_context(year=year))
    pdf, note = render_pdf(html)
    with transaction.atomic():
        paper, _ = WhitePaper.objects.select_for_update().get_or_create(
            year=year, defaults={"requested_at": timezone.now()}
        )
        paper.html = html
        paper.pdf = pdf
        paper.pdf_note = note
        paper.state = WhitePaper.State.READY
        paper.generated_at = timezone.now()
        paper.save()
    return paper

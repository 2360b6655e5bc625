"""Promoter leaderboard with the numbers behind each score, street assessment, and the white paper."""

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from crm.constants import IndicatorKey, Role
from crm.indicators import UNITS
from crm.models import AppraisalSnapshot, Promoter, Signing, Street, StreetAssessmentSnapshot, WhitePaper
from crm.models.appraisal import Metric, PeriodKind
from crm.selectors.appraisal import signings_pipeline_in, signings_verified_in
from crm.services.appraisal import Period, weights_for
from crm.services.white_paper import white_paper_request
from crm.web.access import OFFICE, request_viewer, role_of, roles_required, scoped
from crm.web.exports import export_response, wanted_format
from crm.web.params import BadParameter, year_param
from workers.enqueue import enqueue
from workers.tasks import appraisal_period, generate_white_paper, street_assessment_nightly

LEADERBOARD_ROLES = (*OFFICE, Role.PROMOTER)
PAPER_ROLES = (Role.DISTRICT_ADMIN, Role.AUDITOR)
HEADLINE = (Metric.SIGNINGS, Metric.SIGNED_AREA_M2, Metric.EXPECTED_TAX_YUAN, Metric.CONVERSION_RATE)


def _period(request) -> Period:
    text = request.GET.get("period")
    if text:
        try:
            return Period.parse(text)
        except ValidationError as exc:
            raise BadParameter("period", " ".join(exc.messages)) from None
    return Period.containing(PeriodKind.MONTH, timezone.localdate())


def _recent_periods(today) -> list[Period]:
    month = Period.containing(PeriodKind.MONTH, today)
    previous = Period.containing(PeriodKind.MONTH, month.start - dt.timedelta(days=1))
    return [
        month,
        previous,
        Period.containing(PeriodKind.QUARTER, today),
        Period.containing(PeriodKind.YEAR, today),
        Period.containing(PeriodKind.YEAR, today.replace(year=today.year - 1)),
    ]


@roles_required(LEADERBOARD_ROLES)
def leaderboard(request):
    period = _period(request)
    promoters = scoped(request, Promoter).values("pk")
    snapshots = (
        AppraisalSnapshot.objects.filter(
            period_kind=period.kind, period_start=period.start, promoter__in=promoters
        )
        .select_related("promoter", "street")
        .order_by(Coalesce("rank_district", 10**6), "promoter__name")
    )
    fmt = wanted_format(request)
    if fmt:
        header = ["排名 rank", "招商人员 promoter", "团队 team", "镇街 street", "得分 score"] + [
            f"{m.label} {m.value}" for m in Metric
        ]
        rows = (
            [s.rank_district, s.promoter.name, s.team, s.street.name if s.street else "", s.score]
            + [getattr(s, m.value) for m in Metric]
            for s in snapshots
        )
        return export_response(name=f"appraisal-{period}", fmt=fmt, header=header, rows=rows)
    rows = list(snapshots)
    computed = rows[0].computed_at if rows else None
    context = {
        "period": period,
        "periods": _recent_periods(timezone.localdate()),
        "rows": rows,
        "headline": [(m.value, m.label) for m in HEADLINE],
        "computed": computed,
        "can_compute": role_of(request) == Role.DISTRICT_ADMIN,
    }
    return render(request, "web/leaderboard.html", context)


@require_POST
@roles_required(Role.DISTRICT_ADMIN)
def appraisal_recompute(request):
    try:
        period = Period.parse(request.POST.get("period", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("web:leaderboard")
    enqueue(appraisal_period, period.kind, period.start.isoformat())
    messages.success(request, _("已提交重新计算 %(p)s / recomputation queued") % {"p": period})
    return redirect(f"{reverse('web:leaderboard')}?period={period}")


@roles_required(LEADERBOARD_ROLES)
def appraisal_detail(request, pk: int):
    """One promoter's score taken apart: each metric's figure, target, achievement, weight and points."""
    snapshot = get_object_or_404(
        AppraisalSnapshot.objects.select_related("promoter", "street").filter(
            promoter__in=scoped(request, Promoter).values("pk")
        ),
        pk=pk,
    )
    weights = weights_for(snapshot.period_start)
    achievements = {m: Decimal(v) for m, v in (snapshot.achievements or {}).items()}
    weighed_total = sum(weights[m] for m in achievements if weights.get(m))
    rows = []
    for metric in Metric:
        achieved = achievements.get(metric.value)
        weight = weights.get(metric.value, 0)
        points = None
        if achieved is not None and weight and weighed_total:
            # The score is 100 × Σ weight × achievement / Σ weight over the metrics with a target.
            points = Decimal(100) * weight * achieved / weighed_total
        rows.append(
            {
                "label": metric.label,
                "actual": getattr(snapshot, metric.value),
                "target": (snapshot.targets or {}).get(metric.value),
                "achievement": achieved,
                "percent": None if achieved is None else achieved * 100,  # labelled by `progress`
                "weight": weight,
                "points": points,
            }
        )
    # The signings the figures count, by the appraisal's own definition (crm.selectors.appraisal):
    # the verified ones of the period (its results) and those still waiting (its pipeline).
    period = Period.of(snapshot.period_kind, snapshot.period_start)
    visible = scoped(request, Signing)
    verified = (
        signings_verified_in(period, visible)
        .filter(credited=snapshot.promoter_id)
        .select_related("lead", "building")
        .order_by("settled_at", "pk")
    )
    pipeline = (
        signings_pipeline_in(period, visible)
        .filter(credited=snapshot.promoter_id)
        .select_related("lead", "building")
        .order_by("signed_on", "pk")
    )
    context = {
        "snapshot": snapshot,
        "period": period,
        "rows": rows,
        "weighed_total": weighed_total,
        "signings": list(verified),
        "pipeline": list(pipeline),
    }
    return render(request, "web/appraisal_detail.html", context)


# ------------------------------------------------------------------ street assessment


def _assessment_year(request) -> int:
    year = year_param(request.GET, "year")
    if year is not None:
        return year
    latest = StreetAssessmentSnapshot.objects.order_by("-year").values_list("year", flat=True).first()
    return latest or timezone.localdate().year


@roles_required(OFFICE)
def assessment_list(request):
    year = _assessment_year(request)
    rows = list(
        StreetAssessmentSnapshot.objects.filter(year=year, street__in=scoped(request, Street).values("pk"))
        .select_related("street")
        .order_by("-targets_met", "street__name")
    )
    if role_of(request) == Role.STREET_OFFICER:
        # An officer assesses their own street; the others' figures are the district's to compare.
        rows = [r for r in rows if r.street_id == request_viewer(request).street_id]
    fmt = wanted_format(request)
    if fmt:
        header = [
            "镇街 street",
            "达标数 targets met",
            "设定目标数 targets set",
            "签约数 signings",
            "签约面积 signed area (m²)",
            "楼宇税收 tax (元)",
            "税收增长率 tax growth (%)",
            "招商人员数 promoters",
            "招商人员平均得分 promoter score",
        ]
        data = (
            [
                r.street.name,
                r.targets_met,
                r.targets_set,
                r.signings,
                r.signed_area_m2,
                r.tax_yuan,
                r.tax_growth,
                r.promoters,
                r.promoter_score,
            ]
            for r in rows
        )
        return export_response(name=f"street-assessment-{year}", fmt=fmt, header=header, rows=data)
    years = list(StreetAssessmentSnapshot.objects.values_list("year", flat=True).distinct().order_by("-year"))
    context = {
        "year": year,
        "rows": rows,
        "years": years,
        "computed": rows[0].computed_at if rows else None,
        "can_compute": role_of(request) == Role.DISTRICT_ADMIN,
    }
    return render(request, "web/assessment_list.html", context)


@require_POST
@roles_required(Role.DISTRICT_ADMIN)
def assessment_recompute(request):
    """Queue the street assessment of a year, as the leaderboard queues an appraisal."""
    year = year_param(request.POST, "year")  # a malformed one: the 400 of crm.web.params
    if year is None:
        messages.error(request, _("请填写年度 / give a year"))
        return redirect("web:assessment")
    enqueue(street_assessment_nightly, year)
    messages.success(request, _("已提交重新计算 %(p)s / recomputation queued") % {"p": year})
    return redirect(f"{reverse('web:assessment')}?year={year}")


@roles_required(OFFICE)
def assessment_detail(request, pk: int):
    snapshot = get_object_or_404(
        StreetAssessmentSnapshot.objects.select_related("street").filter(
            street__in=scoped(request, Street).values("pk")
        ),
        pk=pk,
    )
    officer = role_of(request) == Role.STREET_OFFICER
    if officer and snapshot.street_id != request_viewer(request).street_id:
        raise Http404
    rows = []
    for key in IndicatorKey:
        value = (snapshot.indicators or {}).get(key.value)
        target = (snapshot.targets or {}).get(key.value)
        value_d = Decimal(value) if value is not None else None
        target_d = Decimal(target) if target is not None else None
        rows.append(
            {
                "label": key.label,
                "unit": UNITS[key],
                "value": value_d,
                "target": target_d,
                "met": value_d is not None and target_d is not None and value_d >= target_d,
                "progress": value_d * 100 / target_d if value_d is not None and target_d else None,
            }
        )
    return render(request, "web/assessment_detail.html", {"snapshot": snapshot, "rows": rows})


# ------------------------------------------------------------------ white paper


@roles_required(PAPER_ROLES)
def white_paper_list(request):
    if request.method == "POST":
        if role_of(request) != Role.DISTRICT_ADMIN:
            raise PermissionDenied
        year = year_param(request.POST, "year")  # a malformed one: the 400 of crm.web.params
        if year is None:
            messages.error(request, _("请填写年度 / give a year"))
            return redirect("web:white_papers")
        paper = white_paper_request(year=year)
        enqueue(generate_white_paper, paper.year)
        messages.success(request, _("已提交生成 %(y)s 年白皮书 / generation queued") % {"y": paper.year})
        return redirect("web:white_papers")
    papers = list(WhitePaper.objects.defer("html", "pdf").order_by("-year"))
    with_pdf = set(WhitePaper.objects.filter(pdf__isnull=False).values_list("year", flat=True))
    for paper in papers:
        paper.has_pdf = paper.year in with_pdf
    return render(
        request,
        "web/white_papers.html",
        {
            "papers": papers,
            "can_request": role_of(request) == Role.DISTRICT_ADMIN,
            "next_year": timezone.localdate().year - 1,
        },
    )


@xframe_options_sameorigin
@roles_required(PAPER_ROLES)
def white_paper_view(request, year: int):
    paper = get_object_or_404(WhitePaper.objects.defer("pdf"), year=year, state=WhitePaper.State.READY)
    return HttpResponse(paper.html)


@roles_required(PAPER_ROLES)
def white_paper_pdf(request, year: int):
    paper = get_object_or_404(WhitePaper, year=year, state=WhitePaper.State.READY)
    if not paper.pdf:
        raise Http404(paper.pdf_note or _("没有PDF / no PDF"))
    response = HttpResponse(bytes(paper.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="white-paper-{year}.pdf"'
    return response

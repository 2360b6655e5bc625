"""The commitment schedule page: each signing's promised amounts by period of its agreement, what was
paid and withheld; the district office records payments and withholds periods; a CSV/XLSX download."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.constants import Role
from crm.web.access import object_in_scope, role_of, roles_required, scoped
from crm.web.exports import export_response, wanted_format
from crm.web.forms import BoundedDateField
from crm.web.params import BadParameter
from policies.models import MONEY, CommitmentLine
from policies.selectors import STATUS_LABELS, commitment_schedule, schedule_row_status
from policies.services import commitment_line_withhold, commitment_payment_record

PAGE_SIZE = 50
# Who reads the district's promises (crm.selectors.scope narrows them to rows).
READERS = (Role.DISTRICT_ADMIN, Role.AUDITOR, Role.STREET_OFFICER, Role.PROMOTER)


class PaymentForm(forms.Form):
    amount_yuan = forms.DecimalField(label=gettext_lazy("支付金额(元)"), **MONEY)
    paid_on = BoundedDateField(label=gettext_lazy("支付日期"))
    note = forms.CharField(label=gettext_lazy("备注"), max_length=300, required=False)


class WithholdForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("暂缓原因"), max_length=300)


def _year(request) -> int | None:
    text = request.GET.get("year", "").strip()
    if not text:
        return None
    if not (text.isdigit() and len(text) == 4):
        raise BadParameter("year", "年度应为四位数字 / the year must be four digits")
    return int(text)


@roles_required(*READERS)
def commitment_schedule_page(request):
    rows = commitment_schedule(scoped(request, CommitmentLine))
    year = _year(request)
    if year is not None:
        rows = rows.filter(year=year)
    today = timezone.localdate()
    fmt = wanted_format(request)
    if fmt:
        header = [
            "签约 signing",
            "线索 lead",
            "企业 company",
            "楼宇 building",
            "政策 policy",
            "福利 benefit",
            "第几年 year_index",
            "期间开始 period_start",
            "期间结束 period_end",
            "承诺金额(元) amount_yuan",
            "已兑现(元) paid_yuan",
            "状态 status",
            "暂缓原因 withheld_reason",
            "受益方 beneficiary",
            "推荐企业 referrer",
        ]
        # Exact yuan, as stored: a download is a machine output, only the page rounds.
        lines = (
            [
                line.commitment.signing_id,
                line.commitment.signing.lead.ref,
                line.commitment.signing.lead.company_name,
                line.commitment.building.name,
                line.policy_name,
                line.get_benefit_kind_display(),
                line.year_index,
                line.period_start,
                line.period_end,
                format(line.amount_yuan, "f"),
                format(line.paid_yuan, "f"),
                schedule_row_status(line, today=today).value,
                line.withheld_reason,
                line.beneficiary,
                line.referrer.credit_code if line.referrer_id else "",
            ]
            for line in rows.iterator(chunk_size=2000)
        )
        return export_response(name="commitment-schedule", fmt=fmt, header=header, rows=lines)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for line in page:
        line.status = schedule_row_status(line, today=today).value
        line.status_label = STATUS_LABELS[line.status]
        line.owed = line.amount_yuan - line.paid_yuan
    context = {"page": page, "year": year or "", "office": role_of(request) == Role.DISTRICT_ADMIN}
    return render(request, "web/commitment_schedule.html", context)


def _back(request):
    year = request.POST.get("year", "")
    url = redirect("web:commitment_schedule").url
    return redirect(f"{url}?year={year}" if year.isdigit() else url)


@require_POST
@roles_required(Role.DISTRICT_ADMIN)
def commitment_payment_add(request, pk: int):
    line = object_in_scope(request, CommitmentLine, pk)
    form = PaymentForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return _back(request)
    try:
        commitment_payment_record(line=line, by=request.user, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已登记兑现 / the payment is recorded"))
    return _back(request)


@require_POST
@roles_required(Role.DISTRICT_ADMIN)
def commitment_withhold(request, pk: int):
    line = object_in_scope(request, CommitmentLine, pk)
    form = WithholdForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return _back(request)
    try:
        commitment_line_withhold(line=line, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已暂缓兑现 / the period is withheld"))
    return _back(request)

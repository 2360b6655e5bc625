"""Incentive policies: the list and one policy, the what-if calculator, and case-by-case approvals."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.constants import Role
from crm.models import Building, Lead
from crm.web.access import object_in_scope, role_of, roles_required, scoped
from crm.web.exports import export_response, wanted_format
from crm.web.forms import PolicyWhatIfForm, ReviewForm, add_service_errors
from crm.web.params import id_param, text_param
from policies.adapter import offer_for_lead
from policies.engine.terms import PARAMETERS, Offer
from policies.models import ApprovalStatus, Benefit, Policy
from policies.services import policy_approve, policy_reject, policy_what_if, profile_build

PAGE_SIZE = 50


def _policies(request):
    return (
        scoped(request, Policy)
        .select_related("street", "business_circle", "building", "lead")
        .prefetch_related(Prefetch("benefits", queryset=Benefit.objects.order_by("id")))
    )


def benefit_terms(benefit: Benefit) -> str:
    """A benefit's parameters as one line: 比例(%) 50 · 月数 12."""
    parts = []
    for name, value in benefit.parameters().items():
        if value is None:
            continue
        text = format(value.normalize(), ",f") if isinstance(value, Decimal) else str(value)
        parts.append(f"{PARAMETERS[name][0]} {text}")
    return " · ".join(parts)


@roles_required()
def policy_list(request):
    policies = _policies(request)
    scope = text_param(request.GET, "scope")
    if scope:
        policies = policies.filter(scope=scope)
    if request.GET.get("active") == "1":
        today = timezone.localdate()
        policies = policies.filter(
            Q(active=True, valid_from__lte=today) & (Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        )
    q = text_param(request.GET, "q")
    if q:
        policies = policies.filter(name__icontains=q)
    policies = policies.order_by("-priority", "name", "pk")
    fmt = wanted_format(request)
    if fmt:
        header = [
            "名称 name",
            "范围 scope",
            "地点 place",
            "生效 from",
            "失效 to",
            "启用 active",
            "叠加组 group",
            "审批 approval",
            "福利 benefits",
        ]
        rows = (
            [
                p.name,
                p.get_scope_display(),
                str(p.place or ""),
                p.valid_from,
                p.valid_to,
                p.active,
                p.stacking_group,
                p.get_approval_status_display(),
                ";".join(f"{b.get_kind_display()} {benefit_terms(b)}" for b in p.benefits.all()),
            ]
            for p in policies
        )
        return export_response(name="policies", fmt=fmt, header=header, rows=rows)
    page = Paginator(policies, PAGE_SIZE).get_page(request.GET.get("page"))
    for policy in page:
        policy.terms = [(b.get_kind_display(), benefit_terms(b)) for b in policy.benefits.all()]
    scopes = Policy._meta.get_field("scope").choices
    return render(request, "web/policy_list.html", {"page": page, "scopes": scopes, "scope": scope, "q": q})


@roles_required()
def policy_detail(request, pk: int):
    policy = object_in_scope(request, _policies(request), pk)
    benefits = [(b.get_kind_display(), benefit_terms(b)) for b in policy.benefits.all()]
    lead_visible = policy.lead_id and scoped(request, Lead).filter(pk=policy.lead_id).exists()
    return render(
        request,
        "web/policy_detail.html",
        {
            "policy": policy,
            "benefits": benefits,
            "lead_visible": lead_visible,
            "can_review": role_of(request) == Role.DISTRICT_ADMIN
            and policy.approval_status == ApprovalStatus.PENDING,
            "review_form": ReviewForm(),
        },
    )


@roles_required()
def policy_calculator(request):
    """What an applicant would get in a building: each applied policy with its yearly amounts and
    arithmetic, the policies outranked in their stacking group, and why the others do not apply."""
    buildings = scoped(request, Building).order_by("code")
    lead = None
    initial = {"on": timezone.localdate()}
    lead_id = id_param(request.GET, "lead")
    if lead_id:
        lead = scoped(request, Lead).select_related("industry").filter(pk=lead_id).first()
    if lead is not None:
        offer = offer_for_lead(lead, on=timezone.localdate())
        initial.update(
            industry_code=lead.industry_id or "",
            area_m2=round(offer.area_m2, 2) or None,
            expected_annual_tax=lead.expected_annual_tax,
            employees=lead.employees,
            is_headquarters=lead.is_headquarters,
            referred=lead.referred_by_id is not None,
        )
    data = request.GET if "building" in request.GET else None
    form = PolicyWhatIfForm(data, buildings=buildings, initial=initial)
    evaluation = None
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        try:
            profile = profile_build(
                industry_code=d["industry_code"],
                expected_annual_tax=d["expected_annual_tax"] or 0,
                employees=d["employees"] or 0,
                is_headquarters=d["is_headquarters"],
                referred=d["referred"],
                lead=lead,
            )
            offer = Offer(
                area_m2=float(d["area_m2"]),
                on=d["on"],
                rent_per_m2_day=float(d["rent_per_m2_day"]) if d["rent_per_m2_day"] is not None else None,
            )
            evaluation = policy_what_if(profile=profile, building=d["building"], offer=offer)
        except ValidationError as exc:
            add_service_errors(form, exc)
    return render(
        request, "web/policy_calculator.html", {"form": form, "evaluation": evaluation, "lead": lead}
    )


@roles_required(Role.DISTRICT_ADMIN)
def approval_list(request):
    pending = _policies(request).filter(needs_approval=True).select_related("proposed_by")
    status = request.GET.get("status", ApprovalStatus.PENDING)
    if status in ApprovalStatus.values:
        pending = pending.filter(approval_status=status)
    rows = list(pending.order_by("proposed_at", "pk")[:200])
    for policy in rows:
        policy.terms = [(b.get_kind_display(), benefit_terms(b)) for b in policy.benefits.all()]
    return render(
        request,
        "web/approvals.html",
        {"rows": rows, "status": status, "statuses": ApprovalStatus.choices, "form": ReviewForm()},
    )


@require_POST
@roles_required(Role.DISTRICT_ADMIN)
def policy_review(request, pk: int):
    policy = object_in_scope(request, Policy, pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                policy_approve(policy=policy, by=request.user, note=form.cleaned_data["note"])
                messages.success(request, _("已批准:%(name)s") % {"name": policy.name})
            else:
                policy_reject(policy=policy, by=request.user, note=form.cleaned_data["note"])
                messages.success(request, _("已驳回:%(name)s") % {"name": policy.name})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("请选择批准或驳回 / choose approve or reject"))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("web:approvals")

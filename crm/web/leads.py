"""Leads: the list and the board, quick add with the 撞单 warning and the industry suggestion, one lead's
timeline and work (activities, stage changes, signing), its ranked buildings and booking a site tour."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.api.exceptions import in_language
from crm.api.masking import mask_personal
from crm.api.match_rows import building_exclusions_seen, building_matches_seen
from crm.constants import LEAD_TRANSITIONS, ActivityKind, LeadStage, Role
from crm.credit_code import normalise_credit_code
from crm.models import (
    Activity,
    Building,
    ContactAccess,
    Lead,
    Promoter,
    Signing,
    StageChange,
    Unit,
)
from crm.selectors.reservations import reservations_live
from crm.selectors.units import units_offerable
from crm.services.activities import activity_log
from crm.services.leads import (
    lead_create,
    lead_entry_exception_approve,
    lead_protection_conflict,
    lead_reassign,
    lead_transition,
    protection_until,
    referrer_by_credit_code,
)
from crm.services.privacy import contact_access_record
from crm.services.signings import settlement_gaps, signing_cancel, signing_complete, signing_settle
from crm.validators import unsafe_text_error
from crm.web.access import (
    CHANGE,
    hides_personal_data,
    object_in_scope,
    request_viewer,
    role_of,
    roles_required,
    scoped,
    works_leads,
)
from crm.web.desk import leads_with_plan
from crm.web.exports import export_response, wanted_format
from crm.web.forms import (
    ActivityForm,
    LeadFilterForm,
    LeadForm,
    SignForm,
    StageForm,
    TourForm,
    add_service_errors,
    now_local,
)
from crm.web.fragments import fragment_of
from crm.web.params import BadParameter, id_param, ids_param
from matching.core.types import COMPONENT_LABELS, COMPONENTS, MatchingInputError
from matching.industry_suggest import suggest_industry

PAGE_SIZE = 50
BOARD_CARDS = 30  # cards per stage on the board; the list shows the rest
BOARD_STAGES = (
    LeadStage.NEW,
    LeadStage.CONTACTED,
    LeadStage.VISITING,
    LeadStage.NEGOTIATING,
    LeadStage.SIGNED,
    LeadStage.SETTLED,
    LeadStage.LOST,
)
# The terminal stages: their columns start folded, so that every column fits a 1366 px screen.
BOARD_FOLDED = (LeadStage.SETTLED, LeadStage.LOST)
MATCHES_SHOWN = 10
LEAD_READERS = (Role.PROMOTER, Role.DISTRICT_ADMIN, Role.STREET_OFFICER, Role.AUDITOR, Role.AGENCY)
WORKERS = (Role.PROMOTER, Role.DISTRICT_ADMIN)


def _lead_rows(request):
    return scoped(request, Lead).select_related("owner", "industry", "agency")


def _promoter_choices(request):
    """Promoters the user may pick as owner or filter by: none for a promoter (it is always them)."""
    if role_of(request) == Role.PROMOTER:
        return None
    return scoped(request, Promoter).filter(active=True).order_by("name")


def _worker(request) -> Promoter | None:
    promoter_id = request_viewer(request).promoter_id
    return Promoter.objects.filter(pk=promoter_id).first() if promoter_id else None


def _changeable(request, lead: Lead) -> bool:
    return works_leads(request) and scoped(request, Lead.objects.filter(pk=lead.pk), CHANGE).exists()


def _lead_for_work(request, pk: int) -> Lead:
    """The lead if the user works it: visible (else 404), changeable by a lead worker (else 403)."""
    lead = object_in_scope(request, Lead.objects.select_related("owner", "industry"), pk)
    if not _changeable(request, lead):
        raise PermissionDenied(_("无权办理此线索 / you may not work this lead"))
    return lead


# ------------------------------------------------------------------ list


def filtered_leads(request, form: LeadFilterForm):
    leads = _lead_rows(request)
    if not form.is_valid():
        return leads.order_by("-last_activity_at", "pk")
    data = form.cleaned_data
    if data["q"]:
        q = data["q"].strip()
        leads = leads.filter(
            Q(company_name__icontains=q) | Q(ref__iexact=q) | Q(credit_code=normalise_credit_code(q))
        )
    if data["stage"]:
        leads = leads.filter(stage=data["stage"])
    if data["channel"]:
        leads = leads.filter(channel=data["channel"])
    if data.get("owner"):
        leads = leads.filter(owner=data["owner"])
    if data["case_by_case"]:
        leads = leads.filter(case_by_case=True)
    sort = data["sort"] if data["sort"] in LeadFilterForm.SORTS else "-last_activity_at"
    return leads.order_by(sort, "pk")


@roles_required(LEAD_READERS)
def lead_list(request):
    form = LeadFilterForm(request.GET or None, promoters=_promoter_choices(request))
    leads = filtered_leads(request, form)
    hidden = hides_personal_data(request)
    fmt = wanted_format(request)
    if fmt:
        if not hidden:  # PIPL: every export of unmasked contacts is recorded, one row per lead
            contact_access_record(user=request.user, how=ContactAccess.How.WEB_EXPORT, leads=leads)
        return _export_leads(leads, fmt, hidden)
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/lead_list.html",
        {"form": form, "page": page, "can_add": works_leads(request), "hidden": hidden},
    )


def _export_leads(leads, fmt: str, hidden: bool):
    header = [
        "线索编号 ref",
        "企业名称 company",
        "统一社会信用代码 credit code",
        "行业 industry",
        "阶段 stage",
        "渠道 channel",
        "负责人 owner",
        "联系人 contact",
        "联系电话 phone",
        "最小面积 area min (m²)",
        "最大面积 area max (m²)",
        "租金预算 budget (元/㎡·天)",
        "预计年纳税 expected tax (元)",
        "拟区内注册 registers here",
        "拟区内结算 settles here",
        "拟区内纳税 pays tax here",
        "流失原因 lost reason",
        "最近跟进 last activity",
        "创建时间 created",
    ]

    def rows():
        for lead in leads.iterator(chunk_size=2000):
            contact, phone = lead.contact_name, lead.contact_phone
            if hidden:
                contact, phone = mask_personal(contact), mask_personal(phone)
            yield [
                lead.ref,
                lead.company_name,
                lead.credit_code,
                lead.industry_id or "",
                lead.get_stage_display(),
                lead.get_channel_display(),
                lead.owner.name if lead.owner else "",
                contact,
                phone,
                lead.area_min_m2,
                lead.area_max_m2,
                lead.budget_rent,
                lead.expected_annual_tax,
                lead.registers_in_district,
                lead.settles_in_district,
                lead.pays_tax_in_district,
                lead.lost_reason,
                lead.last_activity_at,
                lead.created_at,
            ]

    return export_response(name="leads", fmt=fmt, header=header, rows=rows())


# ------------------------------------------------------------------ board


def _board_card(lead: Lead, now: dt.datetime) -> Lead:
    """A lead as its card shows it: the stages it may move to (in the funnel's order; signing has its
    own form) and whether its planned follow-up is overdue."""
    # A settled lead is lost only by cancelling its signing, on the lead page.
    lead.moves = (
        []
        if lead.stage == LeadStage.SETTLED
        else [stage for stage in BOARD_STAGES if stage in LEAD_TRANSITIONS[lead.stage]]
    )
    lead.overdue = lead.planned_at is not None and lead.planned_at < now
    return lead


def board_columns(request) -> list[dict]:
    """The board: each stage with its most recently worked leads and their planned follow-up (one
    windowed query), and each stage's count and expected yearly tax (one)."""
    leads = scoped(request, Lead, CHANGE).filter(stage__in=BOARD_STAGES)
    ranked = (
        leads_with_plan(leads)
        .annotate(
            position=Window(
                RowNumber(), partition_by=[F("stage")], order_by=[F("last_activity_at").desc(), F("pk")]
            )
        )
        .filter(position__lte=BOARD_CARDS)
        .select_related("owner")
        .order_by("stage", "position")
    )
    totals = {
        row["stage"]: row
        for row in leads.values("stage").annotate(n=Count("pk"), tax=Sum("expected_annual_tax")).order_by()
    }
    now = timezone.now()
    cards: dict[str, list] = {stage: [] for stage in BOARD_STAGES}
    for lead in ranked:
        cards[lead.stage].append(_board_card(lead, now))
    columns = []
    for stage in BOARD_STAGES:
        count = totals.get(stage.value, {}).get("n", 0)
        columns.append(
            {
                "stage": stage.value,
                "label": stage.label,
                "leads": cards[stage],
                "count": count,
                "tax": totals.get(stage.value, {}).get("tax") or Decimal(0),
                "more": count - len(cards[stage]),
                "terminal": stage in BOARD_FOLDED,
            }
        )
    return columns


def _stage_labels() -> dict[str, str]:
    return {stage.value: stage.label for stage in LeadStage}


@roles_required(WORKERS)
def lead_board(request):
    return render(
        request,
        "web/lead_board.html",
        {"columns": board_columns(request), "stage_labels": _stage_labels()},
    )


@require_POST
@roles_required(WORKERS)
def board_move(request, pk: int):
    """A card dropped on (or moved by its stage control to) another stage.

    Moved: the board redrawn (the card in its new column, counts and totals updated), swapped in place
    by htmx. Refused (an edge the funnel does not allow, lost without a reason): only that card again,
    its control still on the stage asked for and each error under its field, in the reader's language.
    """
    lead = _lead_for_work(request, pk)
    to_stage = request.POST.get("to_stage", "")
    reason = request.POST.get("reason", "")
    errors: dict[str, list[str]] = {}
    try:  # the service refuses a move to signed too: a signing is recorded on its own form
        lead_transition(lead=lead, to_stage=to_stage, by=request.user, reason=reason)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"stage": exc.messages}
    errors = {field: [in_language(m) for m in messages_] for field, messages_ in errors.items()}
    if errors:
        if not request.htmx:
            messages.error(request, " ".join(m for ms in errors.values() for m in ms))
            return redirect("web:board")
        card = _board_card(
            leads_with_plan(Lead.objects.filter(pk=lead.pk)).select_related("owner").get(), timezone.now()
        )
        context = {
            "lead": card,
            "stage_labels": _stage_labels(),
            "errors": errors,
            "asked": to_stage,
            "reason": reason,
        }
        response = render(request, "web/_board_card.html", context)
        response["HX-Retarget"] = f"#card-{lead.pk}"
        response["HX-Reswap"] = "outerHTML"
        return response
    if request.htmx:
        return render(
            request, "web/_board.html", {"columns": board_columns(request), "stage_labels": _stage_labels()}
        )
    return redirect("web:board")


# ------------------------------------------------------------------ quick add


@roles_required(WORKERS)
def lead_add(request):
    promoters = _promoter_choices(request)
    form = LeadForm(request.POST or None, promoters=promoters)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner = data.get("owner") if promoters is not None else _worker(request)
        try:
            code = (data["referred_by"] or "").strip()
            referrer = referrer_by_credit_code(code) if code else None
            lead = lead_create(
                company_name=data["company_name"],
                channel=data["channel"],
                by=request.user,
                owner=owner,
                credit_code=data["credit_code"],
                industry=data["industry"].code if data["industry"] else None,
                business_scope=data["business_scope"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                lawful_basis=data["lawful_basis"],
                referred_by=referrer,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("线索已登记:%(ref)s。面积、预算等可在线索页补充。") % {"ref": lead.ref}
            )
            return redirect("web:lead", pk=lead.pk)
    return render(request, "web/lead_add.html", {"form": form})


@require_POST
@roles_required(WORKERS)
def lead_duplicate_check(request):
    """As a company name or code is typed: the open lead (anyone's) holding it inside its protection."""
    name = (request.POST.get("company_name") or "").strip()
    code = normalise_credit_code(request.POST.get("credit_code") or "")
    if unsafe_text_error(name) or unsafe_text_error(code):
        name, code = "", ""  # nothing such is stored, so nothing can hold it; the form says why on save
    holder = None
    if len(name) >= 2 or len(code) == 18:
        # Whoever would own the new lead, the same rule holds: no company twice in the open pipeline.
        holder = lead_protection_conflict(credit_code=code, company_name=name)
    until = protection_until(holder) if holder is not None else None
    return render(request, "web/_duplicate.html", {"holder": holder, "until": until})


@require_POST
@roles_required(WORKERS)
def industry_suggestions(request):
    """The likeliest divisions for the business scope typed so far."""
    text = request.POST.get("business_scope", "")
    suggestions, problem = [], None
    if len(text.strip()) >= 4:
        try:
            suggestions = suggest_industry(text)
        except MatchingInputError as exc:
            problem = exc.message
    return render(request, "web/_industry_suggestions.html", {"suggestions": suggestions, "problem": problem})


# ------------------------------------------------------------------ one lead


def timeline(lead: Lead) -> list[dict]:
    """Activities and stage changes, newest first (two queries)."""
    events = [
        {"at": a.occurred_at, "kind": "activity", "activity": a}
        for a in Activity.objects.filter(lead=lead).select_related(
            "building", "unit", "promoter", "next_assignee"
        )
    ]
    events += [
        {"at": c.changed_at, "kind": "stage", "change": c}
        for c in StageChange.objects.filter(lead=lead).select_related("changed_by")
    ]
    events.sort(key=lambda e: e["at"], reverse=True)
    return events


def _posted_id(value) -> int | None:
    """A row id picked in a form, or None for anything else (the form's own field then reports it)."""
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


def _building_choices(request, *, bound: bool):
    """The buildings a form offers: a page only shows their labels, so it reads only those columns
    (a city office lists thousands); a posted form gets whole rows for the service it calls."""
    buildings = scoped(request, Building).order_by("code")
    return buildings.select_related("street") if bound else buildings.only("pk", "name", "code")


def _activity_form(request, lead: Lead, data=None, initial=None) -> ActivityForm:
    buildings = _building_choices(request, bound=data is not None)
    building_id = _posted_id((data or {}).get("building") or (initial or {}).get("building"))
    # A site tour shows units that can be offered: vacant, or held for this lead (never leased ones).
    units = (
        units_offerable(lead=lead).filter(building_id=building_id).order_by("floor", "number")
        if building_id
        else None
    )
    return ActivityForm(
        data,
        buildings=buildings,
        units=units,
        initial=initial,
        units_url=reverse("web:unit_options", args=[lead.pk]),
        assignees=scoped(request, Promoter).filter(active=True).order_by("name"),
    )


def _moves(lead: Lead) -> list[tuple[str, str]]:
    """The stages a lead may move to from the stage form, the first one proposed: onward through the
    funnel first, then back, losing it last; signing has its own form."""
    order = list(LeadStage.values)
    here = order.index(lead.stage)

    def proposal(stage: str) -> tuple[bool, bool, int]:
        position = order.index(stage)
        return stage == LeadStage.LOST, position < here, position

    if lead.stage in (LeadStage.SIGNED, LeadStage.SETTLED):
        return []  # settling and cancelling have their own forms on the signing
    allowed = sorted((s for s in LEAD_TRANSITIONS[lead.stage] if s != LeadStage.SIGNED), key=proposal)
    return [(s, LeadStage(s).label) for s in allowed]


def _detail_context(request, lead: Lead, *, activity_form: ActivityForm | None = None) -> dict:
    changeable = _changeable(request, lead)
    hidden = hides_personal_data(request)
    if activity_form is None and changeable:
        initial = {"occurred_at": now_local(), "kind": request.GET.get("kind") or ActivityKind.CALL}
        if request.GET.get("building"):
            initial["building"] = request.GET["building"]
            initial["unit"] = request.GET.get("unit") or None
        activity_form = _activity_form(request, lead, initial=initial)
    signings = Signing.objects.filter(lead=lead).select_related("building").prefetch_related("units")
    holds = reservations_live().filter(lead=lead).select_related("unit__building")
    return {
        "lead": lead,
        "contact_name": mask_personal(lead.contact_name) if hidden else lead.contact_name,
        "contact_phone": mask_personal(lead.contact_phone) if hidden else lead.contact_phone,
        "streets": list(lead.preferred_streets.all()),
        "events": timeline(lead),
        "signings": _signing_rows(request, lead, list(signings), changeable),
        "holds": list(holds),
        "changeable": changeable,
        "activity_form": activity_form if changeable else None,
        "moves": _moves(lead),
        "can_sign": changeable and lead.stage == LeadStage.NEGOTIATING and not lead.entry_needs_approval,
        "reassign_to": (
            list(scoped(request, Promoter).filter(active=True).exclude(pk=lead.owner_id).order_by("name"))
            if role_of(request) == Role.DISTRICT_ADMIN and lead.is_open and lead.owner_id
            else []
        ),
        "approves_entry": role_of(request) == Role.DISTRICT_ADMIN
        and lead.entry_needs_approval
        and lead.is_open,
        "open_activity": bool(request.GET.get("building"))
        or (activity_form is not None and activity_form.is_bound),
    }


@roles_required(LEAD_READERS)
def lead_detail(request, pk: int):
    related = Lead.objects.select_related("owner", "industry", "agency", "referred_by")
    lead = object_in_scope(request, related, pk)
    if not hides_personal_data(request):
        contact_access_record(user=request.user, how=ContactAccess.How.WEB_DETAIL, leads=[lead])
    return render(request, "web/lead_detail.html", _detail_context(request, lead))


@require_POST
@roles_required(WORKERS)
def activity_add(request, pk: int):
    lead = _lead_for_work(request, pk)
    form = _activity_form(request, lead, data=request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            activity_log(
                lead=lead,
                kind=data["kind"],
                occurred_at=data["occurred_at"],
                promoter=_worker(request) or lead.owner,
                by=request.user,
                building=data["building"],
                unit=data["unit"],
                notes=data["notes"],
                next_follow_up_at=data["next_follow_up_at"],
                next_kind=data["next_kind"],
                next_assignee=data["next_assignee"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("跟进已记录"))
            return redirect("web:lead", pk=lead.pk)
    context = _detail_context(request, lead, activity_form=form)
    return render(request, "web/lead_detail.html", context, status=400)


@roles_required(LEAD_READERS)
@fragment_of("web:lead")
def unit_options(request, pk: int):
    """The <option>s of a building's units, for the activity form's unit select."""
    lead = object_in_scope(request, Lead, pk)
    building = scoped(request, Building).filter(pk=id_param(request.GET, "building") or 0).first()
    units = []
    if building is not None:
        # Only units that can be offered: vacant, or held for this very lead.
        units = list(
            scoped(request, units_offerable(lead=lead)).filter(building=building).order_by("floor", "number")
        )
    return render(request, "web/_unit_options.html", {"units": units})


@require_POST
@roles_required(WORKERS)
def stage_change(request, pk: int):
    lead = _lead_for_work(request, pk)
    form = StageForm(request.POST)
    if form.is_valid():
        to_stage, reason = form.cleaned_data["to_stage"], form.cleaned_data["reason"]
        try:
            lead_transition(lead=lead, to_stage=to_stage, by=request.user, reason=reason)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("阶段已变更为 %(stage)s") % {"stage": LeadStage(to_stage).label})
    else:
        messages.error(request, _("未知阶段 / unknown stage"))
    return redirect("web:lead", pk=lead.pk)


# ------------------------------------------------------------------ matches


def _component_rows(components: dict[str, float], contributions: dict[str, float]) -> list[dict]:
    english = (get_language() or "").startswith("en")
    return [
        {
            "key": key,
            "label": COMPONENT_LABELS[key][1 if english else 0],
            "value": components.get(key, 0.0),
            "contribution": contributions.get(key, 0.0),
        }
        for key in COMPONENTS
    ]


@roles_required(LEAD_READERS)
@fragment_of("web:lead", anchor="matches")
def lead_matches(request, pk: int):
    """The buildings to show this lead first, each component as a bar, incentives in yuan."""
    lead = object_in_scope(request, Lead.objects.select_related("industry"), pk)
    try:
        # What the API's /leads/{id}/matches/ answers this caller, shown rather than re-derived.
        found = building_matches_seen(request, lead, limit=MATCHES_SHOWN)
    except MatchingInputError as exc:
        context = {"lead": lead, "problem": exc.message, "changeable": _changeable(request, lead)}
        return render(request, "web/_matches.html", context)
    results = []
    for result in found["results"]:
        unit_ids = result["offer"]["unit_ids"]
        results.append(
            {
                "result": result,
                "components": _component_rows(result["components"], result["contributions"]),
                "units": ";".join(str(u) for u in unit_ids),
                "first_unit": unit_ids[0] if unit_ids else "",
                "incentives": [{**item, "total": Decimal(item["total_3y"])} for item in result["incentives"]],
            }
        )
    tomorrow = timezone.localtime() + dt.timedelta(days=1)
    context = {
        "lead": lead,
        "found": found,
        "results": results,
        "excluded_total": sum(found["excluded_counts"].values()),
        "changeable": _changeable(request, lead),
        "tour_at": tomorrow.replace(hour=10, minute=0).strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, "web/_matches.html", context)


@roles_required(LEAD_READERS)
@fragment_of("web:lead", anchor="matches")
def lead_excluded(request, pk: int):
    """The buildings filtered out for this lead, each with its reason (on request: it lists them all)."""
    lead = object_in_scope(request, Lead.objects.select_related("industry"), pk)
    try:
        excluded = building_exclusions_seen(request, lead)
    except MatchingInputError as exc:
        return render(request, "web/_excluded.html", {"problem": exc.message})
    return render(request, "web/_excluded.html", {"excluded": excluded})


@require_POST
@roles_required(WORKERS)
def site_tour_schedule(request, pk: int):
    """Book a site tour of a matched building: a note now whose planned activity is the tour (its
    time, building and first offered unit), so that the owner is reminded when it is due and marks
    it done from the desk."""
    lead = _lead_for_work(request, pk)
    form = TourForm(request.POST, buildings=scoped(request, Building))
    # A refused booking answers in the match's action row, with the form again to correct the time.
    retry = {
        "url": reverse("web:site_tour_schedule", args=[lead.pk]),
        "building": _posted_id(request.POST.get("building")),
        "units": request.POST.get("units", ""),
        "at": request.POST.get("at", ""),
    }
    if not form.is_valid():
        return render(request, "web/_tour_booked.html", {"form": form, "retry": retry}, status=400)
    building, at = form.cleaned_data["building"], form.cleaned_data["at"]
    units = list(
        Unit.objects.filter(building=building, pk__in=form.cleaned_data["units"]).order_by("floor", "number")
    )
    where = f"{building.name} {'、'.join(u.number for u in units)}".strip()
    try:
        activity_log(
            lead=lead,
            kind=ActivityKind.NOTE,
            occurred_at=timezone.now(),
            promoter=_worker(request) or lead.owner,
            by=request.user,
            building=building,
            unit=units[0] if units else None,
            notes=f"预约实地看房:{where},{timezone.localtime(at):%Y-%m-%d %H:%M} / site tour booked: {where}",
            next_follow_up_at=at,
            next_kind=ActivityKind.SITE_TOUR,
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return render(request, "web/_tour_booked.html", {"form": form, "retry": retry}, status=400)
    return render(request, "web/_tour_booked.html", {"building": building, "at": at, "lead": lead})


# ------------------------------------------------------------------ signing


def _sign_form(request, lead: Lead, data=None) -> SignForm:
    buildings = _building_choices(request, bound=data is not None)
    building_id = _posted_id((data or request.GET).get("building"))
    units = None
    if building_id:
        units = (
            units_offerable(lead=lead)
            .filter(building_id=building_id, building__in=buildings.values("pk"))
            .order_by("floor", "number")
        )
    initial = {"signed_on": timezone.localdate(), "building": building_id}
    if data is None:
        # From a match card: the units it offered and their asking rent, which the promoter adjusts.
        initial["units"] = ids_param(request.GET, "units")
        initial["rent"] = _rent_param(request.GET)
        if units is not None and not initial["units"]:
            # Else the lead's own live holds in that building: what it was negotiating for.
            initial["units"] = list(
                reservations_live().filter(lead=lead, unit__in=units).values_list("unit_id", flat=True)
            )
    return SignForm(
        data,
        buildings=buildings,
        units=units,
        initial=initial,
        units_url=reverse("web:lead_sign", args=[lead.pk]),
    )


def _rent_param(data) -> Decimal | None:
    """The rent a match card offers (a float as the matching API writes it), to the fen."""
    text = str(data.get("rent") or "").strip()
    if not text:
        return None
    try:
        rent = Decimal(text)
    except InvalidOperation:
        raise BadParameter("rent", "应为租金数字,如 2.5 / must be a rent, like 2.5") from None
    if not rent.is_finite() or not 0 <= rent < 1_000_000:
        raise BadParameter("rent", "应为 0–999999 的租金 / must be a rent from 0 to 999999")
    return rent.quantize(Decimal("0.01"))


@roles_required(WORKERS)
def lead_sign(request, pk: int):
    lead = _lead_for_work(request, pk)
    if lead.stage != LeadStage.NEGOTIATING:
        messages.error(request, _("只有谈判中的线索可以签约 / only a lead in negotiation can sign"))
        return redirect("web:lead", pk=lead.pk)
    form = _sign_form(request, lead, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        units = [u for u in data["units"] if u.building_id == data["building"].pk]
        try:
            signing_complete(
                lead=lead,
                building=data["building"],
                units=units,
                signed_on=data["signed_on"],
                rent=data["rent"],
                end=data["end"],
                signed_by=_worker(request) or lead.owner,
                by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已签约:%(building)s") % {"building": data["building"].name})
            return redirect("web:lead", pk=lead.pk)
    return render(request, "web/lead_sign.html", {"lead": lead, "form": form})


@require_POST
@roles_required(Role.DISTRICT_ADMIN)
def entry_exception_approve(request, pk: int):
    """The district office approves signing a lead short of the entry threshold."""
    lead = object_in_scope(request, Lead, pk, CHANGE)
    try:
        lead_entry_exception_approve(lead=lead, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已批准准入例外,可以签约 / the exception is approved: the lead may sign"))
    return redirect("web:lead", pk=pk)


# ------------------------------------------------------------------ verified outcome and cancellation


def _signing_rows(request, lead: Lead, signings: list[Signing], changeable: bool) -> list[dict]:
    """Each signing with what may be done to it here: verify (workers), override and cancel (admin)."""
    admin = role_of(request) == Role.DISTRICT_ADMIN
    rows = []
    for signing in signings:
        open_ = signing.status == "signed"
        rows.append(
            {
                "signing": signing,
                "gaps": settlement_gaps(signing) if open_ else [],
                "can_settle": open_ and changeable,
                "can_override": open_ and changeable and admin,
                # A settled signing too: a company that moved in can still fall through.
                "can_cancel": signing.cancelled_at is None and admin,
            }
        )
    return rows


def _signing_for_work(request, pk: int, signing_id: int) -> Signing:
    lead = _lead_for_work(request, pk)
    return object_in_scope(request, Signing.objects.filter(lead=lead), signing_id, CHANGE)


def _report(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@require_POST
@roles_required(WORKERS)
def signing_settle_view(request, pk: int, signing_id: int):
    """Verify a signing settled by the records, or (district admin, with a reason) override them."""
    signing = _signing_for_work(request, pk, signing_id)
    try:
        signing_settle(
            signing=signing, by=request.user, override_reason=request.POST.get("override_reason", "")
        )
    except ValidationError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("已核验入驻 / the signing is settled"))
    return redirect("web:lead", pk=pk)


@require_POST
@roles_required(Role.DISTRICT_ADMIN)
def signing_cancel_view(request, pk: int, signing_id: int):
    """The district office cancels a signing that fell through, with a reason."""
    signing = object_in_scope(request, Signing.objects.filter(lead_id=pk), signing_id, CHANGE)
    try:
        signing_cancel(signing=signing, by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("签约已取消,房源已释放 / the signing is cancelled, its units released"))
    return redirect("web:lead", pk=pk)


@require_POST
@roles_required(Role.DISTRICT_ADMIN)
def lead_reassign_view(request, pk: int):
    """The district office gives the lead to another promoter, with the reason."""
    lead = object_in_scope(request, Lead, pk, CHANGE)
    owner = scoped(request, Promoter).filter(pk=id_param(request.POST, "owner") or 0, active=True).first()
    try:
        if owner is None:
            raise ValidationError({"owner": [_("请选择在岗的招商人员 / choose an active promoter")]})
        lead_reassign(lead=lead, owner=owner, reason=request.POST.get("reason", ""), by=request.user)
    except ValidationError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("已改派给 %(name)s") % {"name": owner.name})
    return redirect("web:lead", pk=pk)

"""Leads: submit, list, read, update with optimistic concurrency; and the workflow on one lead."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.generics import ListCreateAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api import serializers as s
from crm.api.filters import ActivityFilter, LeadFilter
from crm.api.lead_rows import lead_row, lead_values, with_preferred_streets
from crm.api.permissions import (
    IsDistrictOffice,
    ScopeAllows,
    WorksLeads,
    hides_personal_data,
    request_viewer,
    scoped,
)
from crm.api.referrals import lead_referral_submit
from crm.api.schema import BAD_REQUEST, CONFLICT, STALE
from crm.api.views.base import ApiMixin, expected_version, lead_in_scope
from crm.constants import Role
from crm.models import Activity, Agency, ContactAccess, Lead, Promoter, Signing
from crm.selectors.scope import CHANGE
from crm.services.activities import activity_log
from crm.services.leads import (
    lead_create,
    lead_entry_exception_approve,
    lead_reassign,
    lead_transition,
    lead_update,
)
from crm.services.privacy import contact_access_record
from crm.services.signings import signing_cancel, signing_complete, signing_settle

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='读取时的 ETag,如 "3";过期则 412 / the ETag you read, like "3"; a stale one gets 412',
)

# The input each role may send: an agency refers a company; staff also set the channel; the office
# also assigns the owner.
CREATE_INPUT = {Role.AGENCY: s.LeadAgencyInput, Role.DISTRICT_ADMIN: s.LeadOfficeInput}
UPDATE_INPUT = {Role.AGENCY: s.LeadAgencyUpdate, Role.DISTRICT_ADMIN: s.LeadOfficeUpdate}


def _by_role(name: str, inputs: dict, staff, summary: str) -> PolymorphicProxySerializer:
    # The schema offers each role its own input (one of three), so an agency's client is never
    # offered channel, owner or case_by_case, which its calls would be refused for.
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[inputs[Role.AGENCY], staff, inputs[Role.DISTRICT_ADMIN]],
        resource_type_field_name=None,
        many=False,
        help_text=summary,
    )


ROLE_INPUTS = (
    "中介:LeadAgencyInput;招商人员:LeadStaffInput;区楼宇办:LeadOfficeInput / "
    "agencies send LeadAgencyInput, promoters LeadStaffInput, the district office LeadOfficeInput"
)
CREATE_BODY = _by_role("LeadCreateByRole", CREATE_INPUT, s.LeadStaffInput, ROLE_INPUTS)
UPDATE_BODY = _by_role(
    "LeadUpdateByRole", UPDATE_INPUT, s.LeadStaffUpdate, ROLE_INPUTS.replace("Input", "Update")
)


def _lead_output(
    request, lead_id: int, *, code: int = status.HTTP_200_OK, location: bool = False
) -> Response:
    row = lead_row(scoped(request, Lead), lead_id)
    hidden = hides_personal_data(request)
    data = s.LeadSerializer(row, context={"request": request, "hide_personal": hidden}).data
    if not location and not hidden:  # the submitter's own echo is not recorded
        _record_contacts_seen(request, [row], ContactAccess.How.API_DETAIL)
    headers = {"ETag": f'"{row["version"]}"'}
    if location:
        headers["Location"] = reverse("api:lead-detail", args=[row["id"]])
    return Response(data, status=code, headers=headers)


def _record_contacts_seen(request, rows: list[dict], how) -> None:
    """PIPL: who saw whose contact data (one INSERT for a page); masked readers saw nothing personal."""
    if hides_personal_data(request):
        return
    # Fully durable, though its WAL flush is a good part of a read's time: this log is the PIPL
    # record of who saw a contact, and must survive a crash of the database right after the answer.
    contact_access_record(user=request.user, how=how, leads=rows)


@extend_schema_view(
    list=extend_schema(summary="线索列表 / the leads you may see"),
    retrieve=extend_schema(summary="一条线索 / one lead (ETag: its version)"),
)
class LeadViewSet(
    ApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    scope_model = Lead
    serializer_class = s.LeadSerializer
    filterset_class = LeadFilter
    ordering_fields = ["created_at", "updated_at", "company_name", "stage", "last_activity_at"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return scoped(self.request, Lead)

    # Reads serialize rows, not instances (crm.api.lead_rows), from the same scoped queryset. One lead
    # is found by its id alone: the list's query-string filters do not apply to it.
    def retrieve(self, request, *args, **kwargs):
        row = lead_row(self.get_queryset(), self.kwargs["pk"])
        if row is None:
            raise Http404
        self.check_object_permissions(request, row)
        response = Response(self.get_serializer(row).data, headers={"ETag": f'"{row["version"]}"'})
        _record_contacts_seen(request, [row], ContactAccess.How.API_DETAIL)
        return response

    def list(self, request, *args, **kwargs):
        rows = self.paginator.paginate_rows(
            self.filter_queryset(self.get_queryset()),
            request,
            self,
            rows=lambda page: with_preferred_streets(list(lead_values(page))),
        )
        response = self.get_paginated_response(self.get_serializer(rows, many=True).data)
        _record_contacts_seen(request, rows, ContactAccess.How.API_LIST)
        return response

    @extend_schema(
        summary="提交线索 / submit a lead",
        description=(
            "中介:渠道、机构由服务器设定;企业已是在跟线索时 409(报备在先,给出日期)。"
            " / Agencies: channel and agency are set by the server; a company that is already an open "
            "lead gets 409 with the date it was registered, never who holds it."
            " 中介须注明联系人信息的处理依据 lawful_basis(缺少则 400)。"
            " / Agencies must send lawful_basis, why they may hand over the contact person (else 400)."
        ),
        request=CREATE_BODY,
        responses={
            201: s.LeadSerializer,
            400: BAD_REQUEST,
            409: CONFLICT,
        },
    )
    def create(self, request, *args, **kwargs):
        viewer = request_viewer(request)
        payload = CREATE_INPUT.get(viewer.role, s.LeadStaffInput)(
            data=request.data, context=self.api_context()
        )
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if viewer.role == Role.AGENCY:
            agency = Agency.objects.get(pk=viewer.agency_id)
            lead = lead_referral_submit(agency=agency, by=request.user, **data)
        else:
            if viewer.role == Role.DISTRICT_ADMIN:
                owner = data.pop("owner", None)
            else:
                owner = Promoter.objects.get(pk=viewer.promoter_id)
            lead = lead_create(owner=owner, by=request.user, **data)
        return _lead_output(request, lead.pk, code=status.HTTP_201_CREATED, location=True)

    @extend_schema(
        summary="修改线索 / change a lead (needs the version you read)",
        parameters=[IF_MATCH],
        request=UPDATE_BODY,
        responses={200: s.LeadSerializer, 400: BAD_REQUEST, 409: CONFLICT, 412: STALE},
    )
    def partial_update(self, request, *args, **kwargs):
        lead = self.get_object()
        viewer = request_viewer(request)
        payload = UPDATE_INPUT.get(viewer.role, s.LeadStaffUpdate)(
            data=request.data, partial=True, context=self.api_context()
        )
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        version = expected_version(request, changes.pop("version", None), required=True)
        lead_update(lead=lead, by=request.user, expected_version=version, **changes)
        return _lead_output(request, lead.pk)


class LeadTransitionView(ApiMixin, APIView):
    """Move a lead along one allowed stage edge, with a reason (required when it is lost)."""

    permission_classes = [IsAuthenticated, WorksLeads]

    @extend_schema(
        summary="变更阶段 / change the stage",
        parameters=[IF_MATCH],
        request=s.TransitionInput,
        responses={200: s.LeadSerializer, 400: BAD_REQUEST, 409: CONFLICT, 412: STALE},
    )
    def post(self, request, pk):
        lead = lead_in_scope(request, pk, CHANGE)
        payload = s.TransitionInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        lead_transition(
            lead=lead,
            to_stage=data["stage"],
            reason=data.get("reason", ""),
            by=request.user,
            expected_version=expected_version(request, data.get("version"), required=False),
        )
        return _lead_output(request, lead.pk)


class LeadReassignView(ApiMixin, APIView):
    """The district office gives an owned lead to another promoter, with the reason (audited)."""

    permission_classes = [IsAuthenticated, IsDistrictOffice]

    @extend_schema(
        summary="改派线索 / reassign a lead (district office)",
        request=s.ReassignInput,
        responses={200: s.LeadSerializer, 400: BAD_REQUEST},
    )
    def post(self, request, pk):
        lead = lead_in_scope(request, pk, CHANGE)
        payload = s.ReassignInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        lead_reassign(lead=lead, owner=data["owner"], reason=data["reason"], by=request.user)
        return _lead_output(request, lead.pk)


class LeadEntryApprovalView(ApiMixin, APIView):
    """The district approves signing a lead that will not register, settle or pay tax here."""

    permission_classes = [IsAuthenticated, IsDistrictOffice]

    @extend_schema(
        summary="批准准入例外 / approve a lead short of the entry threshold (district office)",
        description=(
            "线索不拟在区内注册、结算或纳税时,签约须先经区楼宇办批准;满足门槛的线索为 400。"
            " / A lead that will not register, settle accounts or pay tax in the district signs only after"
            " this approval; a lead meeting the threshold is a 400."
        ),
        request=None,
        responses={200: s.LeadSerializer, 400: BAD_REQUEST},
    )
    def post(self, request, pk):
        lead = lead_in_scope(request, pk, CHANGE)
        lead_entry_exception_approve(lead=lead, by=request.user)
        return _lead_output(request, lead.pk)


class LeadActivitiesView(ApiMixin, ListCreateAPIView):
    """A lead's calls, visits, site tours...: read by whoever sees the lead, logged by its workers."""

    scope_model = Activity
    permission_classes = [IsAuthenticated, ScopeAllows, WorksLeads]
    serializer_class = s.ActivitySerializer
    filterset_class = ActivityFilter
    ordering_fields = ["occurred_at", "created_at"]
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self):
        if self.fake:
            return Activity.objects.none()
        lead = lead_in_scope(self.request, self.kwargs["pk"])
        activities = Activity.objects.filter(lead=lead).select_related(
            "building", "unit", "promoter__user", "next_assignee__user"
        )
        return scoped(self.request, activities)

    @extend_schema(request=s.ActivityInput, responses={201: s.ActivitySerializer, 400: BAD_REQUEST})
    def post(self, request, pk):
        lead = lead_in_scope(request, pk, CHANGE)
        payload = s.ActivityInput(data=request.data)
        payload.is_valid(raise_exception=True)
        viewer = request_viewer(request)
        promoter = Promoter.objects.get(pk=viewer.promoter_id) if viewer.promoter_id else None
        activity = activity_log(lead=lead, promoter=promoter, by=request.user, **payload.validated_data)
        activity = Activity.objects.select_related(
            "building", "unit", "promoter__user", "next_assignee__user"
        ).get(pk=activity.pk)
        return Response(s.ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)


class LeadSigningView(ApiMixin, ListCreateAPIView):
    """A lead's signings (one per building); recording one signs the lead (enterprise, tenancy, units)."""

    scope_model = Signing
    permission_classes = [IsAuthenticated, ScopeAllows, WorksLeads]
    serializer_class = s.SigningSerializer
    ordering_fields = ["signed_on"]
    ordering = ["-signed_on", "-id"]

    def get_queryset(self):
        if self.fake:
            return Signing.objects.none()
        lead = lead_in_scope(self.request, self.kwargs["pk"])
        signings = (
            Signing.objects.filter(lead=lead)
            .select_related("building", "enterprise", "signed_by__user", "lead__agency")
            .prefetch_related("units")
        )
        return scoped(self.request, signings)

    @extend_schema(request=s.SigningInput, responses={201: s.SigningSerializer, 400: BAD_REQUEST})
    def post(self, request, pk):
        lead = lead_in_scope(request, pk, CHANGE)
        payload = s.SigningInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        viewer = request_viewer(request)
        signing = signing_complete(
            lead=lead,
            building=data["building"],
            units=data.get("units", []),
            signed_on=data["signed_on"],
            rent=data.get("rent"),
            area_m2=data.get("area_m2"),
            start=data.get("start"),
            end=data.get("end"),
            signed_by=Promoter.objects.get(pk=viewer.promoter_id) if viewer.promoter_id else None,
            by=request.user,
        )
        signing = self.get_queryset().get(pk=signing.pk)
        return Response(s.SigningSerializer(signing).data, status=status.HTTP_201_CREATED)


def _signing_of(request, pk: int, signing_id: int) -> Signing:
    lead = lead_in_scope(request, pk, CHANGE)
    signing = scoped(request, Signing.objects.filter(lead=lead, pk=signing_id), CHANGE).first()
    if signing is None:
        raise Http404
    return signing


def _signing_output(request, signing: Signing) -> Response:
    signing = (
        Signing.objects.select_related("building", "enterprise", "signed_by__user", "lead__agency")
        .prefetch_related("units")
        .get(pk=signing.pk)
    )
    return Response(s.SigningSerializer(signing).data)


class LeadSigningSettleView(ApiMixin, APIView):
    """Verify a signing settled: by the district's records, or by a district admin's override."""

    permission_classes = [IsAuthenticated, WorksLeads]

    @extend_schema(
        summary="核验入驻 / verify a signing settled",
        description=(
            "企业须已登记为区内注册,且自起租月起已有税收记录;否则 400。区楼宇办可填写 override_reason"
            " 人工核定。 / The enterprise must be registered in the district and have a tax record from"
            " the tenancy's start month on, else 400; a district admin may settle with override_reason."
        ),
        request=s.SigningSettleInput,
        responses={200: s.SigningSerializer, 400: BAD_REQUEST},
    )
    def post(self, request, pk, signing_id):
        signing = _signing_of(request, pk, signing_id)
        payload = s.SigningSettleInput(data=request.data)
        payload.is_valid(raise_exception=True)
        signing = signing_settle(
            signing=signing,
            by=request.user,
            override_reason=payload.validated_data.get("override_reason", ""),
        )
        return _signing_output(request, signing)


class LeadSigningCancelView(ApiMixin, APIView):
    """Cancel a signing that fell through: units released, lead lost, appraisal and commitments reversed."""

    permission_classes = [IsAuthenticated, IsDistrictOffice]

    @extend_schema(
        summary="取消签约 / cancel a signing (district office)",
        request=s.SigningCancelInput,
        responses={200: s.SigningSerializer, 400: BAD_REQUEST},
    )
    def post(self, request, pk, signing_id):
        signing = _signing_of(request, pk, signing_id)
        payload = s.SigningCancelInput(data=request.data)
        payload.is_valid(raise_exception=True)
        signing = signing_cancel(signing=signing, by=request.user, reason=payload.validated_data["reason"])
        return _signing_output(request, signing)

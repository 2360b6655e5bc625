"""Shapes of the API's requests and responses; the rules themselves live in services and selectors.

Lead fields carry the names of `leads.csv` (import-format.md). Inputs refuse any field the caller may
not set, rather than ignoring it, so that a client never believes it changed what it did not.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.masking import mask_personal
from crm.api.rows import RowSerializer
from crm.constants import (
    PLANNED_ACTIVITY_KINDS,
    ActivityKind,
    IndicatorKey,
    LawfulBasis,
    LeadChannel,
    LeadStage,
    TaxTier,
)
from crm.indicators import UNITS, precision_note
from crm.models import (
    Activity,
    AppraisalSnapshot,
    Building,
    Enterprise,
    Industry,
    Lead,
    Promoter,
    Signing,
    Street,
    TaxRecord,
    Unit,
)
from crm.selectors.scope import PERSONAL_FIELDS
from crm.services.leads import referrer_by_credit_code
from crm.validators import DateRangeValidator, date_range_error, unsafe_input_errors
from policies.models import Benefit, Policy

AREA = {"max_digits": 12, "decimal_places": 2}
RENT = {"max_digits": 8, "decimal_places": 2}
MONEY = {"max_digits": 16, "decimal_places": 2}

SET_BY_SERVER = "由服务器设定,不可提交 / set by the server, cannot be sent"
UNKNOWN = "未知字段 / unknown field"
SERVER_FIELDS = frozenset(
    {"id", "ref", "created_at", "updated_at", "lost_reason", "lead", "lawful_basis_recorded_at"}
)
REFUSED_HINTS = {
    "stage": "阶段只能通过 leads/{id}/transition/ 变更 / change the stage through leads/{id}/transition/",
    "owner": "负责人由区楼宇办分派 / the owner is assigned by the district office",
    "agency": "提交机构由API密钥确定 / the agency is the one of your API key",
    "channel": "中介提交的线索渠道固定为 agency / an agency's leads always have channel agency",
    "version": "新建线索不带版本号 / a new lead has no version yet",
}


# ---------------------------------------------------------------------------- shared


class StrictInput(serializers.Serializer):
    """An input that refuses unknown and read-only fields by name instead of dropping them."""

    def to_internal_value(self, data):
        # Text no column can hold (NUL, a lone surrogate...) is refused here once for every input.
        unsafe = unsafe_input_errors(data)
        if unsafe:
            raise serializers.ValidationError(unsafe)
        if isinstance(data, Mapping):
            refused = [name for name in data if name not in self.fields or self.fields[name].read_only]
            if refused:
                raise serializers.ValidationError(
                    {
                        name: [
                            REFUSED_HINTS.get(name) or (SET_BY_SERVER if name in SERVER_FIELDS else UNKNOWN)
                        ]
                        for name in refused
                    }
                )
        return super().to_internal_value(data)


class MasksPersonalData:
    """Masks the model's PERSONAL_FIELDS (crm.selectors.scope) when the view says they are hidden."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("hide_personal"):
            for name in PERSONAL_FIELDS.get(self.Meta.model, ()):
                if name in data:
                    data[name] = mask_personal(data[name])
        return data


@extend_schema_field(OpenApiTypes.OBJECT)
class FreeForm(serializers.JSONField):
    """A free-form object produced by the ranking (an incentive's details)."""


# ---------------------------------------------------------------------------- buildings and units


class BoundedDateField(serializers.DateField):
    """An input date in the years every entry point accepts (crm.validators.YEAR_MIN–YEAR_MAX)."""

    default_validators = [DateRangeValidator()]


class BoundedDateTimeField(serializers.DateTimeField):
    """An input date and time in YEAR_MIN–YEAR_MAX: `0001-01-01T00:00:00+00:00` is refused, not stored
    as a year no page can read back."""

    default_validators = [DateRangeValidator()]

    def enforce_timezone(self, value):
        # Checked while still naive: making year 1 aware in Asia/Shanghai (+08:05:43 then) and
        # converting it to UTC overflows, a 500 in DRF's own code before any validator runs.
        error = date_range_error(value)
        if error:
            raise serializers.ValidationError(error, code=DateRangeValidator.code)
        return super().enforce_timezone(value)


class TaxTierSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    tier = serializers.ChoiceField(choices=TaxTier.choices)
    next_tier = serializers.CharField(
        allow_null=True, help_text="下一个整档(ten_million / billion),已是亿元楼为空 / the next full tier"
    )


class BuildingTaxSerializer(TaxTierSerializer):
    """The tier, and the tenants' tax behind it only for roles that read tax records."""

    tax_yuan = serializers.DecimalField(required=False, **MONEY)
    shortfall_yuan = serializers.DecimalField(required=False, **MONEY)


class BuildingSerializer(serializers.ModelSerializer):
    street = serializers.CharField(source="street.name")
    business_circle = serializers.CharField(source="business_circle.name", default=None, allow_null=True)
    main_industry = serializers.CharField(source="main_industry_id", allow_null=True)
    vacant_area_m2 = serializers.DecimalField(**AREA)
    vacant_units = serializers.IntegerField()
    tax_tier = serializers.SerializerMethodField()

    class Meta:
        model = Building
        fields = [
            "id",
            "code",
            "name",
            "street",
            "business_circle",
            "address",
            "gross_area_m2",
            "leasable_area_m2",
            "floors",
            "in_service_since",
            "star_rating",
            "star_since",
            "featured_type",
            "featured_since",
            "main_industry",
            "party_org_since",
            "intermediary_since",
            "smart_platform_since",
            "rent_min",
            "rent_max",
            "lat",
            "lng",
            "vacant_area_m2",
            "vacant_units",
            "tax_tier",
        ]

    @extend_schema_field(BuildingTaxSerializer(allow_null=True))
    def get_tax_tier(self, building) -> dict | None:
        tiers, year = self.context["tiers"], self.context["tier_year"]
        tier = tiers.get(building.pk)
        if tier is None:  # not in service at the end of the year
            return None
        data = {"year": year, "tier": tier.tier, "next_tier": tier.next_tier}
        if self.context["shows_tax"]:
            data.update(tax_yuan=tier.tax_yuan, shortfall_yuan=tier.shortfall_yuan)
            return BuildingTaxSerializer(data).data
        return TaxTierSerializer(data).data


class UnitSerializer(serializers.ModelSerializer):
    building = serializers.CharField(source="building.code")

    class Meta:
        model = Unit
        fields = ["id", "building", "floor", "number", "area_m2", "status", "asking_rent", "available_from"]


# ---------------------------------------------------------------------------- leads


class LeadSerializer(MasksPersonalData, RowSerializer):
    """One lead as the API shows it, read from a row of crm.api.lead_rows (not a model instance)."""

    industry = serializers.CharField(source="industry_id", allow_null=True)
    owner = serializers.CharField(source="owner__user__username", allow_null=True)
    agency = serializers.CharField(source="agency__name", allow_null=True)
    referred_by = serializers.CharField(source="referred_by__credit_code", allow_null=True)
    referred_by_name = serializers.CharField(source="referred_by__name", allow_null=True)
    preferred_streets = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Lead
        attached = ["preferred_streets"]  # their names, read for the whole page in one query
        fields = [
            "id",
            "ref",
            "company_name",
            "credit_code",
            "industry",
            "business_scope",
            "contact_name",
            "contact_phone",
            "lawful_basis",
            "lawful_basis_recorded_at",
            "area_min_m2",
            "area_max_m2",
            "budget_rent",
            "expected_annual_tax",
            "employees",
            "is_headquarters",
            "preferred_streets",
            "desired_move_in",
            "channel",
            "owner",
            "agency",
            "referred_by",
            "referred_by_name",
            "stage",
            "lost_reason",
            "case_by_case",
            "registers_in_district",
            "settles_in_district",
            "pays_tax_in_district",
            "entry_exception_approved_at",
            "created_at",
            "updated_at",
            "version",
        ]


class LeadAgencyInput(StrictInput):
    """What an agency sends about a company it refers; channel, agency and stage are the server's."""

    company_name = serializers.CharField(max_length=200)
    credit_code = serializers.CharField(max_length=18, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=4, required=False, allow_blank=True, allow_null=True)
    business_scope = serializers.CharField(required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    lawful_basis = serializers.ChoiceField(
        choices=LawfulBasis.choices,
        help_text="联系人信息的处理依据,中介必填 / why the contact data may be held; agencies must send it",
    )
    area_min_m2 = serializers.DecimalField(required=False, allow_null=True, **AREA)
    area_max_m2 = serializers.DecimalField(required=False, allow_null=True, **AREA)
    budget_rent = serializers.DecimalField(required=False, allow_null=True, **RENT)
    expected_annual_tax = serializers.DecimalField(required=False, allow_null=True, **MONEY)
    employees = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2_147_483_647
    )
    is_headquarters = serializers.BooleanField(required=False)
    preferred_streets = serializers.SlugRelatedField(
        slug_field="name", queryset=Street.objects.all(), many=True, required=False
    )
    desired_move_in = BoundedDateField(required=False, allow_null=True)
    # The plan's entry threshold; a lead short of it signs only with the district's approval.
    registers_in_district = serializers.BooleanField(
        required=False, help_text="拟在区内注册(默认是)/ will register in the district (default yes)"
    )
    settles_in_district = serializers.BooleanField(
        required=False, help_text="拟在区内结算(默认是)/ will settle accounts in the district (default yes)"
    )
    pays_tax_in_district = serializers.BooleanField(
        required=False, help_text="拟在区内纳税(默认是)/ will pay tax in the district (default yes)"
    )


class LeadStaffInput(LeadAgencyInput):
    """A promoter's lead: also its channel, the referring tenant and the case-by-case flag; the owner
    is the promoter."""

    channel = serializers.ChoiceField(choices=LeadChannel.choices)
    case_by_case = serializers.BooleanField(required=False)
    lawful_basis = serializers.ChoiceField(choices=LawfulBasis.choices, required=False, allow_blank=True)
    referred_by = serializers.CharField(
        max_length=18,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=(
            "以商招商:推荐企业(区内租户)的统一社会信用代码,空为无 / tenant_referral: the referring "
            "tenant's credit code; blank or null for none"
        ),
    )

    def validate_referred_by(self, value):
        if not (value or "").strip():
            return None
        try:
            return referrer_by_credit_code(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict["referred_by"]) from error


@extend_schema_field(OpenApiTypes.STR)
class UsernameField(serializers.SlugRelatedField):
    """A promoter named by the username they sign in with."""


class LeadOfficeInput(LeadStaffInput):
    """The district office also assigns the owner (a promoter's username, or null)."""

    owner = UsernameField(
        slug_field="user__username",
        queryset=Promoter.objects.filter(active=True),
        required=False,
        allow_null=True,
    )


class ReassignInput(StrictInput):
    owner = UsernameField(slug_field="user__username", queryset=Promoter.objects.filter(active=True))
    reason = serializers.CharField(max_length=300, help_text="改派原因 / why the lead changes hands")


class Versioned(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1,
        max_value=2_147_483_647,
        required=False,
        help_text="读取时的版本号;也可用 If-Match 头 / the version you read; or send it as If-Match",
    )


class LeadAgencyUpdate(Versioned, LeadAgencyInput):
    pass


class LeadStaffUpdate(Versioned, LeadStaffInput):
    pass


class LeadOfficeUpdate(Versioned, LeadOfficeInput):
    pass


class TransitionInput(StrictInput):
    stage = serializers.ChoiceField(choices=LeadStage.choices)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    version = serializers.IntegerField(min_value=1, max_value=2_147_483_647, required=False)


class ActivitySerializer(serializers.ModelSerializer):
    building = serializers.CharField(source="building.code", default=None, allow_null=True)
    unit = serializers.CharField(source="unit.number", default=None, allow_null=True)
    promoter = serializers.CharField(source="promoter.user.username", default=None, allow_null=True)
    # The kinds one plans, as ActivityInput takes them: one choice set, one enum in the schema.
    next_kind = serializers.ChoiceField(
        choices=[kind.value for kind in PLANNED_ACTIVITY_KINDS], allow_blank=True, read_only=True
    )
    next_assignee = serializers.CharField(
        source="next_assignee.user.username",
        default=None,
        allow_null=True,
        help_text="who does the planned next activity (username); null: the lead's owner",
    )

    class Meta:
        model = Activity
        fields = [
            "id",
            "lead",
            "kind",
            "occurred_at",
            "building",
            "unit",
            "promoter",
            "notes",
            "next_follow_up_at",
            "next_kind",
            "next_assignee",
            "created_at",
        ]


class ActivityInput(StrictInput):
    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    occurred_at = BoundedDateTimeField()
    building = serializers.PrimaryKeyRelatedField(
        queryset=Building.objects.all(), required=False, allow_null=True
    )
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    next_follow_up_at = BoundedDateTimeField(required=False, allow_null=True)
    next_kind = serializers.ChoiceField(
        choices=[kind.value for kind in PLANNED_ACTIVITY_KINDS],
        required=False,
        allow_blank=True,
        help_text="the planned next activity's kind; needs next_follow_up_at",
    )
    next_assignee = serializers.PrimaryKeyRelatedField(
        queryset=Promoter.objects.all(),
        required=False,
        allow_null=True,
        help_text="promoter id of who does it; must see the lead; default the lead's owner",
    )


class SigningSerializer(serializers.ModelSerializer):
    building = serializers.CharField(source="building.code")
    building_name = serializers.CharField(source="building.name")
    enterprise = serializers.CharField(source="enterprise.credit_code")
    enterprise_name = serializers.CharField(source="enterprise.name")
    units = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)
    signed_by = serializers.CharField(source="signed_by.user.username", default=None, allow_null=True)
    agency = serializers.CharField(source="lead.agency.name", default=None, allow_null=True)
    status = serializers.ChoiceField(
        choices=["signed", "settled", "cancelled"],
        read_only=True,
        help_text="signed: 待核验 pipeline; settled: 已核验入驻 result; cancelled: 已取消",
    )

    class Meta:
        model = Signing
        fields = [
            "id",
            "lead",
            "building",
            "building_name",
            "enterprise",
            "enterprise_name",
            "units",
            "area_m2",
            "rent",
            "signed_on",
            "signed_by",
            "agency",
            "status",
            "settled_at",
            "settle_override_reason",
            "cancelled_at",
            "cancel_reason",
        ]


class SigningSettleInput(StrictInput):
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,
        help_text=(
            "区楼宇办人工核定的理由;不填则按记录核验(区内注册且首笔税收已到账)/ "
            "the district admin's reason to settle despite the records; blank: verified by the records"
        ),
    )


class SigningCancelInput(StrictInput):
    reason = serializers.CharField(max_length=300, help_text="取消原因 / why the signing fell through")


class SigningInput(StrictInput):
    building = serializers.PrimaryKeyRelatedField(queryset=Building.objects.all())
    units = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), many=True, required=False)
    signed_on = BoundedDateField()
    rent = serializers.DecimalField(required=False, allow_null=True, **RENT)
    area_m2 = serializers.DecimalField(required=False, allow_null=True, **AREA)
    start = BoundedDateField(required=False, allow_null=True)
    end = BoundedDateField(required=False, allow_null=True)


# ---------------------------------------------------------------------------- reference data


class IndustrySerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent_id", allow_null=True)

    class Meta:
        model = Industry
        fields = ["code", "level", "parent", "section", "name_zh", "name_en"]


class SuggestInput(StrictInput):
    text = serializers.CharField(max_length=5000, help_text="经营范围 / business scope")
    top = serializers.IntegerField(min_value=1, max_value=10, required=False, default=3)


class SuggestionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    probability = serializers.FloatField()


# ---------------------------------------------------------------------------- internal roles


class EnterpriseSerializer(serializers.ModelSerializer):
    industry = serializers.CharField(source="industry_id", allow_null=True)

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "credit_code",
            "name",
            "industry",
            "registered_in_district",
            "settles_in_district",
            "is_headquarters",
            "employees",
            "business_scope",
        ]


class TaxRecordSerializer(serializers.ModelSerializer):
    credit_code = serializers.CharField(source="enterprise.credit_code")
    enterprise_name = serializers.CharField(source="enterprise.name")

    class Meta:
        model = TaxRecord
        fields = ["id", "credit_code", "enterprise_name", "year", "month", "amount_yuan"]


def _precision_help() -> str:
    notes = "; ".join(f"{key.value}: {UNITS[key]}, {precision_note(key)}" for key in IndicatorKey)
    return (
        "精确值(十进制字符串,不四舍五入)/ the exact value as a decimal string, never rounded: "
        "areas to 0.01 m², tax to the fen, counts whole, ratios as computed. " + notes
    )


def _exact_decimal(help_text: str) -> serializers.DecimalField:
    # No max_digits/decimal_places: DRF then writes the Decimal as it is ("{:f}"), unquantized.
    return serializers.DecimalField(
        max_digits=None, decimal_places=None, allow_null=True, help_text=help_text
    )


class IndicatorSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=IndicatorKey.choices)
    label = serializers.CharField()
    value = _exact_decimal(_precision_help())
    unit = serializers.CharField()
    target = _exact_decimal("规划目标 / the plan's target, as stored (2 decimals)")
    gap = _exact_decimal("value − target, exact like value")
    direction = serializers.CharField()


class IndicatorsAsOfSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField(
        help_text="数据截至:工作进程计算这些数值的时间 / when a worker computed these figures"
    )
    stale = serializers.BooleanField(
        help_text=("数据在计算后已有变更,正在重新计算 / the data changed since; a recomputation is queued")
    )


class IndicatorReportSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    street = serializers.CharField(allow_null=True)
    as_of = IndicatorsAsOfSerializer()
    results = IndicatorSerializer(many=True)


class AppraisalSerializer(serializers.ModelSerializer):
    promoter = serializers.CharField(source="promoter.user.username")
    promoter_name = serializers.CharField(source="promoter.name")
    street = serializers.CharField(source="street.name", default=None, allow_null=True)

    class Meta:
        model = AppraisalSnapshot
        fields = [
            "id",
            "promoter",
            "promoter_name",
            "period_kind",
            "period_start",
            "period_end",
            "team",
            "street",
            "leads_logged",
            "valid_leads",
            "activities",
            "site_tours",
            "signings",
            "signed_area_m2",
            "expected_tax_yuan",
            "actual_tax_yuan",
            "conversion_rate",
            "median_days_to_sign",
            "followup_timeliness",
            "score",
            "rank_team",
            "rank_district",
            "computed_at",
        ]


# ---------------------------------------------------------------------------- matching


class OfferViewSerializer(serializers.Serializer):
    unit_ids = serializers.ListField(child=serializers.IntegerField())
    units = serializers.ListField(child=serializers.CharField())
    floor = serializers.IntegerField()
    area_m2 = serializers.FloatField()
    rent = serializers.FloatField(allow_null=True, help_text="元/㎡·天 / yuan/m²/day")
    effective_rent = serializers.FloatField(allow_null=True, help_text="扣除租金减免后 / after rent relief")
    available_from = serializers.DateField(allow_null=True)


class ReasonSerializer(serializers.Serializer):
    component = serializers.CharField()
    effect = serializers.FloatField()
    text = serializers.CharField()


class BuildingMatchSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    building_id = serializers.IntegerField()
    building_name = serializers.CharField()
    street = serializers.CharField()
    score = serializers.FloatField()
    components = serializers.DictField(child=serializers.FloatField())
    contributions = serializers.DictField(child=serializers.FloatField())
    offer = OfferViewSerializer()
    incentive_3y = serializers.FloatField(help_text="三年政策兑现(元)/ incentives over three years (yuan)")
    rent_relief_3y = serializers.FloatField()
    over_budget = serializers.FloatField(
        allow_null=True,
        help_text="扣除租金补贴后超出预算的比例(0.14 = 超预算 14%),未超出为 null / "
        "share by which the rent after relief exceeds the budget (0.14 = 14% over), null when within it",
    )
    incentives = serializers.ListField(child=FreeForm())
    reasons = ReasonSerializer(many=True)


class BuildingMatchesSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField()
    on = serializers.DateField()
    model_version = serializers.IntegerField()
    weights = serializers.DictField(child=serializers.FloatField())
    candidates = serializers.IntegerField()
    excluded_counts = serializers.DictField(child=serializers.IntegerField())
    results = BuildingMatchSerializer(many=True)


class MatchedLeadSerializer(serializers.Serializer):
    """Who the lead is, for those who may see it; null for the others (they see the demand only)."""

    id = serializers.IntegerField()
    ref = serializers.CharField()
    company_name = serializers.CharField()


class LeadMatchSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    lead = MatchedLeadSerializer(allow_null=True)
    score = serializers.FloatField()
    penalty = serializers.FloatField()
    final_score = serializers.FloatField()
    components = serializers.DictField(child=serializers.FloatField())
    contributions = serializers.DictField(child=serializers.FloatField())
    offer = OfferViewSerializer()
    incentive_3y = serializers.FloatField()
    over_budget = serializers.FloatField(allow_null=True, help_text="as for buildings / 同楼宇匹配")
    reasons = ReasonSerializer(many=True)


class LeadMatchesSerializer(serializers.Serializer):
    building_id = serializers.IntegerField()
    unit_id = serializers.IntegerField(allow_null=True)
    on = serializers.DateField()
    model_version = serializers.IntegerField()
    weights = serializers.DictField(child=serializers.FloatField())
    candidates = serializers.IntegerField()
    excluded_counts = serializers.DictField(child=serializers.IntegerField())
    results = LeadMatchSerializer(many=True)


# ---------------------------------------------------------------------------- policies


class BenefitSerializer(serializers.ModelSerializer):
    # A plain string: its choices are the policy engine's benefit kinds, listed in docs/policies.md.
    kind = serializers.CharField(help_text="福利类型 / benefit kind")

    class Meta:
        model = Benefit
        fields = [
            "kind",
            "percent",
            "months",
            "years",
            "yuan_per_m2",
            "amount_yuan",
            "cap_yuan",
            "yearly_cap_yuan",
        ]


class PolicySerializer(serializers.ModelSerializer):
    street = serializers.CharField(source="street.name", default=None, allow_null=True)
    business_circle = serializers.CharField(source="business_circle.name", default=None, allow_null=True)
    building = serializers.CharField(source="building.code", default=None, allow_null=True)
    benefits = BenefitSerializer(many=True, read_only=True)

    class Meta:
        model = Policy
        fields = [
            "id",
            "name",
            "description",
            "scope",
            "street",
            "business_circle",
            "building",
            "valid_from",
            "valid_to",
            "active",
            "priority",
            "stacking_group",
            "condition",
            "needs_approval",
            "approval_status",
            "lead",
            "benefits",
        ]


class ProfileInput(StrictInput):
    industry_code = serializers.CharField(
        max_length=4, required=False, allow_blank=True, help_text="门类字母或两位大类 / section or division"
    )
    expected_annual_tax = serializers.DecimalField(required=False, default=0, **MONEY)
    employees = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10_000_000)
    is_headquarters = serializers.BooleanField(required=False, default=False)
    registers_in_district = serializers.BooleanField(required=False, default=True)
    settles_in_district = serializers.BooleanField(required=False, default=True)
    pays_tax_in_district = serializers.BooleanField(required=False, default=True)
    referred = serializers.BooleanField(
        required=False,
        default=False,
        help_text="以商招商:由区内租户推荐,计入推荐奖励 / referred by a tenant: referral rewards count",
    )


class OfferInput(StrictInput):
    area_m2 = serializers.DecimalField(**AREA)
    rent_per_m2_day = serializers.DecimalField(
        required=False,
        allow_null=True,
        help_text="空:楼宇参考租金 / blank: the building's reference rent",
        **RENT,
    )
    on = BoundedDateField(required=False, allow_null=True, help_text="测算日期,默认今天 / default today")


class EvaluateInput(StrictInput):
    profile = ProfileInput()
    building = serializers.IntegerField(help_text="楼宇 id / building id")
    offer = OfferInput()
    lead = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="计入该线索的一事一议政策 / include this lead's case-by-case packages",
    )


class BenefitAmountSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label_zh = serializers.CharField()
    label_en = serializers.CharField()
    beneficiary = serializers.CharField()
    years = serializers.ListField(child=serializers.DecimalField(**MONEY))
    total = serializers.DecimalField(**MONEY)
    uncapped_total = serializers.DecimalField(**MONEY)
    arithmetic = serializers.CharField()


class PolicyOutcomeSerializer(serializers.Serializer):
    policy_id = serializers.IntegerField()
    name = serializers.CharField()
    scope = serializers.CharField()
    stacking_group = serializers.CharField(allow_blank=True)
    priority = serializers.IntegerField()
    status = serializers.CharField()
    reason_zh = serializers.CharField(allow_blank=True)
    reason_en = serializers.CharField(allow_blank=True)
    years = serializers.ListField(child=serializers.DecimalField(**MONEY))
    total = serializers.DecimalField(**MONEY)
    benefits = BenefitAmountSerializer(many=True)


class EvaluationSerializer(serializers.Serializer):
    building_id = serializers.IntegerField()
    on = serializers.DateField()
    area_m2 = serializers.FloatField()
    rent_per_m2_day = serializers.FloatField()
    tax_retained_share = serializers.FloatField()
    years = serializers.ListField(
        child=serializers.DecimalField(**MONEY), help_text="逐年金额 / yuan per year"
    )
    total = serializers.DecimalField(**MONEY)
    applied = PolicyOutcomeSerializer(many=True)
    outranked = PolicyOutcomeSerializer(many=True)
    ineligible = PolicyOutcomeSerializer(many=True)

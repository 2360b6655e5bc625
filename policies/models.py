"""Incentive policies as data: where and when they apply, to whom, what they pay, and what was promised."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from crm.models.fields import dates_within_years
from policies.conditions import ConditionError, parse_condition
from policies.engine.terms import (
    HORIZON_YEARS,
    KINDS,
    MAX_MONTHS,
    PARAMETERS,
    REFERRER,
    SCOPE_LABELS,
    BenefitKind,
    Scope,
    benefit_problems,
)

MONEY = {"max_digits": 16, "decimal_places": 2}
DEFAULT_TAX_RETAINED_SHARE = Decimal("0.40")

SCOPE_CHOICES = [(s.value, f"{SCOPE_LABELS[s][0]} · {SCOPE_LABELS[s][1]}") for s in Scope]
KIND_CHOICES = [(k.value, f"{KINDS[k].label_zh} · {KINDS[k].label_en}") for k in BenefitKind]


class ApprovalStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", _("无需审批")
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


# The scope column names exactly one place, or none for the district.
_SCOPE_TARGETS = {
    Scope.DISTRICT: None,
    Scope.STREET: "street",
    Scope.BUSINESS_CIRCLE: "business_circle",
    Scope.BUILDING: "building",
}


def _scope_condition() -> Q:
    condition = Q()
    targets = [t for t in _SCOPE_TARGETS.values() if t]
    clauses = []
    for scope, target in _SCOPE_TARGETS.items():
        nulls = {f"{other}__isnull": True for other in targets if other != target}
        if target:
            nulls[f"{target}__isnull"] = False
        clauses.append(Q(scope=scope.value, **nulls))
    for clause in clauses:
        condition |= clause
    return condition


class Policy(models.Model):
    """One incentive policy: where it applies, when, to whom (a condition) and what it pays (benefits).

    A case-by-case package (一事一议) is a policy bound to one lead and one building that takes effect
    only once a district admin approves it.
    """

    name = models.CharField(_("名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    scope = models.CharField(
        _("适用范围"), max_length=20, choices=SCOPE_CHOICES, default=Scope.DISTRICT.value
    )
    street = models.ForeignKey(
        "crm.Street",
        verbose_name=_("镇街"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
    )
    business_circle = models.ForeignKey(
        "crm.BusinessCircle",
        verbose_name=_("商圈"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
    )
    building = models.ForeignKey(
        "crm.Building",
        verbose_name=_("楼宇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
    )
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(
        _("失效日期"), null=True, blank=True, help_text=_("留空:长期有效 / blank: open-ended")
    )
    active = models.BooleanField(_("启用"), default=True)
    priority = models.SmallIntegerField(
        _("优先级"), default=0, help_text=_("同组同额时优先级高者适用 / breaks ties within a stacking group")
    )
    stacking_group = models.CharField(
        _("叠加组"),
        max_length=40,
        blank=True,
        db_index=True,
        help_text=_(
            "同组政策只享受一项(取金额最高者)/ at most one policy of a group applies: the most valuable"
        ),
    )
    condition = models.TextField(
        _("适用条件"),
        blank=True,
        help_text=_('例 / e.g. industry_section == "J" and area_m2 >= 300;留空:不限 / blank: everyone'),
    )
    # Commitments are paid by year of the agreement (from the signing's month-anniversary) unless
    # the policy says calendar years (policies.engine.schedule).
    calendar_years = models.BooleanField(
        _("按自然年兑现"),
        default=False,
        help_text=_("按自然年分期兑现(否则按协议年)/ pay by calendar year, not agreement year"),
    )
    needs_approval = models.BooleanField(_("需审批(一事一议)"), default=False)
    approval_status = models.CharField(
        _("审批状态"), max_length=20, choices=ApprovalStatus.choices, default=ApprovalStatus.NOT_REQUIRED
    )
    lead = models.ForeignKey(
        "crm.Lead",
        verbose_name=_("一事一议线索"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="negotiated_policies",
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提议人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("提议时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    review_note = models.CharField(_("审批意见"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-priority", "name"]
        verbose_name = _("招商政策")
        verbose_name_plural = pgettext_lazy("plural", "招商政策")
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=[s.value for s in Scope]), name="policy_scope_known"
            ),
            models.CheckConstraint(condition=_scope_condition(), name="policy_scope_names_its_place"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="policy_valid_to_after_from",
            ),
            models.CheckConstraint(
                condition=Q(needs_approval=False, approval_status=ApprovalStatus.NOT_REQUIRED)
                | Q(
                    needs_approval=True,
                    approval_status__in=[
                        ApprovalStatus.PENDING,
                        ApprovalStatus.APPROVED,
                        ApprovalStatus.REJECTED,
                    ],
                ),
                name="policy_approval_status_matches",
            ),
            models.CheckConstraint(
                condition=~Q(approval_status__in=[ApprovalStatus.APPROVED, ApprovalStatus.REJECTED])
                | Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
                name="policy_review_recorded",
            ),
            models.CheckConstraint(
                condition=Q(lead__isnull=True) | Q(needs_approval=True, scope=Scope.BUILDING.value),
                name="policy_case_by_case_binds_building",
            ),
        ]
        indexes = [models.Index(fields=["active", "valid_from"], name="policy_active_from")]

    def __str__(self) -> str:
        return self.name

    @property
    def place(self):
        target = _SCOPE_TARGETS[Scope(self.scope)]
        return getattr(self, target) if target else None

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            errors.setdefault("valid_to", []).append(
                f"失效日期 {self.valid_to} 早于生效日期 {self.valid_from} / "
                f"valid-to {self.valid_to} is before valid-from {self.valid_from}"
            )
        try:
            scope = Scope(self.scope)
        except ValueError:
            errors.setdefault("scope", []).append(f"未知的适用范围 / unknown scope '{self.scope}'")
        else:
            target = _SCOPE_TARGETS[scope]
            for other in ("street", "business_circle", "building"):
                has = getattr(self, f"{other}_id") is not None
                if other == target and not has:
                    errors.setdefault(other, []).append(
                        f"范围为{SCOPE_LABELS[scope][0]}时须选择{SCOPE_LABELS[scope][0]} / "
                        f"a {SCOPE_LABELS[scope][1]} policy needs its {SCOPE_LABELS[scope][1]}"
                    )
                elif other != target and has:
                    errors.setdefault(other, []).append(
                        f"范围为{SCOPE_LABELS[scope][0]}时不应填写此项 / "
                        f"a {SCOPE_LABELS[scope][1]} policy does not name a {other.replace('_', ' ')}"
                    )
        if self.lead_id is not None and (not self.needs_approval or self.scope != Scope.BUILDING):
            errors.setdefault("lead", []).append(
                "一事一议政策须限定楼宇并经审批 / a case-by-case package binds a building and needs approval"
            )
        if self.stacking_group:
            self.stacking_group = self.stacking_group.strip()
        try:
            parse_condition(self.condition, known_values=condition_known_values())
        except ConditionError as error:
            errors.setdefault("condition", []).append(error.message)
        if errors:
            raise ValidationError(errors)


def condition_known_values() -> dict[str, list[str]]:
    """The values the text fields of a condition may take, read from the CRM (three small queries)."""
    from crm.constants import FeaturedType
    from crm.models import BusinessCircle, Industry, Street

    sections, divisions = [], []
    for code, level in Industry.objects.filter(level__in=["section", "division"]).values_list(
        "code", "level"
    ):
        (sections if level == "section" else divisions).append(code)
    return {
        "industry_section": sections,
        "industry_division": divisions,
        "featured_type": ["", *FeaturedType.values],
        "street": list(Street.objects.values_list("name", flat=True)),
        "business_circle": ["", *BusinessCircle.objects.values_list("name", flat=True)],
    }


def _benefit_constraints() -> list[models.CheckConstraint]:
    constraints = [
        models.CheckConstraint(
            condition=Q(kind__in=[k.value for k in BenefitKind]), name="benefit_kind_known"
        ),
        models.CheckConstraint(
            condition=Q(percent__isnull=True) | Q(percent__gt=0, percent__lte=100),
            name="benefit_percent_0_100",
        ),
        models.CheckConstraint(
            condition=Q(months__isnull=True) | Q(months__gte=1, months__lte=MAX_MONTHS),
            name="benefit_months_range",
        ),
        models.CheckConstraint(
            condition=Q(years__isnull=True) | Q(years__gte=1, years__lte=HORIZON_YEARS),
            name="benefit_years_range",
        ),
        models.CheckConstraint(
            condition=Q(yuan_per_m2__isnull=True) | Q(yuan_per_m2__gt=0), name="benefit_yuan_per_m2_positive"
        ),
        models.CheckConstraint(
            condition=Q(amount_yuan__isnull=True) | Q(amount_yuan__gt=0), name="benefit_amount_positive"
        ),
        models.CheckConstraint(
            condition=Q(cap_yuan__isnull=True) | Q(cap_yuan__gte=0), name="benefit_cap_not_negative"
        ),
        models.CheckConstraint(
            condition=Q(yearly_cap_yuan__isnull=True) | Q(yearly_cap_yuan__gte=0),
            name="benefit_yearly_cap_not_negative",
        ),
    ]
    # Each kind carries exactly its own parameters, and exactly one of its alternatives (one_of).
    for kind, info in KINDS.items():
        allowed = set(info.required) | set(info.optional)
        needed = {f"{name}__isnull": False for name in info.required}
        absent = {f"{name}__isnull": True for name in PARAMETERS if name not in allowed}
        own = Q(**needed, **absent)
        if info.one_of:
            exactly_one = Q()
            for chosen in info.one_of:
                exactly_one |= Q(
                    **{f"{name}__isnull": name != chosen for name in info.one_of},
                )
            own &= exactly_one
        constraints.append(
            models.CheckConstraint(
                condition=~Q(kind=kind.value) | own, name=f"benefit_{kind.value}_parameters"
            )
        )
    return constraints


class Benefit(models.Model):
    """One benefit a policy grants (rent subsidy, rent-free months, tax reward...), with its caps."""

    policy = models.ForeignKey(
        Policy, verbose_name=_("政策"), on_delete=models.CASCADE, related_name="benefits"
    )
    kind = models.CharField(_("类型"), max_length=30, choices=KIND_CHOICES)
    percent = models.DecimalField(
        _("比例(%)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("租金或区级留成税收的百分比"),
    )
    months = models.PositiveSmallIntegerField(_("月数"), null=True, blank=True)
    years = models.PositiveSmallIntegerField(_("年数"), null=True, blank=True)
    yuan_per_m2 = models.DecimalField(
        _("每平方米金额(元/㎡)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    amount_yuan = models.DecimalField(_("金额(元)"), null=True, blank=True, **MONEY)
    cap_yuan = models.DecimalField(_("总额上限(元)"), null=True, blank=True, **MONEY)
    yearly_cap_yuan = models.DecimalField(_("年度上限(元)"), null=True, blank=True, **MONEY)
    history = HistoricalRecords()

    class Meta:
        ordering = ["policy", "id"]
        verbose_name = _("政策福利")
        verbose_name_plural = pgettext_lazy("plural", "政策福利")
        constraints = _benefit_constraints()

    def __str__(self) -> str:
        return f"{self.policy_id} {self.get_kind_display()}"

    def parameters(self) -> dict:
        return {name: getattr(self, name) for name in PARAMETERS}

    def clean(self) -> None:
        problems = benefit_problems(self.kind, self.parameters())
        if problems:
            errors: dict[str, list[str]] = {}
            for field, zh, en in problems:
                errors.setdefault(field, []).append(f"{zh} / {en}")
            raise ValidationError(errors)


class DistrictPolicySettings(models.Model):
    """The district's policy settings; exactly one row (pk 1)."""

    tax_retained_share = models.DecimalField(
        _("区级留成比例"),
        max_digits=4,
        decimal_places=3,
        default=DEFAULT_TAX_RETAINED_SHARE,
        help_text=_("企业税收中留归本区的份额,0–1 / share of a company's tax the district retains, 0–1"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("政策参数")
        verbose_name_plural = pgettext_lazy("plural", "政策参数")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="district_policy_settings_singleton"),
            models.CheckConstraint(
                condition=Q(tax_retained_share__gt=0, tax_retained_share__lte=1),
                name="district_policy_settings_share_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"区级留成 / retained share {self.tax_retained_share}"

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.tax_retained_share is not None and not 0 < self.tax_retained_share <= 1:
            raise ValidationError(
                {"tax_retained_share": "留成比例须在 0–1 之间 / the retained share must be between 0 and 1"}
            )


class Commitment(models.Model):
    """The incentive package promised at a signing: a snapshot that later policy edits do not change."""

    signing = models.OneToOneField(
        "crm.Signing", verbose_name=_("签约"), on_delete=models.CASCADE, related_name="commitment"
    )
    building = models.ForeignKey(
        "crm.Building", verbose_name=_("楼宇"), on_delete=models.PROTECT, related_name="commitments"
    )
    evaluated_on = models.DateField(_("测算日期"))
    total_yuan = models.DecimalField(_("承诺总额(元)"), **MONEY)
    tax_retained_share = models.DecimalField(_("区级留成比例"), max_digits=4, decimal_places=3)
    snapshot = models.JSONField(
        _("测算明细"), help_text=_("签约时的完整测算结果 / the evaluation at signing")
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        ordering = ["-evaluated_on"]
        verbose_name = _("政策承诺")
        verbose_name_plural = pgettext_lazy("plural", "政策承诺")
        constraints = [
            models.CheckConstraint(condition=Q(total_yuan__gte=0), name="commitment_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.signing} {self.total_yuan}"


class CommitmentLine(models.Model):
    """One period of a commitment's schedule: what one benefit of one policy promises in one year of
    the agreement, from period_start to period_end, paid by its payments or withheld with a reason."""

    commitment = models.ForeignKey(
        Commitment, verbose_name=_("承诺"), on_delete=models.CASCADE, related_name="lines"
    )
    # The policy may later change or go; its name and the amounts stay as they were promised.
    policy = models.ForeignKey(
        Policy,
        verbose_name=_("政策"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commitment_lines",
    )
    policy_name = models.CharField(_("政策名称"), max_length=200)
    benefit_kind = models.CharField(_("福利类型"), max_length=30, choices=KIND_CHOICES)
    beneficiary = models.CharField(_("受益方"), max_length=20)
    # 以商招商: the tenant a referral reward is promised to, as the lead named it at signing.
    referrer = models.ForeignKey(
        "crm.Enterprise",
        verbose_name=_("推荐企业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referral_reward_lines",
    )
    year_index = models.PositiveSmallIntegerField(_("第几年"))
    # The calendar year the period starts in (the year the white paper and the forecast count it in).
    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    period_start = models.DateField(_("期间开始"), db_index=True)
    period_end = models.DateField(_("期间结束"))
    amount_yuan = models.DecimalField(_("金额(元)"), **MONEY)
    withheld_at = models.DateTimeField(_("暂缓兑现时间"), null=True, blank=True)
    withheld_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("暂缓人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    withheld_reason = models.CharField(_("暂缓原因"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["commitment", "period_start", "id"]
        verbose_name = _("承诺明细")
        verbose_name_plural = pgettext_lazy("plural", "承诺明细")
        constraints = [
            models.CheckConstraint(condition=Q(amount_yuan__gt=0), name="commitment_line_amount_positive"),
            models.CheckConstraint(
                condition=Q(year_index__gte=1, year_index__lte=HORIZON_YEARS),
                name="commitment_line_year_index_range",
            ),
            models.CheckConstraint(
                condition=Q(period_start__lte=F("period_end")), name="commitment_line_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(withheld_at__isnull=True) | ~Q(withheld_reason=""),
                name="commitment_line_withheld_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(beneficiary=REFERRER, referrer__isnull=False)
                | (~Q(beneficiary=REFERRER) & Q(referrer__isnull=True)),
                name="commitment_line_referrer_iff_referral",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy_name} {self.year} {self.amount_yuan}"


class CommitmentPayment(models.Model):
    """One payment the district made against one period of a commitment's schedule."""

    line = models.ForeignKey(
        CommitmentLine, verbose_name=_("承诺期间"), on_delete=models.PROTECT, related_name="payments"
    )
    paid_on = models.DateField(_("支付日期"))
    amount_yuan = models.DecimalField(_("金额(元)"), **MONEY)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("登记时间"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["line", "paid_on", "id"]
        verbose_name = _("承诺兑现")
        verbose_name_plural = pgettext_lazy("plural", "承诺兑现")
        constraints = [
            models.CheckConstraint(condition=Q(amount_yuan__gt=0), name="commitment_payment_amount_positive"),
            dates_within_years(
                "commitment_payment_dates_within_years", dates=("paid_on",), instants=("recorded_at",)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.paid_on} {self.amount_yuan}"

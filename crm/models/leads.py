"""Leads (招商线索) and what happens to them: stage changes, activities, unit holds and signings."""

import operator
from functools import reduce

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from crm.constants import LEAD_TRANSITIONS, OPEN_STAGES, ActivityKind, LawfulBasis, LeadChannel, LeadStage
from crm.credit_code import validate_credit_code
from crm.models.buildings import AREA, RENT
from crm.models.fields import ReadableDateTimeField, dates_within_years
from crm.names import normalise_company_name


class Lead(models.Model):
    """One prospective company and what it needs, owned by a promoter while it is worked."""

    ref = models.CharField(_("线索编号"), max_length=40, unique=True)
    company_name = models.CharField(_("企业名称"), max_length=200)
    normalised_name = models.CharField(max_length=200, db_index=True, editable=False)
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, blank=True, db_index=True, validators=[validate_credit_code]
    )
    industry = models.ForeignKey(
        "crm.Industry",
        verbose_name=_("行业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        limit_choices_to={"level": "division"},
    )
    business_scope = models.TextField(_("经营范围"), blank=True)
    contact_name = models.CharField(_("联系人"), max_length=100, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    # Why the contact person's data may be held (PIPL art. 13); an agency must say when it refers one.
    lawful_basis = models.CharField(
        _("个人信息处理依据"), max_length=20, choices=LawfulBasis.choices, blank=True
    )
    lawful_basis_recorded_at = ReadableDateTimeField(_("依据登记时间"), null=True, blank=True)
    area_min_m2 = models.DecimalField(_("最小面积(㎡)"), null=True, blank=True, **AREA)
    area_max_m2 = models.DecimalField(_("最大面积(㎡)"), null=True, blank=True, **AREA)
    budget_rent = models.DecimalField(_("租金预算(元/㎡·天)"), null=True, blank=True, **RENT)
    expected_annual_tax = models.DecimalField(
        _("预计年纳税(元)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    employees = models.PositiveIntegerField(_("员工人数"), null=True, blank=True)
    is_headquarters = models.BooleanField(_("总部企业"), default=False)
    preferred_streets = models.ManyToManyField(
        "crm.Street", verbose_name=_("意向镇街"), blank=True, related_name="preferring_leads"
    )
    desired_move_in = models.DateField(_("期望入驻日期"), null=True, blank=True)
    channel = models.CharField(_("渠道"), max_length=20, choices=LeadChannel.choices)
    owner = models.ForeignKey(
        "crm.Promoter",
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    agency = models.ForeignKey(
        "crm.Agency",
        verbose_name=_("提交机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    referred_by = models.ForeignKey(
        "crm.Enterprise",
        verbose_name=_("推荐企业"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referred_leads",
    )
    stage = models.CharField(
        _("阶段"), max_length=20, choices=LeadStage.choices, default=LeadStage.NEW, db_index=True
    )
    lost_reason = models.CharField(_("流失原因"), max_length=300, blank=True)
    case_by_case = models.BooleanField(
        _("一事一议"), default=False, help_text=_("重大项目,条件需单独审批 / terms need approval")
    )
    # The plan's entry threshold (四(1)): register, settle accounts and pay tax in the district.
    # Leads recorded before these existed were taken to intend all three, so the default is yes.
    registers_in_district = models.BooleanField(_("拟在区内注册"), default=True)
    settles_in_district = models.BooleanField(_("拟在区内结算"), default=True)
    pays_tax_in_district = models.BooleanField(_("拟在区内纳税"), default=True)
    # A lead short of the threshold signs only once the district has approved the exception, as a
    # case-by-case term would be (crm.services.leads.lead_entry_exception_approve).
    entry_exception_approved_at = models.DateTimeField(_("准入例外批准时间"), null=True, blank=True)
    entry_exception_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("准入例外批准人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = ReadableDateTimeField(_("创建时间"), db_index=True)
    updated_at = ReadableDateTimeField(_("更新时间"), auto_now=True)
    # Start of the owner's protection period (撞单保护): the last activity, or creation.
    last_activity_at = ReadableDateTimeField(_("最近跟进"), db_index=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    history = HistoricalRecords(excluded_fields=["normalised_name", "updated_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("招商线索")
        verbose_name_plural = pgettext_lazy("plural", "招商线索")
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=LeadStage.values), name="lead_stage_known"),
            dates_within_years(
                "lead_dates_within_years",
                dates=("desired_move_in",),
                instants=(
                    "lawful_basis_recorded_at",
                    "entry_exception_approved_at",
                    "created_at",
                    "last_activity_at",
                ),
            ),
            models.CheckConstraint(condition=Q(channel__in=LeadChannel.values), name="lead_channel_known"),
            models.CheckConstraint(
                condition=Q(area_min_m2__isnull=True) | Q(area_min_m2__gt=0), name="lead_area_min_positive"
            ),
            models.CheckConstraint(
                condition=Q(area_max_m2__isnull=True) | Q(area_max_m2__gt=0), name="lead_area_max_positive"
            ),
            models.CheckConstraint(
                condition=Q(area_min_m2__isnull=True)
                | Q(area_max_m2__isnull=True)
                | Q(area_min_m2__lte=F("area_max_m2")),
                name="lead_area_range_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(stage=LeadStage.LOST) | ~Q(lost_reason=""), name="lead_lost_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(lawful_basis="") | Q(lawful_basis__in=LawfulBasis.values),
                name="lead_lawful_basis_known",
            ),
            models.CheckConstraint(
                condition=Q(lawful_basis="") | Q(lawful_basis_recorded_at__isnull=False),
                name="lead_lawful_basis_has_time",
            ),
        ]
        indexes = [models.Index(fields=["owner", "stage"], name="lead_owner_stage")]

    def __str__(self) -> str:
        return f"{self.ref} {self.company_name}"

    def save(self, *args, **kwargs) -> None:
        # Derived column kept with the row so the 撞单 check is one indexed lookup.
        self.normalised_name = normalise_company_name(self.company_name)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def meets_entry_threshold(self) -> bool:
        """It intends to register, settle accounts and pay tax in the district (the plan's 四(1))."""
        return self.registers_in_district and self.settles_in_district and self.pays_tax_in_district

    @property
    def entry_needs_approval(self) -> bool:
        """Short of the entry threshold and not yet approved by the district: it may not sign."""
        return not self.meets_entry_threshold and self.entry_exception_approved_at is None


def _allowed_transition_condition() -> Q:
    # Sorted, so that the migration's copy of the condition is stable across runs.
    edges = sorted((source, target) for source, targets in LEAD_TRANSITIONS.items() for target in targets)
    return reduce(operator.or_, (Q(from_stage=source, to_stage=target) for source, target in edges))


class StageChange(models.Model):
    """One move of a lead from one stage to another, with who made it and why."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(_("原阶段"), max_length=20, choices=LeadStage.choices)
    to_stage = models.CharField(_("新阶段"), max_length=20, choices=LeadStage.choices)
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = ReadableDateTimeField(_("时间"))

    class Meta:
        ordering = ["lead", "changed_at"]
        verbose_name = _("阶段变更")
        verbose_name_plural = pgettext_lazy("plural", "阶段变更")
        constraints = [
            # The allowed edges of LEAD_TRANSITIONS, enforced by the database too.
            models.CheckConstraint(
                condition=_allowed_transition_condition(), name="stage_change_allowed_edge"
            ),
            dates_within_years("stage_change_dates_within_years", instants=("changed_at",)),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.from_stage} → {self.to_stage}"


class Activity(models.Model):
    """One call, visit, site tour, meeting, e-mail or note on a lead; may set the next follow-up."""

    lead = models.ForeignKey(
        Lead, verbose_name=_("线索"), on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=ActivityKind.choices)
    occurred_at = ReadableDateTimeField(_("发生时间"))
    building = models.ForeignKey(
        "crm.Building",
        verbose_name=_("看房楼宇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    unit = models.ForeignKey(
        "crm.Unit",
        verbose_name=_("看房单元"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    promoter = models.ForeignKey(
        "crm.Promoter",
        verbose_name=_("招商人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    notes = models.TextField(_("记录"), blank=True)
    # The planned next activity: when (the follow-up the reminders fire on), what, and by whom. It is
    # the lead's plan while this is its latest activity; the next activity logged completes it.
    next_follow_up_at = ReadableDateTimeField(_("下次跟进"), null=True, blank=True, db_index=True)
    next_kind = models.CharField(
        _("下次跟进方式"), max_length=20, choices=ActivityKind.choices, blank=True, default=""
    )
    next_assignee = models.ForeignKey(
        "crm.Promoter",
        verbose_name=_("下次跟进负责人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="planned_activities",
        help_text=_("留空则为线索负责人"),
    )
    created_at = ReadableDateTimeField(_("录入时间"), auto_now_add=True)
    # Rescheduling a plan changes this row: its history says who moved it and from when.
    history = HistoricalRecords()

    class Meta:
        ordering = ["lead", "-occurred_at"]
        verbose_name = _("跟进记录")
        verbose_name_plural = pgettext_lazy("plural", "跟进记录")
        # The appraisal (the desk, the leaderboard) counts every promoter's activities of a period:
        # without it a month's count read all 200,000 activities of a city.
        indexes = [models.Index(fields=["occurred_at"], name="activity_occurred_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "occurred_at", "kind"], name="activity_unique_lead_time_kind"
            ),
            models.CheckConstraint(condition=Q(kind__in=ActivityKind.values), name="activity_kind_known"),
            dates_within_years("activity_dates_within_years", instants=("occurred_at", "next_follow_up_at")),
            models.CheckConstraint(
                condition=~Q(kind=ActivityKind.SITE_TOUR) | Q(building__isnull=False),
                name="activity_site_tour_has_building",
            ),
            models.CheckConstraint(
                condition=Q(next_kind="") | Q(next_kind__in=ActivityKind.values),
                name="activity_next_kind_known",
            ),
            # A planned kind or assignee without a time would be a plan nobody is reminded of.
            models.CheckConstraint(
                condition=Q(next_follow_up_at__isnull=False)
                | (Q(next_kind="") & Q(next_assignee__isnull=True)),
                name="activity_plan_has_time",
            ),
            # A planned site tour is done in the building it was booked in.
            models.CheckConstraint(
                condition=~Q(next_kind=ActivityKind.SITE_TOUR) | Q(building__isnull=False),
                name="activity_planned_tour_has_building",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead.ref} {self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class Reservation(models.Model):
    """A promoter's hold on one vacant unit for a lead in negotiation, until an expiry date."""

    lead = models.ForeignKey(
        Lead, verbose_name=_("线索"), on_delete=models.CASCADE, related_name="reservations"
    )
    unit = models.ForeignKey(
        "crm.Unit", verbose_name=_("房源"), on_delete=models.CASCADE, related_name="reservations"
    )
    promoter = models.ForeignKey(
        "crm.Promoter", verbose_name=_("招商人员"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("预留时间"))
    expires_on = models.DateField(_("预留到期"))
    released_at = models.DateTimeField(_("释放时间"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("房源预留")
        verbose_name_plural = pgettext_lazy("plural", "房源预留")
        constraints = [
            # At most one live hold per unit; an expired hold is released before a new one is taken.
            models.UniqueConstraint(
                fields=["unit"], condition=Q(released_at__isnull=True), name="reservation_one_live_per_unit"
            ),
            dates_within_years(
                "reservation_dates_within_years",
                dates=("expires_on",),
                instants=("created_at", "released_at"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} → {self.lead.ref} ({self.expires_on})"


class Signing(models.Model):
    """A lead's signed lease in one building: the enterprise, its tenancy and the terms."""

    lead = models.ForeignKey(Lead, verbose_name=_("线索"), on_delete=models.PROTECT, related_name="signings")
    building = models.ForeignKey(
        "crm.Building", verbose_name=_("楼宇"), on_delete=models.PROTECT, related_name="signings"
    )
    enterprise = models.ForeignKey(
        "crm.Enterprise", verbose_name=_("企业"), on_delete=models.PROTECT, related_name="signings"
    )
    tenancy = models.OneToOneField(
        "crm.Tenancy", verbose_name=_("租约"), on_delete=models.PROTECT, related_name="signing"
    )
    units = models.ManyToManyField("crm.Unit", verbose_name=_("房源"), blank=True, related_name="signings")
    area_m2 = models.DecimalField(_("面积(㎡)"), **AREA)
    rent = models.DecimalField(_("租金(元/㎡·天)"), null=True, blank=True, **RENT)
    signed_on = models.DateField(_("签约日期"))
    signed_by = models.ForeignKey(
        "crm.Promoter",
        verbose_name=_("签约人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Verified outcome (已入驻): set by crm.services.signings.signing_settle once the company is
    # registered here and its first tax record has arrived, or by a district admin's override, whose
    # reason is kept here. Appraisal counts a signing as a result only from then on.
    settled_at = ReadableDateTimeField(_("入驻核验时间"), null=True, blank=True, db_index=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核验人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    settle_override_reason = models.CharField(_("人工核验理由"), max_length=300, blank=True)
    # A signing that fell through: its units are released and it counts nowhere any more.
    cancelled_at = ReadableDateTimeField(_("取消时间"), null=True, blank=True, db_index=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("取消人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancel_reason = models.CharField(_("取消原因"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-signed_on"]
        verbose_name = _("签约")
        verbose_name_plural = pgettext_lazy("plural", "签约")
        constraints = [
            models.UniqueConstraint(fields=["lead", "building"], name="signing_unique_lead_building"),
            dates_within_years("signing_dates_within_years", dates=("signed_on",)),
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="signing_area_positive"),
            models.CheckConstraint(
                condition=Q(rent__isnull=True) | Q(rent__gte=0), name="signing_rent_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(cancelled_at__isnull=True) | ~Q(cancel_reason=""),
                name="signing_cancel_has_reason",
            ),
            # A verified outcome is never also a cancelled one.
            models.CheckConstraint(
                condition=Q(cancelled_at__isnull=True) | Q(settled_at__isnull=True),
                name="signing_not_settled_and_cancelled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead.ref} @ {self.building.code} {self.signed_on}"

    @property
    def status(self) -> str:
        """signed (pipeline), settled (verified result) or cancelled."""
        if self.cancelled_at is not None:
            return "cancelled"
        return "settled" if self.settled_at is not None else "signed"

"""Enterprises (入驻企业), the tenancies that settle them in buildings, and the tax they pay."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from crm.credit_code import validate_credit_code
from crm.models.buildings import AREA
from crm.models.fields import dates_within_years
from crm.names import normalise_company_name


class Enterprise(models.Model):
    """One company known to the district, identified by its unified social credit code."""

    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    name = models.CharField(_("企业名称"), max_length=200)
    normalised_name = models.CharField(max_length=200, db_index=True, editable=False)
    industry = models.ForeignKey(
        "crm.Industry",
        verbose_name=_("行业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enterprises",
        limit_choices_to={"level": "division"},
    )
    registered_in_district = models.BooleanField(_("在区内注册"), default=False)
    settles_in_district = models.BooleanField(_("在区内结算"), default=False)
    is_headquarters = models.BooleanField(_("总部企业"), default=False)
    employees = models.PositiveIntegerField(_("员工人数"), null=True, blank=True)
    business_scope = models.TextField(_("经营范围"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("企业")
        verbose_name_plural = pgettext_lazy("plural", "企业")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Derived column kept with the row so duplicate checks are one indexed lookup.
        self.normalised_name = normalise_company_name(self.name)
        super().save(*args, **kwargs)


class Tenancy(models.Model):
    """One enterprise occupying space in one building from a start date to an optional end date."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="tenancies"
    )
    building = models.ForeignKey(
        "crm.Building", verbose_name=_("楼宇"), on_delete=models.PROTECT, related_name="tenancies"
    )
    units = models.ManyToManyField(
        "crm.Unit", verbose_name=_("房源"), through="crm.TenancyUnit", blank=True, related_name="tenancies"
    )
    area_m2 = models.DecimalField(_("面积(㎡)"), **AREA)
    start = models.DateField(_("起租日期"))
    end = models.DateField(_("到期日期"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["building", "start"]
        verbose_name = _("租约")
        verbose_name_plural = pgettext_lazy("plural", "租约")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "building", "start"], name="tenancy_unique_enterprise_building_start"
            ),
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="tenancy_area_positive"),
            dates_within_years("tenancy_dates_within_years", dates=("start", "end")),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="tenancy_end_after_start"
            ),
        ]
        indexes = [models.Index(fields=["building", "start", "end"], name="tenancy_building_period")]

    def __str__(self) -> str:
        return f"{self.enterprise} @ {self.building.code} {self.start}–{self.end or ''}"

    def clean(self) -> None:
        errors = {}
        if self.area_m2 is not None and self.area_m2 <= 0:
            errors["area_m2"] = _("面积必须大于0 / area must be greater than 0")
        if self.start and self.end and self.end < self.start:
            errors["end"] = _("到期日期早于起租日期 / end is before start")
        if errors:
            raise ValidationError(errors)


class TenancyUnit(models.Model):
    """One unit taken by one tenancy; the period is copied here so the database can forbid overlaps."""

    tenancy = models.ForeignKey(Tenancy, on_delete=models.CASCADE, related_name="unit_links")
    unit = models.ForeignKey("crm.Unit", on_delete=models.PROTECT, related_name="tenancy_links")
    start = models.DateField()
    end = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("租约房源")
        verbose_name_plural = pgettext_lazy("plural", "租约房源")
        constraints = [
            models.UniqueConstraint(fields=["tenancy", "unit"], name="tenancy_unit_once"),
            dates_within_years("tenancy_unit_dates_within_years", dates=("start", "end")),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="tenancy_unit_end_after_start"
            ),
        ]
        # On PostgreSQL migration 0002 adds an exclusion constraint: no two links of one unit overlap.

    def __str__(self) -> str:
        return f"{self.unit_id} {self.start}–{self.end or ''}"


class TaxRecord(models.Model):
    """Tax one enterprise paid to the district: a month's amount, or a whole year's total (month blank)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="tax_records"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(1990)])
    month = models.PositiveSmallIntegerField(
        _("月份"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    amount_yuan = models.DecimalField(_("税额(元)"), max_digits=16, decimal_places=2)

    class Meta:
        ordering = ["enterprise", "year", "month"]
        verbose_name = _("税收记录")
        verbose_name_plural = pgettext_lazy("plural", "税收记录")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "year", "month"],
                condition=Q(month__isnull=False),
                name="tax_record_unique_month",
            ),
            models.UniqueConstraint(
                fields=["enterprise", "year"], condition=Q(month__isnull=True), name="tax_record_unique_year"
            ),
            models.CheckConstraint(
                condition=Q(month__isnull=True) | Q(month__gte=1, month__lte=12), name="tax_record_month_1_12"
            ),
        ]
        indexes = [models.Index(fields=["year", "enterprise"], name="tax_record_year_enterprise")]

    def __str__(self) -> str:
        period = f"{self.year}-{self.month:02d}" if self.month else str(self.year)
        return f"{self.enterprise_id} {period} {self.amount_yuan}"

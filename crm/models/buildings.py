"""Commercial office buildings (楼宇) and their leasable units (房源)."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from crm.constants import FeaturedType, UnitStatus

AREA = {"max_digits": 12, "decimal_places": 2}
RENT = {"max_digits": 8, "decimal_places": 2}


class Building(models.Model):
    """One commercial office building of the district, with the attributes the plan measures."""

    code = models.CharField(_("编号"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=200, db_index=True)
    street = models.ForeignKey(
        "crm.Street", verbose_name=_("镇街"), on_delete=models.PROTECT, related_name="buildings"
    )
    business_circle = models.ForeignKey(
        "crm.BusinessCircle",
        verbose_name=_("商圈"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="buildings",
    )
    address = models.CharField(_("地址"), max_length=300, blank=True)
    gross_area_m2 = models.DecimalField(_("总建筑面积(㎡)"), **AREA)
    leasable_area_m2 = models.DecimalField(_("可租售面积(㎡)"), **AREA)
    floors = models.PositiveSmallIntegerField(_("层数"), null=True, blank=True)
    in_service_since = models.DateField(_("投用日期"), null=True, blank=True)
    star_rating = models.PositiveSmallIntegerField(
        _("星级"), default=0, validators=[MinValueValidator(0), MaxValueValidator(5)]
    )
    star_since = models.DateField(_("星级评定日期"), null=True, blank=True)
    featured_type = models.CharField(
        _("特色楼宇类型"), max_length=20, choices=FeaturedType.choices, blank=True
    )
    featured_since = models.DateField(_("特色认定日期"), null=True, blank=True)
    main_industry = models.ForeignKey(
        "crm.Industry",
        verbose_name=_("主导产业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": ["section", "division"]},
    )
    party_org_since = models.DateField(_("党组织建立日期"), null=True, blank=True)
    intermediary_since = models.DateField(_("中介服务配套日期"), null=True, blank=True)
    smart_platform_since = models.DateField(_("接入智慧平台日期"), null=True, blank=True)
    rent_min = models.DecimalField(_("最低租金(元/㎡·天)"), null=True, blank=True, **RENT)
    rent_max = models.DecimalField(_("最高租金(元/㎡·天)"), null=True, blank=True, **RENT)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("楼宇")
        verbose_name_plural = pgettext_lazy("plural", "楼宇")
        constraints = [
            models.CheckConstraint(condition=Q(gross_area_m2__gt=0), name="building_gross_area_positive"),
            models.CheckConstraint(
                condition=Q(leasable_area_m2__gt=0), name="building_leasable_area_positive"
            ),
            models.CheckConstraint(
                condition=Q(leasable_area_m2__lte=F("gross_area_m2")),
                name="building_leasable_within_gross",
            ),
            models.CheckConstraint(
                condition=Q(star_rating__gte=0, star_rating__lte=5), name="building_star_0_to_5"
            ),
            models.CheckConstraint(
                condition=Q(rent_min__isnull=True)
                | Q(rent_max__isnull=True)
                | Q(rent_min__lte=F("rent_max")),
                name="building_rent_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:

        errors = {}
        if self.gross_area_m2 is not None and self.gross_area_m2 <= 0:
            errors["gross_area_m2"] = _("总建筑面积必须大于0 / gross area must be greater than 0")
        if self.leasable_area_m2 is not None and self.leasable_area_m2 <= 0:
            errors["leasable_area_m2"] = _("可租售面积必须大于0 / leasable area must be greater than 0")
        elif (
            self.leasable_area_m2 is not None
            and self.gross_area_m2 is not None
            and self.leasable_area_m2 > self.gross_area_m2
        ):
            errors["leasable_area_m2"] = _(
                "可租售面积不能大于总建筑面积 / leasable area cannot exceed gross area"
            )
        if self.rent_min is not None and self.rent_max is not None and self.rent_min > self.rent_max:
            errors["rent_max"] = _("最高租金不能低于最低租金 / rent_max cannot be below rent_min")
        if self.main_industry_id and self.main_industry.level not in ("section", "division"):
            errors["main_industry"] = _(
                "主导产业应为门类或大类 / main industry must be a section or a division"
            )
        if errors:
            raise ValidationError(errors)


class Unit(models.Model):
    """One leasable space on a floor of a building, with its current status."""

    building = models.ForeignKey(
        Building, verbose_name=_("楼宇"), on_delete=models.CASCADE, related_name="units"
    )
    floor = models.SmallIntegerField(_("楼层"))
    number = models.CharField(_("房号"), max_length=40)
    area_m2 = models.DecimalField(_("面积(㎡)"), **AREA)
    status = models.CharField(
        _("状态"), max_length=20, choices=UnitStatus.choices, default=UnitStatus.VACANT, db_index=True
    )
    asking_rent = models.DecimalField(_("报价租金(元/㎡·天)"), null=True, blank=True, **RENT)
    available_from = models.DateField(_("可入驻日期"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["building", "floor", "number"]
        verbose_name = _("房源")
        verbose_name_plural = pgettext_lazy("plural", "房源")
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="unit_number_unique_in_building"),
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="unit_area_positive"),
            models.CheckConstraint(condition=Q(status__in=UnitStatus.values), name="unit_status_known"),
            models.CheckConstraint(
                condition=Q(asking_rent__isnull=True) | Q(asking_rent__gte=0), name="unit_rent_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["building", "status"], name="unit_building_status")]

    def __str__(self) -> str:
        # As a promoter names a space, in admin lists, autocomplete and history: "北海大厦 801", not
        # the building's code.
        return f"{self.building.name} {self.number}"

    def clean(self) -> None:

        if self.area_m2 is not None and self.area_m2 <= 0:
            raise ValidationError({"area_m2": _("面积必须大于0 / area must be greater than 0")})

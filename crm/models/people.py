"""The people who work leads: promoters, outside agencies, and each user's scope."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Promoter(models.Model):
    """One investment promoter (招商人员), linked to the login they work under."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("账号"), on_delete=models.PROTECT, related_name="promoter"
    )
    name = models.CharField(_("姓名"), max_length=100)
    team = models.CharField(_("团队"), max_length=100, blank=True, db_index=True)
    is_team_lead = models.BooleanField(_("团队负责人"), default=False)
    street = models.ForeignKey(
        "crm.Street",
        verbose_name=_("所属镇街"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="promoters",
    )
    active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("招商人员")
        verbose_name_plural = pgettext_lazy("plural", "招商人员")

    def __str__(self) -> str:
        return self.name

    @property
    def username(self) -> str:
        return self.user.get_username()


class Agency(models.Model):
    """One outside partner (中介机构, third-party service firm or chamber) that submits leads."""

    class Kind(models.TextChoices):
        INTERMEDIARY = "intermediary", _("中介机构")
        SERVICE_FIRM = "service_firm", _("第三方服务企业")
        CHAMBER = "chamber", _("商会")

    name = models.CharField(_("名称"), max_length=200, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.INTERMEDIARY)
    contact_name = models.CharField(_("联系人"), max_length=100, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    active = models.BooleanField(_("合作中"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("中介机构")
        verbose_name_plural = pgettext_lazy("plural", "中介机构")

    def __str__(self) -> str:
        return self.name


class UserScope(models.Model):
    """What part of the district one user works in: a street, a building or an agency.

    The role itself is the user's group (see crm.constants.Role); the scope narrows it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("账号"), on_delete=models.CASCADE, related_name="scope"
    )
    street = models.ForeignKey(
        "crm.Street",
        verbose_name=_("镇街"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    building = models.ForeignKey(
        "crm.Building",
        verbose_name=_("楼宇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("中介机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )

    class Meta:
        verbose_name = _("用户范围")
        verbose_name_plural = pgettext_lazy("plural", "用户范围")
        constraints = [
            # A scope names at most one place: a street officer a street, a manager a building, ...
            models.CheckConstraint(
                condition=(
                    Q(street__isnull=True, building__isnull=True)
                    | Q(street__isnull=True, agency__isnull=True)
                    | Q(building__isnull=True, agency__isnull=True)
                ),
                name="user_scope_one_place",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.street or self.building or self.agency or '—'}"

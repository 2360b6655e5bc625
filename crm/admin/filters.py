"""List filters the CRM admins share: industry section and promoter team, with choices from the data."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.admin.base import scoped
from crm.constants import IndustryLevel
from crm.models import Industry, Promoter


def industry_section_filter(path: str, title=None) -> type[admin.SimpleListFilter]:
    """A filter on the GB/T 4754 section (A–T) of the industry reached by `path`."""

    class IndustrySectionFilter(admin.SimpleListFilter):
        parameter_name = "industry_section"

        def lookups(self, request, model_admin):
            sections = scoped(request, Industry.objects.filter(level=IndustryLevel.SECTION)).order_by("code")
            return [(section.code, str(section)) for section in sections]

        def queryset(self, request, queryset):
            if self.value():
                return queryset.filter(**{f"{path}__section": self.value()})
            return queryset

    IndustrySectionFilter.title = title or _("行业门类")
    return IndustrySectionFilter


class OwnerTeamFilter(admin.SimpleListFilter):
    """Leads by the team of their owner."""

    title = _("负责团队")
    parameter_name = "owner_team"

    def lookups(self, request, model_admin):
        teams = (
            scoped(request, Promoter.objects.exclude(team=""))
            .order_by("team")
            .values_list("team", flat=True)
            .distinct()
        )
        return [(team, team) for team in teams]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(owner__team=self.value())
        return queryset

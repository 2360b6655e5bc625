"""Admins of the people who work leads: promoters, agencies, and each login's scope (with the user)."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.admin.base import ScopedInline, ScopedModelAdmin
from crm.models import Agency, Promoter, UserScope


@admin.register(Promoter)
class PromoterAdmin(ScopedModelAdmin):
    list_display = ("name", "team", "is_team_lead", "street", "active", "user")
    list_filter = ("team", "is_team_lead", "street", "active")
    search_fields = ("name", "team", "user__username")
    list_select_related = ("street", "user")
    autocomplete_fields = ("user",)


@admin.register(Agency)
class AgencyAdmin(ScopedModelAdmin):
    list_display = ("name", "kind", "contact_name", "contact_phone", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "contact_name")


class UserScopeForm(forms.ModelForm):
    class Meta:
        model = UserScope
        fields = ("user", "street", "building", "agency")

    def clean(self):
        data = super().clean()
        places = [f for f in ("street", "building", "agency") if data.get(f)]
        if len(places) > 1:
            # The database constraint user_scope_one_place says the same, in a less readable way.
            raise forms.ValidationError(
                _(
                    "范围只能是一个镇街、一幢楼宇或一家中介机构 / "
                    "a scope is one street, one building or one agency"
                )
            )
        return data


@admin.register(UserScope)
class UserScopeAdmin(ScopedModelAdmin):
    form = UserScopeForm
    list_display = ("user", "street", "building", "agency")
    list_filter = ("street", "agency")
    search_fields = ("user__username", "building__name", "building__code")
    list_select_related = ("user", "street", "building", "agency")
    autocomplete_fields = ("user", "building")


class UserScopeInline(ScopedInline, admin.StackedInline):
    model = UserScope
    form = UserScopeForm
    fields = ("street", "building", "agency")
    autocomplete_fields = ("building",)
    can_delete = True
    max_num = 1
    verbose_name = _("用户范围")
    verbose_name_plural = pgettext_lazy("plural", "用户范围(镇街、楼宇或中介机构,按角色填一项)")


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, with the user's scope under it: role is the group, scope narrows it."""

    inlines = (*DjangoUserAdmin.inlines, UserScopeInline)

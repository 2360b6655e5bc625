"""What every CRM admin shares: rows scoped by crm.selectors.scope, forms that write through services."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.admin.lookups import LookupPolicy, reaches_masked
from crm.selectors.scope import (
    CHANGE,
    EVERYTHING,
    LINK,
    PERSONAL_FIELDS,
    RULES,
    VIEW,
    can,
    personal_data_hidden,
    request_viewer,
    scoped,
)


def row_allowed(request, obj: Model, action: str) -> bool:
    """crm.selectors.scope.can, remembered for the request: the admin asks the same question often."""
    cache = request.__dict__.setdefault("_crm_can", {})
    key = (type(obj), obj.pk, action)
    if key not in cache:
        cache[key] = can(request.user, obj, action)
    return cache[key]


def hides_personal_data(request) -> bool:
    return personal_data_hidden(request.user)


def attach_errors(form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field, or above the form if not shown."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        if field in form.fields:
            form.add_error(field, messages)
        else:
            prefix = "" if field == NON_FIELD_ERRORS else f"{_label(form, field)}: "
            form.add_error(None, [f"{prefix}{message}" for message in messages])


def _label(form, field: str) -> str:
    try:
        return str(form._meta.model._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:  # a service may name an argument that is not a model field
        return field


def _without(fields, hidden) -> list:
    kept = []
    for field in fields:
        if isinstance(field, list | tuple):
            line = tuple(f for f in field if f not in hidden)
            if line:
                kept.append(line)
        elif field not in hidden:
            kept.append(field)
    return kept


def _link_choices(request, db_field, queryset):
    """The rows a form offers (and accepts) for a foreign key or many-to-many field."""
    if queryset is None:
        queryset = db_field.remote_field.model._default_manager.all()
    try:
        return scoped(request, queryset, LINK)
    except LookupError:  # a model outside the CRM (auth.User): model permissions decide
        return queryset


class ScopedAdmin(LookupPolicy):
    """Rows, choices, lookups and per-object permissions of a ModelAdmin, all from crm.selectors.scope.

    Model permissions come first and alone decide whether a page opens at all (403 otherwise,
    whatever the row); the scope then narrows them to rows (404 for a row out of scope, the same as
    for a missing one). No state ever widens a permission.
    """

    def get_queryset(self, request):
        return scoped(request, super().get_queryset(request), VIEW)

    def get_object(self, request, object_id, from_field=None):
        # Out of scope and missing look the same: a 404, which does not say whether the row exists.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("没有此记录或无权查看 / no such record, or not yours to see"))
        return obj

    def get_field_queryset(self, db, db_field, request):
        # A form's choices are the rows the user may link (a street officer: their street only).
        # The form field validates a posted id against the same rows, so a forged one is refused.
        return _link_choices(request, db_field, super().get_field_queryset(db, db_field, request))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None:
            permitted = self.has_add_permission(request)
        elif request.method == "POST":
            permitted = self.has_change_permission(request)
        else:
            permitted = self.has_view_or_change_permission(request)
        if not permitted:
            raise PermissionDenied
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if not self.has_delete_permission(request):
            raise PermissionDenied
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        # A row out of scope is a 404 like a missing one. A deleted row's history stays readable
        # to those who see every row of the model (the office, the auditor).
        sees_all = RULES[self.model](request_viewer(request), VIEW) is EVERYTHING
        if not sees_all:
            self.get_object(request, unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Defence in depth behind the scoped choices: what was written must still be the user's
        # to change, else the whole save rolls back (the admin's transaction) with a 403.
        obj = form.instance
        if (
            obj.pk is not None
            and not scoped(request, self.model._default_manager.filter(pk=obj.pk), CHANGE).exists()
        ):
            raise PermissionDenied

    def has_view_permission(self, request, obj=None):
        if not super().has_view_permission(request, obj):
            return False
        return obj is None or row_allowed(request, obj, VIEW)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or row_allowed(request, obj, CHANGE)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or row_allowed(request, obj, CHANGE)

    def delete_queryset(self, request, queryset):
        # The bulk delete action works on the visible rows; each of them must also be changeable.
        if scoped(request, queryset, CHANGE).count() != queryset.count():
            raise PermissionDenied
        super().delete_queryset(request, queryset)

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or ())
        if hides_personal_data(request):
            excluded += PERSONAL_FIELDS.get(self.model, ())
        return excluded

    def get_fieldsets(self, request, obj=None):
        return self.without_personal_data(request, super().get_fieldsets(request, obj))

    def without_personal_data(self, request, fieldsets):
        if not hides_personal_data(request):
            return fieldsets
        hidden = PERSONAL_FIELDS.get(self.model, ())
        return [
            (name, {**options, "fields": _without(options["fields"], hidden)}) for name, options in fieldsets
        ]

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        hidden = PERSONAL_FIELDS.get(self.model, ()) if hides_personal_data(request) else ()
        return [c for c in columns if c not in hidden]

    def get_search_fields(self, request):
        # A search on a masked column would answer by its value, as a lookup would: left out,
        # on the model itself or through a relation (lead__contact_phone).
        fields = super().get_search_fields(request)
        return [f for f in fields if not reaches_masked(self.model, f.lstrip("=^@"), request.user)]


class ScopedInline:
    """An inline whose rows are scoped like the model's own admin."""

    def get_queryset(self, request):
        return scoped(request, super().get_queryset(request), VIEW)

    def get_field_queryset(self, db, db_field, request):
        return _link_choices(request, db_field, super().get_field_queryset(db, db_field, request))


class ReadOnly:
    """Rows written only by a service (a log, a record of what happened): nobody adds, edits or deletes
    one by hand; the admin shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnly, ScopedInline):
    """A history or ledger shown under its parent; written elsewhere (by services or its own admin)."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


class ScopedModelAdmin(ScopedAdmin, admin.ModelAdmin):
    list_per_page = 50
    show_full_result_count = False  # one COUNT(*) less per page on the big tables


class ScopedHistoryAdmin(ScopedAdmin, SimpleHistoryAdmin):
    """A scoped admin with its change history (who, when, what) and no revert.

    Reverting would write old values past the services and their checks, so the history is
    view-only; simple-history's own form view would otherwise accept a POST from any viewer.
    """

    list_per_page = 50
    show_full_result_count = False

    def revert_disabled(self, request, obj=None):
        return True

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        hidden = PERSONAL_FIELDS.get(self.model, ()) if hides_personal_data(request) else ()
        if not hidden:
            return super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        # simple-history's own loop, with the personal columns left out of every diff.
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(
                    current, foreign_keys_are_objs=foreign_keys_are_objs, excluded_fields=list(hidden)
                )
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" or not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if not self.has_view_permission(request, self.get_object(request, object_id)):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ServiceForm:
    """A ModelForm mixin whose validation ends by calling the service that writes the row.

    The admin shows a service's ValidationError on the form only while the form is being
    validated, so the service runs there (inside the admin's transaction); the saved row then
    becomes the form's instance and the admin's own save writes nothing more. An admin using it
    must have no editable inline: an inline error found after the service ran would not undo it.
    """

    request = None  # set per request by ServiceFormAdmin.get_form

    def run_service(self):
        raise NotImplementedError

    def _post_clean(self):
        # No model validation here: the service runs full_clean and its own rules, and its
        # messages (field names, numbers, the 撞单 owner) are the ones the office should read.
        if self.errors:
            return
        try:
            self.instance = self.run_service()
        except ValidationError as exc:
            attach_errors(self, exc)

    def save(self, commit=True):
        self.save_m2m = lambda: None
        return self.instance


class ServiceFormAdmin:
    """An admin whose add (and, where a service exists, change) form writes through a service."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request  # modelform_factory made a fresh class for this request
        return form

    def save_model(self, request, obj, form, change):
        pass  # the service saved it during validation

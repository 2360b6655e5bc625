"""The admin's field policy: which query-string lookups a changelist accepts, per model admin and role.

Django's admin applies any `?field__lookup=value` in a changelist's address to its rows. On a
column a role sees masked (a lead's contact phone for the auditor) that is an oracle: a right
prefix answers one row, a wrong one none, so a script recovers the whole value. The admin therefore
accepts only an allow-list: the parameters its own list filters and date hierarchy send, the
primary key, and the lookups an admin names in `extra_lookups` (links it makes itself). Anything
else (`__startswith`, `__regex`, `__in`, a path through a relation, a field the page never shows)
is refused with a 400 before any row is read, for every role, so the answer never depends on the
value asked about. Filters on a column the role sees masked are left out of its allow-list too.
"""

from django.contrib import admin
from django.contrib.admin.widgets import url_params_from_lookup_dict
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

from crm.selectors.scope import PERSONAL_FIELDS, personal_data_hidden

# The parameters Django's field list filters send for a filtered path: exact value and
# empty/not-empty (choices, booleans, all-values, related), a date range (dates), blank or not.
FILTER_OPERATORS = ("exact", "isnull", "gte", "lt", "isempty")
# The date hierarchy's drill-down.
DATE_PARTS = ("year", "month", "day")


def _filter_path(filter_item) -> tuple[str | None, str | None]:
    """(field path, own parameter name) of one list_filter entry."""
    if isinstance(filter_item, type) and issubclass(filter_item, admin.SimpleListFilter):
        return None, filter_item.parameter_name
    if isinstance(filter_item, list | tuple):
        return filter_item[0], None
    return filter_item, None


def _target_pk_names(model, path: str) -> tuple[str, ...]:
    """The name of the related row's key when `path` ends on a relation (RelatedFieldListFilter
    filters `street__id__exact`), else nothing."""
    field = None
    for part in path.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return ()
        if not field.is_relation:
            return ()
        model = field.related_model
    return (field.target_field.name,) if field is not None and hasattr(field, "target_field") else ()


def masked_columns(user) -> frozenset:
    """(model, field name) of every column this user sees masked."""
    if not personal_data_hidden(user):
        return frozenset()
    return frozenset((model, name) for model, names in PERSONAL_FIELDS.items() for name in names)


def reaches_masked(model, path: str, user) -> bool:
    """Whether a lookup or search path reaches a column `user` sees masked (`lead__contact_phone`)."""
    return _masked(model, path, masked_columns(user))


def _masked(model, path: str, hidden: frozenset) -> bool:
    """Whether a lookup path reaches a column the role sees masked, on the model or through a relation."""
    for part in path.split(LOOKUP_SEP):
        if (model, part) in hidden:
            return True
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if not field.is_relation:
            return False
        model = field.related_model
    return False


def allowed_lookups(model_admin, request) -> frozenset[str]:
    """Every query-string parameter `model_admin`'s changelist accepts from this request's user."""
    model = model_admin.model
    hidden = masked_columns(request.user)
    pk = model._meta.pk.name
    allowed = {"pk", "pk__exact", pk, f"{pk}__exact"}
    allowed.update(getattr(model_admin, "extra_lookups", ()))
    for filter_item in model_admin.get_list_filter(request):
        path, parameter = _filter_path(filter_item)
        if parameter:
            allowed.add(parameter)
            continue
        if _masked(model, path, hidden):
            continue
        allowed.add(path)  # the all-values filter's own parameter (`team=一组`)
        allowed.update(f"{path}__{operator}" for operator in FILTER_OPERATORS)
        allowed.update(f"{path}__{name}__exact" for name in _target_pk_names(model, path))
    if model_admin.date_hierarchy and not _masked(model, model_admin.date_hierarchy, hidden):
        allowed.update(f"{model_admin.date_hierarchy}__{part}" for part in DATE_PARTS)
    return frozenset(lookup for lookup in allowed if not _masked(model, lookup, hidden))


def raw_id_popup_lookup(model, lookup: str, value: str) -> bool:
    """The exact `limit_choices_to` parameters a raw-id popup sends (Industry `level=division`)."""
    for fk_lookup in model._meta.related_fkey_lookups:
        if callable(fk_lookup):
            fk_lookup = fk_lookup()
        if (lookup, value) in url_params_from_lookup_dict(fk_lookup).items():
            return True
    return False


class LookupPolicy:
    """A ModelAdmin mixin: the changelist accepts only `allowed_lookups` (refused: a 400)."""

    extra_lookups: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None):
        if request is None:  # Django always passes the request since 5.0
            return False
        if raw_id_popup_lookup(self.model, lookup, value):
            return True
        cache = request.__dict__.setdefault("_crm_allowed_lookups", {})
        if self.model not in cache:
            cache[self.model] = allowed_lookups(self, request)
        return lookup in cache[self.model]

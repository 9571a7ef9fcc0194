"""The Django admin, scoped to the municipalities of the user's roles.

Superusers are the platform operator and see everything. Everyone else works in the admin
through a role in a municipality (a municipal administrator, usually): what the role's group
allows (core.access) in that municipality, and nothing of another municipality, whatever
permissions the user holds directly. Every admin class of the project derives from
`MunicipalAdmin` (or `SuperuserOnlyAdmin` for what belongs to the operator alone), which
scopes, in one place:

- the change list, search, actions and the autocomplete (`get_queryset`);
- every object URL: change, history, delete and the project's own object views (`get_object`
  answers 404 for another municipality's object, as the front end does);
- every choice list: foreign keys and many-to-many fields (`formfield_for_*`) and the
  related-object filters of the change list (`get_list_filter`);
- the permissions, from the role in the object's municipality (`has_*_permission`).

Every change saved through the admin is written to the audit trail with its old and new
values (core.audit.admin_change_record); fields only the workflow may change are read-only in
the admin classes that show them.

tests/core/test_admin_scoping.py checks that every registered admin class derives from one of
the two classes here.
"""

import datetime

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.core.files import File
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone

from core import access
from core.audit import admin_change_record, admin_deletion_record, in_record_language
from core.models import Municipality

# What the admin may change on a record, by action; "view" also covers "change" as in Django.
ACTIONS = ("view", "add", "change", "delete")


def _perm(opts, action: str) -> str:
    return f"{opts.app_label}.{action}_{opts.model_name}"


def municipality_path_of(model) -> str | None:
    """The ORM path from `model` to its municipality's id, as the registered admin class (or a
    `municipality` field) says; None when the model belongs to no municipality."""
    if model is Municipality:
        return "id"
    model_admin = admin.site._registry.get(model)
    path = getattr(model_admin, "municipality_path", None)
    if path:
        return path
    try:
        model._meta.get_field("municipality")
    except FieldDoesNotExist:
        return None
    return "municipality"


def crosses_to_many(model, path: str) -> bool:
    """Whether `path` from `model` goes through a to-many relation (a user's memberships): a
    row has several municipalities along it, and a filter along it repeats rows."""
    try:
        fields = get_fields_from_path(model, path)
    except (FieldDoesNotExist, models.FieldError, AttributeError):
        return False
    return any(field.many_to_many or field.one_to_many for field in fields)


def scope_to_municipalities(queryset, ids: list[int] | None, path: str | None = None):
    """`queryset` narrowed to the municipalities `ids` (None: no narrowing), along `path`
    (by default the path of the model's registered admin class)."""
    if ids is None:
        return queryset
    path = path or municipality_path_of(queryset.model)
    if path is None:
        return queryset.none()
    narrowed = queryset.filter(**{f"{path}__in": ids})
    return narrowed.distinct() if crosses_to_many(queryset.model, path) else narrowed


def municipality_id_of(obj, path: str) -> int | None:
    """The municipality id of `obj` along `path` ("application__municipality" reads
    obj.application.municipality_id)."""
    if path == "id":
        return obj.pk
    *relations, last = path.split("__")
    target = obj
    for relation in relations:
        target = getattr(target, relation, None)
        if target is None:
            return None
    return getattr(target, f"{last}_id", None)


class _RoleScopedPermissions:
    """has_*_permission from the user's role in the object's municipality."""

    municipality_path = "municipality"

    def _municipality_ids_for(self, request, action: str) -> list[int] | None:
        return access.municipality_ids(request.user, _perm(self.opts, action))

    def _readable_municipality_ids(self, request) -> list[int] | None:
        view = self._municipality_ids_for(request, "view")
        change = self._municipality_ids_for(request, "change")
        if view is None or change is None:
            return None
        return sorted(set(view) | set(change))

    def object_municipality_id(self, obj) -> int | None:
        return municipality_id_of(obj, self.municipality_path)

    def _role_allows(self, request, action: str, obj=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if access.is_superuser(user):
            return True
        perm = _perm(self.opts, action)
        if obj is None:
            return access.can_somewhere(user, perm)
        return self._role_allows_on(request, action, perm, obj)

    def _role_allows_on(self, request, action: str, perm: str, obj) -> bool:
        """Whether the role in `obj`'s municipality has `perm` (an inline: the parent's)."""
        municipality_id = self.object_municipality_id(obj)
        return municipality_id is not None and access.can(request.user, municipality_id, perm)

    def has_view_permission(self, request, obj=None):
        return self._role_allows(request, "view", obj) or self._role_allows(request, "change", obj)

    def has_add_permission(self, request, *args, **kwargs):
        return self._role_allows(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._role_allows(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._role_allows(request, "delete", obj)

    def _scope_choices(self, request, formfield, action: str):
        """Narrow a related field's choices to the municipalities where the user may
        `action` this model; a model of no municipality offers nothing to a non-superuser."""
        if formfield is None or access.is_superuser(request.user):
            return formfield
        queryset = getattr(formfield, "queryset", None)
        if queryset is None:
            return formfield
        ids = self._municipality_ids_for(request, action)
        if queryset.model is get_user_model():
            # People of the user's municipalities, never the platform operator.
            queryset = queryset.filter(is_superuser=False)
        formfield.queryset = scope_to_municipalities(queryset, ids)
        return formfield

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return self._scope_choices(request, formfield, "change")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        return self._scope_choices(request, formfield, "change")

    def _scoped_form(self, request, form_class):
        """`form_class` whose every choice list is scoped once the form is built, including
        querysets a form sets in its own __init__."""
        if access.is_superuser(request.user):
            return form_class
        admin_class = self

        class ScopedForm(form_class):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for field in self.fields.values():
                    admin_class._scope_choices(request, field, "change")

        ScopedForm.__name__ = form_class.__name__
        return ScopedForm


class MunicipalAdmin(_RoleScopedPermissions, admin.ModelAdmin):
    """A model admin scoped to the user's municipalities (see the module's docstring).

    `municipality_path` is the ORM path from the model to its municipality.
    """

    def has_module_permission(self, request):
        return any(self._role_allows(request, action) for action in ACTIONS)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if access.is_superuser(request.user):
            return queryset
        return scope_to_municipalities(queryset, self._readable_municipality_ids(request))

    # A record's municipality is fixed once it exists (a permit type moved to another town
    # would take its issued permits' numbering and records along); an admin class whose
    # records may move sets this to False.
    municipality_fixed_after_creation = True

    def _municipality_fixed(self, obj) -> bool:
        if obj is None or not self.municipality_fixed_after_creation:
            return False
        try:
            self.model._meta.get_field("municipality")
        except FieldDoesNotExist:
            return False
        return True

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if self._municipality_fixed(obj) and "municipality" not in fields:
            fields.append("municipality")
        return fields

    def get_form(self, request, obj=None, **kwargs):
        form_class = self._scoped_form(request, super().get_form(request, obj, **kwargs))
        if self._municipality_fixed(obj):
            form_class = _with_fixed_municipality(form_class)
        return form_class

    def get_object(self, request, object_id, from_field=None):
        """The object if it is within the user's municipalities; 404 otherwise, as on the
        front end (Django's admin would redirect to its index saying it does not exist)."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such record.")
        return obj

    def get_list_filter(self, request):
        """A related-object filter lists only what the user's rows refer to (e.g. the user's
        own municipalities), not every row of the related table."""
        filters = super().get_list_filter(request)
        if access.is_superuser(request.user):
            return filters
        return [self._related_only(entry) for entry in filters]

    def _related_only(self, entry):
        if not isinstance(entry, str):
            return entry
        try:
            field = get_fields_from_path(self.model, entry)[-1]
        except (FieldDoesNotExist, models.FieldError, AttributeError):
            return entry
        if field.is_relation:
            return (entry, admin.RelatedOnlyFieldListFilter)
        return entry

    # Every change is audited.

    def audit_municipality_id(self, request, obj) -> int | None:
        """Whose audit trail records a change of `obj`: its municipality's."""
        return self.object_municipality_id(obj)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = _initial_values(form, _audited_names(form, change)) if change else {}
            self.save_object(request, obj, form, change)
            self.audit_saved(request, obj, form, change, before)

    def save_object(self, request, obj, form, change):
        """Save `obj` (save_model audits around it): an admin class whose saves go through a
        service overrides this, not save_model, so its changes are audited too."""
        super().save_model(request, obj, form, change)

    def audit_saved(self, request, obj, form, change, before: dict) -> None:
        admin_change_record(
            actor=request.user,
            obj=obj,
            municipality_id=self.audit_municipality_id(request, obj),
            created=not change,
            before=before,
            after=_cleaned_values(form, _audited_names(form, change)),
        )

    def delete_model(self, request, obj):
        with transaction.atomic():
            admin_deletion_record(
                actor=request.user,
                obj=obj,
                municipality_id=self.audit_municipality_id(request, obj),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The change list's "delete selected": only what the role may delete, each audited.
        allowed = scope_to_municipalities(queryset, self._municipality_ids_for(request, "delete"))
        with transaction.atomic():
            for obj in allowed:
                admin_deletion_record(
                    actor=request.user,
                    obj=obj,
                    municipality_id=self.audit_municipality_id(request, obj),
                )
            super().delete_queryset(request, allowed)

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            befores = {
                inline_form.instance.pk: _initial_values(
                    inline_form, _audited_names(inline_form, change=True)
                )
                for inline_form in formset.initial_forms
            }
            deleted = [
                (inline_form.instance, inline_form.instance.pk)
                for inline_form in formset.initial_forms
                if formset.can_delete and formset._should_delete_form(inline_form)
            ]
            municipality_id = self.audit_municipality_id(request, form.instance)
            for obj, _pk in deleted:
                admin_deletion_record(actor=request.user, obj=obj, municipality_id=municipality_id)
            super().save_formset(request, form, formset, change)
            deleted_pks = {pk for _obj, pk in deleted}
            for inline_form in formset.forms:
                instance = inline_form.instance
                if instance.pk is None or instance.pk in deleted_pks:
                    continue
                if not inline_form.has_changed():
                    continue
                created = instance.pk not in befores
                admin_change_record(
                    actor=request.user,
                    obj=instance,
                    municipality_id=municipality_id,
                    created=created,
                    before={} if created else befores[instance.pk],
                    after=_cleaned_values(inline_form, _audited_names(inline_form, not created)),
                )


def _with_fixed_municipality(form_class):
    """`form_class` whose clean() still sees the record's municipality when the field is
    read-only (the checks that a chosen type belongs to the same municipality)."""

    class FixedMunicipalityForm(form_class):
        def clean(self):
            if "municipality" not in self.fields and self.instance.municipality_id is not None:
                self.cleaned_data.setdefault("municipality", self.instance.municipality)
            return super().clean()

    FixedMunicipalityForm.__name__ = form_class.__name__
    return FixedMunicipalityForm


class MunicipalInline(_RoleScopedPermissions):
    """An inline of a MunicipalAdmin: its rows and choices scoped like the parent's; its
    permissions from the role in the parent object's municipality.

    `municipality_path` is the ORM path from the inline's model to its municipality, for a
    model without a registered admin class or a `municipality` field (a permit type's
    checklist conditions: "permit_type__municipality").
    """

    municipality_path = None

    def _rows_path(self) -> str | None:
        return self.municipality_path or municipality_path_of(self.model)

    def _role_allows_on(self, request, action: str, perm: str, obj) -> bool:
        # Django passes the parent object to an inline's permission checks.
        parent_path = municipality_path_of(type(obj)) or "municipality"
        if crosses_to_many(type(obj), parent_path):
            # A parent of several municipalities (a person and their memberships): the
            # parent's admin decides whether the user may change it at all (a person needs
            # every one of their municipalities to be the user's); the rows shown and the
            # choices offered stay scoped (get_queryset, formfield_for_*).
            parent_admin = self.admin_site._registry.get(type(obj))
            if parent_admin is None or not access.can_somewhere(request.user, perm):
                return False
            if action == "view":
                return parent_admin.has_view_permission(request, obj)
            return parent_admin.has_change_permission(request, obj)
        municipality_id = municipality_id_of(obj, parent_path)
        return municipality_id is not None and access.can(request.user, municipality_id, perm)

    def has_add_permission(self, request, obj=None):
        return self._role_allows(request, "add", obj)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = self._scoped_form(request, formset.form)
        return formset

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if access.is_superuser(request.user):
            return queryset
        return scope_to_municipalities(
            queryset, self._readable_municipality_ids(request), self._rows_path()
        )


class MunicipalTabularInline(MunicipalInline, admin.TabularInline):
    pass


class MunicipalStackedInline(MunicipalInline, admin.StackedInline):
    pass


class ReadOnlyAdmin(MunicipalAdmin):
    """Records only the workflow writes (visits and what was recorded on them, issued
    permits, numbering): the admin shows them, scoped, and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """What belongs to the platform operator alone (groups and their permissions, the login
    lockout records): invisible to everyone else, whatever permissions they hold."""

    def _superuser(self, request) -> bool:
        return access.is_superuser(request.user) and request.user.is_staff

    def has_module_permission(self, request):
        return self._superuser(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args, **kwargs):
        return self._superuser(request) and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return self._superuser(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._superuser(request) and super().has_delete_permission(request, obj)


def _plain(value):
    """A form value as the audit trail stores it (JSON): text for objects and files, ISO 8601
    for dates and times (local time, as the form shows them)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, File):
        return value.name or ""
    # Stored text, in English whatever the administrator's language (a membership's role).
    with in_record_language():
        if isinstance(value, models.Model):
            return str(value)
        if isinstance(value, list | tuple | set | models.QuerySet):
            return sorted(str(item) for item in value)
        return str(value)


def _audited_names(form, change: bool) -> list[str]:
    """The fields an audit entry records: those the user changed, or all of a new record."""
    return list(form.changed_data) if change else list(form.fields)


def _initial_values(form, names) -> dict:
    """The saved values of the fields `names`, before the change (stored text, in English
    whatever the administrator's language)."""
    with in_record_language():
        return _initial_values_now(form, names)


def _initial_values_now(form, names) -> dict:
    values = {}
    for name in names:
        field = form.fields[name]
        value = form.initial.get(name, field.initial)
        if hasattr(field, "queryset") and value not in (None, "", []):
            if isinstance(value, list | tuple):
                value = [
                    str(item)
                    for item in field.queryset.model._default_manager.filter(
                        pk__in=[getattr(v, "pk", v) for v in value]
                    )
                ]
            else:
                pk = getattr(value, "pk", value)
                value = str(field.queryset.model._default_manager.filter(pk=pk).first() or pk)
        values[name] = _plain(value)
    return values


def _cleaned_values(form, names) -> dict:
    cleaned = getattr(form, "cleaned_data", {})
    return {name: _plain(cleaned.get(name)) for name in names if name in cleaned}


def view_on_site(request, content_type_id, object_id):
    """The admin's "View on site" (/admin/r/…), scoped like every object URL of the admin:
    Django's own shortcut would redirect to any row's page, naming another municipality's
    application numbers and inspection codes to whoever tries the ids."""
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.contenttypes.views import shortcut

    content_type = ContentType.objects.filter(pk=content_type_id).first()
    model = content_type.model_class() if content_type is not None else None
    model_admin = admin.site._registry.get(model)
    if model_admin is None:
        raise Http404("No such record.")
    obj = model_admin.get_object(request, str(object_id))  # 404 when not the user's
    if not model_admin.has_view_permission(request, obj):
        raise Http404("No such record.")
    return shortcut(request, content_type_id, object_id)

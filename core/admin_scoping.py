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

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.core.files import File
from django.db import models, transaction
from django.http import Http404

from core import access
from core.audit import admin_change_record, admin_deletion_record
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


def scope_to_municipalities(queryset, ids: list[int] | None):
    """`queryset` narrowed to the municipalities `ids` (None: no narrowing)."""
    if ids is None:
        return queryset
    path = municipality_path_of(queryset.model)
    if path is None:
        return queryset.none()
    narrowed = queryset.filter(**{f"{path}__in": ids})
    # A path through a to-many relation (a user's memberships) repeats rows.
    return (
        narrowed.distinct() if "__" in path and path.split("__")[0] == "memberships" else narrowed
    )


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
        municipality_id = self.object_municipality_id(obj)
        return municipality_id is not None and access.can(user, municipality_id, perm)

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

    def get_form(self, request, obj=None, **kwargs):
        return self._scoped_form(request, super().get_form(request, obj, **kwargs))

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
            before = _initial_values(form) if change else {}
            super().save_model(request, obj, form, change)
            self.audit_saved(request, obj, form, change, before)

    def audit_saved(self, request, obj, form, change, before: dict) -> None:
        admin_change_record(
            actor=request.user,
            obj=obj,
            municipality_id=self.audit_municipality_id(request, obj),
            created=not change,
            before=before,
            after=_cleaned_values(form),
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
                inline_form.instance.pk: _initial_values(inline_form)
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
                    after=_cleaned_values(inline_form),
                )


class MunicipalInline(_RoleScopedPermissions):
    """An inline of a MunicipalAdmin: its rows and choices scoped like the parent's; its
    permissions from the role in the parent object's municipality."""

    def _role_allows(self, request, action: str, obj=None) -> bool:
        # Django passes the parent object to an inline's permission checks.
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if access.is_superuser(user):
            return True
        perm = _perm(self.opts, action)
        if obj is None:
            return access.can_somewhere(user, perm)
        municipality_id = municipality_id_of(obj, municipality_path_of(type(obj)) or "municipality")
        return municipality_id is not None and access.can(user, municipality_id, perm)

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
        return scope_to_municipalities(queryset, self._readable_municipality_ids(request))


class MunicipalTabularInline(MunicipalInline, admin.TabularInline):
    pass


class MunicipalStackedInline(MunicipalInline, admin.StackedInline):
    pass


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
    """A form value as the audit trail stores it (JSON): text for objects, files and dates."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, File):
        return value.name or ""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set | models.QuerySet):
        return sorted(str(item) for item in value)
    return str(value)


def _initial_values(form) -> dict:
    """The saved values of the fields the form shows, before the change."""
    values = {}
    for name, field in form.fields.items():
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


def _cleaned_values(form) -> dict:
    return {
        name: _plain(form.cleaned_data.get(name))
        for name in form.fields
        if name in getattr(form, "cleaned_data", {})
    }


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
    obj = model_admin.get_object(request, str(object_id))
    if obj is None or not model_admin.has_view_permission(request, obj):
        raise Http404("No such record.")
    return shortcut(request, content_type_id, object_id)

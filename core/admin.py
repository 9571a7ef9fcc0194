from django.contrib import admin

from core import (
    access,
    admin_users,  # noqa: F401 - registers the User admin
)
from core.admin_forms import MunicipalityForm
from core.admin_scoping import MunicipalAdmin, MunicipalTabularInline, SuperuserOnlyAdmin
from core.models import Activity, Membership, Municipality, RoleGroup
from core.services import user_sync_staff_status


class MembershipInline(MunicipalTabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Municipality)
class MunicipalityAdmin(MunicipalAdmin):
    municipality_path = "id"
    form = MunicipalityForm
    list_display = ["name", "slug", "city", "chief_building_official"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not access.is_superuser(request.user):
            # The operator's policy: an administrator cannot lift the second factor required
            # of themselves.
            fields.append("require_two_factor_for_officials")
        return fields

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            for inline_form in formset.forms:
                if inline_form.instance.user_id:
                    user_sync_staff_status(user=inline_form.instance.user)


@admin.register(Membership)
class MembershipAdmin(MunicipalAdmin):
    list_display = ["user", "municipality", "role"]
    list_filter = ["municipality", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        user_sync_staff_status(user=obj.user)

    def delete_model(self, request, obj):
        user = obj.user
        super().delete_model(request, obj)
        user_sync_staff_status(user=user)


@admin.register(Activity)
class ActivityAdmin(MunicipalAdmin):
    list_display = ["at", "municipality", "application", "actor", "verb", "summary"]
    list_filter = ["municipality", "verb"]
    search_fields = ["application__number", "summary"]
    list_select_related = ["municipality", "application", "actor"]
    readonly_fields = ["at", "municipality", "application", "actor", "verb", "summary", "changes"]

    # The audit trail is written by the services only.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RoleGroup)
class RoleGroupAdmin(SuperuserOnlyAdmin):
    """Which group holds each role's permissions (the platform operator's choice)."""

    list_display = ["role", "group"]

    def has_delete_permission(self, request, obj=None):
        return False


# Apps of the project: each of their admin classes derives from MunicipalAdmin or
# SuperuserOnlyAdmin (tests/core/test_admin_scoping.py).
PROJECT_APPS = {"core", "permits", "inspections", "occupancy", "exchange", "demo"}


def restrict_other_apps_to_superusers(site=admin.site) -> None:
    """The admin pages of Django's and third-party apps (the groups that hold each role's
    permissions for every municipality, the login lockout records with every municipality's
    users and addresses, second-factor devices) are the platform operator's alone.

    Called from CoreConfig.ready(), after the admin registered every app's classes.
    """
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label in PROJECT_APPS or isinstance(
            model_admin, MunicipalAdmin | SuperuserOnlyAdmin
        ):
            continue
        site.unregister(model)
        admin_class = type(model_admin)
        site.register(
            model,
            type(f"SuperuserOnly{admin_class.__name__}", (SuperuserOnlyAdmin, admin_class), {}),
        )

from django.contrib import admin

from permits import admin_users  # noqa: F401 - registers the User admin
from permits.admin_forms import MunicipalityForm
from permits.models import Activity, Application, Membership, Municipality


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    form = MunicipalityForm
    list_display = ["name", "slug", "city", "chief_building_official"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_urls(self):
        from permits.importing.admin_views import municipality_export_urls

        return [*municipality_export_urls(self), *super().get_urls()]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "municipality", "role"]
    list_filter = ["municipality", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["number", "street_address", "city", "applicant_name", "status", "municipality"]
    list_filter = ["municipality", "status", "work_type"]
    search_fields = ["number", "street_address", "roll_number", "applicant_name", "owner_name"]
    readonly_fields = ["last_activity_at", "created_at", "updated_at"]
    date_hierarchy = "applied_on"
    change_list_template = "admin/permits/application/change_list.html"

    def get_urls(self):
        from permits.importing.admin_views import application_import_urls

        return [*application_import_urls(self), *super().get_urls()]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["at", "application", "actor", "verb", "summary"]
    list_filter = ["verb"]
    search_fields = ["application__number", "summary"]
    list_select_related = ["application", "actor"]

    # The audit trail is written by the services only.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

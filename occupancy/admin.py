from django.contrib import admin

from occupancy.models import (
    OccupancyPermit,
    OccupancyPermitTemplate,
    OccupancyPermitTemplateVersion,
    OccupancyPermitType,
    PermitNumberSequence,
)


@admin.register(OccupancyPermitType)
class OccupancyPermitTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "municipality", "kind", "number_format", "sequence_key", "is_active"]
    list_filter = ["municipality", "kind", "is_active"]


@admin.register(OccupancyPermitTemplate)
class OccupancyPermitTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "municipality", "permit_type", "version", "is_active"]
    list_filter = ["municipality", "is_active"]
    readonly_fields = ["version", "updated_at"]

    def has_delete_permission(self, request, obj=None):
        # Templates are deactivated, never deleted, once a permit was rendered with them.
        if obj is not None and obj.versions.filter(permits__isnull=False).exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(OccupancyPermitTemplateVersion)
class OccupancyPermitTemplateVersionAdmin(admin.ModelAdmin):
    list_display = ["template", "version", "created_by", "created_at"]
    readonly_fields = ["template", "version", "body", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PermitNumberSequence)
class PermitNumberSequenceAdmin(admin.ModelAdmin):
    list_display = ["municipality", "key", "year", "last_value"]

    # Numbers are taken only by issuing a permit; editing a counter would open a gap.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OccupancyPermit)
class OccupancyPermitAdmin(admin.ModelAdmin):
    list_display = ["number", "municipality", "application", "permit_type", "granted_on", "status"]
    list_filter = ["municipality", "status", "permit_type__kind"]
    search_fields = ["number", "application__number"]
    list_select_related = ["municipality", "application", "permit_type"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

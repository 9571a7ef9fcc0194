from django.contrib import admin

from permits.models import Application


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["number", "street_address", "city", "applicant_name", "status", "municipality"]
    list_filter = ["municipality", "status", "work_type"]
    search_fields = ["number", "street_address", "roll_number", "applicant_name", "owner_name"]
    readonly_fields = ["last_activity_at", "created_at", "updated_at"]
    date_hierarchy = "applied_on"

from django.contrib import admin

from core.admin_scoping import MunicipalAdmin
from permits.models import Application


@admin.register(Application)
class ApplicationAdmin(MunicipalAdmin):
    list_display = ["number", "street_address", "city", "applicant_name", "status", "municipality"]
    list_filter = ["municipality", "status", "work_type"]
    search_fields = ["number", "street_address", "roll_number", "applicant_name", "owner_name"]
    readonly_fields = ["last_activity_at", "created_at", "updated_at"]
    date_hierarchy = "applied_on"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # Its municipality and number identify it (URLs, issued permits); its status
            # moves with the workflow (permits.services.application_set_status).
            fields += ["municipality", "number", "status"]
        return fields

"""The admin pages of the exchange app: Import from CSV on the applications list and the BLDS
download on a municipality. The exchange app sits above core and permits, so it extends their
admin classes here instead of them reaching up for its views."""

from django.contrib import admin

from core.admin import MunicipalityAdmin
from core.models import Municipality
from exchange.importing.admin_views import application_import_urls, municipality_export_urls
from permits.admin import ApplicationAdmin
from permits.models import Application


class ApplicationWithImportAdmin(ApplicationAdmin):
    change_list_template = "admin/exchange/application_change_list.html"

    def get_urls(self):
        return [*application_import_urls(self), *super().get_urls()]


class MunicipalityWithExportAdmin(MunicipalityAdmin):
    change_form_template = "admin/exchange/municipality_change_form.html"

    def get_urls(self):
        return [*municipality_export_urls(self), *super().get_urls()]


admin.site.unregister(Application)
admin.site.register(Application, ApplicationWithImportAdmin)
admin.site.unregister(Municipality)
admin.site.register(Municipality, MunicipalityWithExportAdmin)

"""The admin pages of the exchange app: Import from CSV on the applications list, the import
runs it queues, and the BLDS download on a municipality. The exchange app sits above core and
permits, so it extends their admin classes here instead of them reaching up for its views."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext, pgettext_lazy

from core import access
from core.admin import MunicipalityAdmin
from core.admin_scoping import ReadOnlyAdmin
from core.models import Municipality
from exchange.importing.admin_views import (
    RUN_VIEW_PERM,
    application_import_urls,
    import_run_page,
    import_run_urls,
    municipality_export_urls,
)
from exchange.models import ImportRun
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


class ImportRunChangeList(ChangeList):
    # The list shows counts, never what a run kept to show on its page: its JSON (up to
    # 200 rejected rows, 200 warnings and a preview each) is left unread.
    def get_queryset(self, request, exclude_parameters=None):
        return (
            super()
            .get_queryset(request, exclude_parameters)
            .defer("rejections", "warnings", "notes", "preview")
        )


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    """The import runs, read-only: written by the upload and the job. Seen by whoever may read
    the municipality's applications (a run has no permissions of its own: the import's are
    the applications'); queued again or imported by whoever may import (admin_views)."""

    municipality_path = "municipality"
    list_display = (
        "queued_at",
        "municipality",
        "original_name",
        "mapping",
        "dry_run",
        "status_shown",
        "rows_read",
        "applications_created",
        "applications_updated",
        "rows_rejected",
        "uploaded_by",
    )
    list_filter = ("status", "dry_run", "municipality")
    list_select_related = ("municipality", "uploaded_by")
    search_fields = ("original_name", "sha256")

    def get_changelist(self, request, **kwargs):
        return ImportRunChangeList

    def get_queryset(self, request):
        # Whether each run is stale, in the same query (the list's column, the run's page).
        return super().get_queryset(request).with_stale()

    @admin.display(description=pgettext_lazy("import run", "status"), ordering="status")
    def status_shown(self, run: ImportRun) -> str:
        if run.is_stale:
            return gettext("%(status)s: stopped, queue it again from its page") % {
                "status": run.get_status_display()
            }
        return run.get_status_display()

    def _municipality_ids_for(self, request, action: str) -> list[int] | None:
        return access.municipality_ids(request.user, RUN_VIEW_PERM)

    def _role_allows(self, request, action: str, obj=None) -> bool:
        user = request.user
        if action != "view" or not (user.is_active and user.is_staff):
            return False
        if obj is None:
            return access.can_somewhere(user, RUN_VIEW_PERM)
        return access.can(user, obj.municipality_id, RUN_VIEW_PERM)

    def get_urls(self):
        return [*import_run_urls(self), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The run's page: what the job did (the run is never changed here)."""
        run = self.get_object(request, unquote(object_id))  # 404 outside the user's
        if request.method != "GET" or not self.has_view_permission(request, run):
            raise PermissionDenied
        return import_run_page(request, run=run, model_admin=self)


admin.site.unregister(Application)
admin.site.register(Application, ApplicationWithImportAdmin)
admin.site.unregister(Municipality)
admin.site.register(Municipality, MunicipalityWithExportAdmin)

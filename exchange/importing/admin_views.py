"""Admin pages for moving records in and out: the CSV import of applications (upload, then
the import run's page) and the BLDS open-data download of a municipality.

The upload stores the file (private, under imports/ in the default storage) and queues an
import run; a job imports it (exchange.importing.runs), never the request: a 25 MB file runs
for minutes (208 s for 20 MB, docs/performance.md). The run's page says how far it is and,
once done, what the import did.
"""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from core import access
from exchange.exporting import blds_zip
from exchange.importing.forms import ImportUploadForm
from exchange.importing.runs import (
    RunAlreadyImported,
    RunNotCheckedFile,
    RunNotStale,
    import_run_import_checked,
    import_run_queue,
    import_run_requeue,
)
from exchange.models import RUN_STALE_AFTER, ImportRun

IMPORT_PERM = "permits.add_application"
# Who may read a run: whoever may read the municipality's applications (its rejected rows
# name them), so a municipal administrator sees the runs of their municipality.
RUN_VIEW_PERM = "permits.view_application"


def application_import_urls(model_admin) -> list:
    """The import page, for ApplicationAdmin.get_urls()."""

    def view(request, *args, **kwargs):
        return application_import(request, model_admin=model_admin)

    return [
        path(
            "import/",
            model_admin.admin_site.admin_view(view),
            name="permits_application_import",
        )
    ]


def import_run_urls(model_admin) -> list:
    """Queue again a run whose worker was lost; import a checked file: for
    ImportRunAdmin.get_urls()."""

    def requeue(request, object_id, *args, **kwargs):
        return import_run_requeue_view(request, object_id=object_id, model_admin=model_admin)

    def import_checked(request, object_id, *args, **kwargs):
        return import_run_import_view(request, object_id=object_id, model_admin=model_admin)

    return [
        path(
            "<path:object_id>/requeue/",
            model_admin.admin_site.admin_view(requeue),
            name="exchange_importrun_requeue",
        ),
        path(
            "<path:object_id>/import/",
            model_admin.admin_site.admin_view(import_checked),
            name="exchange_importrun_import",
        ),
    ]


def municipality_export_urls(model_admin) -> list:
    """The BLDS download of one municipality, for MunicipalityAdmin.get_urls()."""

    def view(request, object_id, *args, **kwargs):
        return municipality_export_blds(request, object_id=object_id, model_admin=model_admin)

    return [
        path(
            "<path:object_id>/export-blds/",
            model_admin.admin_site.admin_view(view),
            name="core_municipality_export_blds",
        )
    ]


def run_url(run: ImportRun) -> str:
    return reverse("admin:exchange_importrun_change", args=[run.pk])


@require_http_methods(["GET", "POST"])
def application_import(request: HttpRequest, *, model_admin) -> HttpResponse:
    if not (model_admin.has_add_permission(request) and model_admin.has_change_permission(request)):
        raise PermissionDenied
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    # Into a municipality where the user's role may add applications.
    form.fields["municipality"].queryset = access.scope(
        form.fields["municipality"].queryset, request.user, field="id", perm=IMPORT_PERM
    )
    if request.method == "POST" and form.is_valid():
        run = import_run_queue(
            municipality=form.cleaned_data["municipality"],
            upload=form.cleaned_data["file"],
            mapping=form.cleaned_data["mapping"],
            dry_run=form.cleaned_data["dry_run"],
            actor=request.user,
        )
        return HttpResponseRedirect(run_url(run))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": gettext("Import applications from CSV"),
        "form": form,
        "runs_url": reverse("admin:exchange_importrun_changelist"),
    }
    return TemplateResponse(request, "admin/exchange/application_import.html", context)


def import_run_page(request: HttpRequest, *, run: ImportRun, model_admin) -> HttpResponse:
    """The run's page (the admin's change view of ImportRun): its status, and once done the
    import's summary, notes, preview, warnings and rejected rows."""
    may_import = access.can(request.user, run.municipality_id, IMPORT_PERM)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": gettext("Import of %(name)s") % {"name": run.original_name},
        "run": run,
        "rejections": run.shown_rejections(),
        "warnings": run.shown_warnings(),
        "preview": run.preview_rows(),
        "may_requeue": may_import and run.is_stale,
        "may_import": may_import and run.may_be_imported,
        "stale_minutes": int(RUN_STALE_AFTER.total_seconds() // 60),
        "import_url": reverse("admin:permits_application_import"),
    }
    return TemplateResponse(request, "admin/exchange/importrun_detail.html", context)


def _run_for_import(request: HttpRequest, object_id: str, model_admin) -> ImportRun:
    """The run, if the user may see it (404 otherwise, whatever the method: another
    municipality's run is not told apart from none) and import into its municipality (403)."""
    run = model_admin.get_object(request, unquote(object_id))  # 404 outside the user's
    if not access.can(request.user, run.municipality_id, IMPORT_PERM):
        raise PermissionDenied
    return run


def import_run_requeue_view(request: HttpRequest, *, object_id: str, model_admin) -> HttpResponse:
    run = _run_for_import(request, object_id, model_admin)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        import_run_requeue(run=run, actor=request.user)
    except RunNotStale:
        messages.error(
            request,
            gettext(
                "This import is not stopped (it finished, or is still running): left as it is."
            ),
        )
    else:
        messages.success(request, gettext("The import is queued again."))
    return HttpResponseRedirect(run_url(run))


def import_run_import_view(request: HttpRequest, *, object_id: str, model_admin) -> HttpResponse:
    run = _run_for_import(request, object_id, model_admin)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        new = import_run_import_checked(run=run, actor=request.user)
    except RunAlreadyImported as already:
        messages.warning(
            request, gettext("This checked file was imported already: here is its import.")
        )
        return HttpResponseRedirect(run_url(already.imported_as))
    except RunNotCheckedFile:
        messages.error(request, gettext("Only a finished check (dry run) can be imported."))
        return HttpResponseRedirect(run_url(run))
    messages.success(request, gettext("The checked file is queued for import."))
    return HttpResponseRedirect(run_url(new))


@require_GET
def municipality_export_blds(request: HttpRequest, *, object_id: str, model_admin) -> HttpResponse:
    municipality = model_admin.get_object(request, unquote(object_id))
    if municipality is None:
        raise Http404(gettext("No such municipality."))
    if not (
        model_admin.has_view_permission(request, municipality)
        and access.can(request.user, municipality.pk, "permits.view_application")
    ):
        raise PermissionDenied
    filename, content = blds_zip(municipality=municipality)
    return HttpResponse(
        content,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

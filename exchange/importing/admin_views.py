"""Admin pages for moving records in and out: the CSV import of applications (upload, dry-run
preview, import) and the BLDS open-data download of a municipality.

The uploaded file waits between preview and import under MEDIA_ROOT/imports/ (never served),
named by a random token that the session remembers; it is removed once imported.
"""

import datetime
import secrets

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from core import access
from core.models import Municipality
from exchange.exporting import blds_zip
from exchange.importing.forms import ImportConfirmForm, ImportUploadForm
from exchange.importing.mapping import load_mapping
from exchange.importing.reading import ImportFileError
from exchange.importing.services import applications_import

SESSION_KEY = "permits_import_pending"
PENDING_DIR = "imports"
PENDING_MAX_AGE = datetime.timedelta(days=1)
SHOWN_REJECTIONS = 200
IMPORT_PERM = "permits.add_application"


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


@require_http_methods(["GET", "POST"])
def application_import(request: HttpRequest, *, model_admin) -> HttpResponse:
    if not (model_admin.has_add_permission(request) and model_admin.has_change_permission(request)):
        raise PermissionDenied
    if request.method == "POST" and "token" in request.POST:
        return _import_pending(request, model_admin)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    # Into a municipality where the user's role may add applications.
    form.fields["municipality"].queryset = access.scope(
        form.fields["municipality"].queryset, request.user, field="id", perm=IMPORT_PERM
    )
    report = confirm_form = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = applications_import(
                municipality=form.cleaned_data["municipality"],
                data=upload.file,  # read line by line, never whole
                mapping=load_mapping(form.cleaned_data["mapping"]),
                source_name=upload.name,
                actor=request.user,
                dry_run=True,
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            token = _store_pending(upload)
            request.session[SESSION_KEY] = {
                "token": token,
                "municipality": form.cleaned_data["municipality"].pk,
                "mapping": form.cleaned_data["mapping"],
                "name": upload.name,
            }
            confirm_form = ImportConfirmForm(initial={"token": token})
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": gettext("Import applications from CSV"),
        "form": form,
        "report": report,
        "confirm_form": confirm_form,
        "municipality": form.cleaned_data.get("municipality") if report else None,
        "rejections": report.rejected[:SHOWN_REJECTIONS] if report else [],
        "warnings": report.warnings[:SHOWN_REJECTIONS] if report else [],
    }
    return TemplateResponse(request, "admin/exchange/application_import.html", context)


def _import_pending(request: HttpRequest, model_admin) -> HttpResponse:
    form = ImportConfirmForm(request.POST)
    pending = request.session.get(SESSION_KEY) or {}
    here = reverse("admin:permits_application_import")
    if not form.is_valid() or form.cleaned_data["token"] != pending.get("token"):
        messages.error(
            request, gettext("This preview was already imported or has expired: upload again.")
        )
        return HttpResponseRedirect(here)
    name = f"{PENDING_DIR}/{pending['token']}.csv"
    try:
        municipality = access.scope(
            Municipality.objects.all(), request.user, field="id", perm=IMPORT_PERM
        ).get(pk=pending["municipality"])
        handle = default_storage.open(name, "rb")
    except (OSError, Municipality.DoesNotExist):
        request.session.pop(SESSION_KEY, None)
        messages.error(request, gettext("The uploaded file is no longer there: upload it again."))
        return HttpResponseRedirect(here)
    try:
        with handle:
            report = applications_import(
                municipality=municipality,
                data=handle.file,
                mapping=load_mapping(pending["mapping"]),
                source_name=pending["name"],
                actor=request.user,
            )
    except ImportFileError as exc:  # the file was previewed, so only if the code changed
        messages.error(request, str(exc))
        return HttpResponseRedirect(here)
    default_storage.delete(name)
    request.session.pop(SESSION_KEY, None)
    messages.success(request, f"{municipality.name}, {pending['name']}: {report.summary()}")
    if report.rejected:
        shown = "; ".join(
            gettext("line %(line)s: %(reason)s") % {"line": r.line, "reason": r.reason}
            for r in report.rejected[:5]
        )
        messages.warning(
            request,
            gettext("Not imported: %(shown)s%(more)s.")
            % {"shown": shown, "more": _more(len(report.rejected) - 5)},
        )
    if report.warnings:
        shown = "; ".join(
            gettext("line %(line)s (%(number)s): %(what)s")
            % {"line": w.line, "number": w.number, "what": w.what}
            for w in report.warnings[:5]
        )
        messages.warning(
            request,
            gettext(
                "Imported as the file has them, with a data-quality warning: %(shown)s%(more)s."
            )
            % {"shown": shown, "more": _more(len(report.warnings) - 5)},
        )
    changelist = reverse("admin:permits_application_changelist")
    return HttpResponseRedirect(f"{changelist}?municipality__id__exact={municipality.pk}")


def _more(count: int) -> str:
    """What follows the first five of a list: " (and 3 more)", or "" when none are left out."""
    if count <= 0:
        return ""
    return " " + ngettext("(and %(count)s more)", "(and %(count)s more)", count) % {"count": count}


def _store_pending(upload) -> str:
    """Keeps the uploaded file (copied in chunks) until the preview is confirmed."""
    _remove_stale_pending()
    token = secrets.token_urlsafe(24)
    default_storage.save(f"{PENDING_DIR}/{token}.csv", upload)
    return token


def _remove_stale_pending() -> None:
    """Uploads previewed but never imported are kept for a day."""
    try:
        _, names = default_storage.listdir(PENDING_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - PENDING_MAX_AGE
    for name in names:
        path_name = f"{PENDING_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path_name) < cutoff:
                default_storage.delete(path_name)
        except OSError:
            continue  # removed by a concurrent request


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

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import pages
from core.files import stored_document_response
from inspections import queries, services
from inspections.exceptions import CancelRefused, DuplicateInspection
from inspections.forms import (
    FindingForm,
    InspectionAddForm,
    InspectionCancelForm,
    OrderForm,
    PhotoUploadForm,
)
from inspections.models import Visit, VisitStatus
from inspections.queries import get_finding, get_inspection, get_order, get_photo
from inspections.services import VisitError
from permits import queries as permits_queries


def inspection_page(request, inspection, *, status=200, **bound_forms) -> HttpResponse:
    """The inspection view; `bound_forms` replaces a blank form with one that has errors."""
    return pages.render_page(
        request, "inspection", status=status, bound_forms=bound_forms, inspection=inspection
    )


def _back(inspection, anchor: str = ""):
    return redirect(inspection.get_absolute_url() + (f"#{anchor}" if anchor else ""))


def _open_visit_or_back(request, inspection):
    visit = queries.open_visit(inspection=inspection)
    if visit is None:
        messages.warning(
            request, gettext("This inspection has no open visit: start a new visit first.")
        )
    return visit


@require_POST
def inspection_add(request: HttpRequest, municipality: str, number: str) -> HttpResponse:
    application = permits_queries.get_application(
        request.user, municipality, number, perm="inspections.add_inspection"
    )
    back = redirect(application.get_absolute_url() + "#inspections")
    form = InspectionAddForm(request.POST, application=application)
    if not form.is_valid():
        messages.error(request, gettext("Choose an inspection type to add."))
        return back
    inspection_type = form.cleaned_data["inspection_type"]
    try:
        inspection = services.inspection_add(
            application=application,
            inspection_type=inspection_type,
            actor=request.user,
            allow_duplicate=form.cleaned_data["confirm_duplicate"],
        )
    except DuplicateInspection as exc:
        # Not an error: ask whether a second one is meant (the button posts again, confirmed).
        return render(
            request,
            "inspections/inspection_add_confirm.html",
            {
                "application": application,
                "inspection_type": inspection_type,
                "existing": exc.existing,
            },
        )
    except VisitError as exc:
        messages.error(request, str(exc))
        return back
    name = inspection.inspection_type.name
    if inspection.assigned_inspector_id:
        added = gettext("%(type)s inspection added. It is assigned to you.") % {"type": name}
    else:
        added = gettext("%(type)s inspection added.") % {"type": name}
    messages.success(request, added)
    return back


@require_POST
def inspection_cancel(request: HttpRequest, code: str) -> HttpResponse:
    inspection = get_inspection(request.user, code, perm="inspections.change_inspection")
    form = InspectionCancelForm(request.POST)
    if not form.is_valid():
        return inspection_page(request, inspection, status=400, cancel_form=form)
    try:
        services.inspection_cancel(
            inspection=inspection, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except CancelRefused as exc:
        messages.warning(request, str(exc))
        return _back(inspection)
    messages.success(
        request,
        gettext("%(type)s inspection cancelled.") % {"type": inspection.inspection_type.name},
    )
    return redirect(inspection.application.get_absolute_url() + "#inspections")


@require_GET
def inspection_detail(request: HttpRequest, code: str) -> HttpResponse:
    return inspection_page(
        request, get_inspection(request.user, code, perm="inspections.view_inspection")
    )


@require_POST
def visit_start(request: HttpRequest, code: str) -> HttpResponse:
    inspection = get_inspection(request.user, code, perm="inspections.add_visit")
    try:
        visit = services.visit_start(inspection=inspection, actor=request.user)
    except VisitError as exc:
        messages.warning(request, str(exc))
        return _back(inspection)
    messages.success(request, gettext("Visit %(sequence)s started.") % {"sequence": visit.sequence})
    return _back(inspection, "findings")


@require_POST
def visit_start_follow_up(request: HttpRequest, code: str) -> HttpResponse:
    inspection = get_inspection(request.user, code, perm="inspections.add_visit")
    try:
        visit = services.visit_start_follow_up(inspection=inspection, actor=request.user)
    except VisitError as exc:
        messages.warning(request, str(exc))
        return _back(inspection)
    messages.success(
        request,
        gettext(
            "Follow-up visit %(sequence)s started: mark each matter corrected or complied "
            "with, then Finish and Close."
        )
        % {"sequence": visit.sequence},
    )
    return _back(inspection, "findings")


@require_POST
def finding_add(request: HttpRequest, code: str) -> HttpResponse:
    inspection = get_inspection(request.user, code, perm="inspections.add_finding")
    if (visit := _open_visit_or_back(request, inspection)) is None:
        return _back(inspection)
    form = FindingForm(request.POST)
    if not form.is_valid():
        return inspection_page(request, inspection, status=400, finding_form=form)
    try:
        finding = services.finding_add(visit=visit, actor=request.user, **form.cleaned_data)
    except VisitError as exc:
        messages.warning(request, str(exc))
        return _back(inspection)
    messages.success(
        request, gettext("Remark added.") if finding.is_remark else gettext("Deficiency added.")
    )
    return _back(inspection, "findings")


@require_http_methods(["GET", "POST"])
def finding_edit(request: HttpRequest, code: str) -> HttpResponse:
    finding = get_finding(request.user, code, perm="inspections.change_finding")
    inspection = finding.visit.inspection
    if not finding.visit.is_open:
        messages.warning(
            request, gettext("That visit is closed: its findings can no longer change.")
        )
        return _back(inspection)
    form = FindingForm(request.POST or None, instance=finding)
    if request.method == "POST" and form.is_valid():
        try:
            services.finding_update(finding=finding, actor=request.user, **form.cleaned_data)
        except VisitError as exc:
            messages.warning(request, str(exc))
            return _back(inspection)
        messages.success(
            request, gettext("Remark saved.") if finding.is_remark else gettext("Deficiency saved.")
        )
        return _back(inspection, "findings")
    return render(
        request,
        "inspections/finding_edit.html",
        {"form": form, "finding": finding, "inspection": inspection},
        status=400 if form.errors else 200,
    )


@require_POST
def finding_delete(request: HttpRequest, code: str) -> HttpResponse:
    finding = get_finding(request.user, code, perm="inspections.delete_finding")
    try:
        services.finding_delete(finding=finding, actor=request.user)
    except VisitError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(
            request,
            gettext("Remark deleted.") if finding.is_remark else gettext("Deficiency deleted."),
        )
    return _back(finding.visit.inspection, "findings")


@require_POST
def finding_corrected(request: HttpRequest, code: str) -> HttpResponse:
    finding = get_finding(request.user, code, perm="inspections.change_finding")
    inspection = finding.visit.inspection
    if (visit := _open_visit_or_back(request, inspection)) is None:
        return _back(inspection)
    corrected = request.POST.get("corrected") == "1"
    try:
        services.finding_set_corrected(
            finding=finding, visit=visit, actor=request.user, corrected=corrected
        )
    except VisitError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(
            request,
            gettext("Deficiency marked corrected.")
            if corrected
            else gettext("Deficiency is outstanding again."),
        )
    return _back(inspection, "findings")


@require_POST
def order_add(request: HttpRequest, code: str) -> HttpResponse:
    inspection = get_inspection(request.user, code, perm="inspections.add_order")
    if (visit := _open_visit_or_back(request, inspection)) is None:
        return _back(inspection)
    form = OrderForm(request.POST, findings=queries.linkable_findings(visit))
    if not form.is_valid():
        return inspection_page(request, inspection, status=400, order_form=form)
    try:
        order = services.order_add(visit=visit, actor=request.user, **form.cleaned_data)
    except VisitError as exc:
        messages.warning(request, str(exc))
        return _back(inspection)
    messages.success(
        request, gettext("%(order)s added.") % {"order": order.get_order_type_display()}
    )
    return _back(inspection, "orders")


@require_http_methods(["GET", "POST"])
def order_edit(request: HttpRequest, code: str) -> HttpResponse:
    order = get_order(request.user, code, perm="inspections.change_order")
    inspection = order.visit.inspection
    if not order.visit.is_open:
        messages.warning(request, gettext("That visit is closed: its orders can no longer change."))
        return _back(inspection)
    findings = queries.linkable_findings(order.visit, order=order)
    form = OrderForm(request.POST or None, instance=order, findings=findings)
    if request.method == "POST" and form.is_valid():
        try:
            services.order_update(order=order, actor=request.user, **form.cleaned_data)
        except VisitError as exc:
            messages.warning(request, str(exc))
            return _back(inspection)
        messages.success(
            request, gettext("%(order)s saved.") % {"order": order.get_order_type_display()}
        )
        return _back(inspection, "orders")
    return render(
        request,
        "inspections/order_edit.html",
        {"form": form, "order": order, "inspection": inspection},
        status=400 if form.errors else 200,
    )


@require_POST
def order_delete(request: HttpRequest, code: str) -> HttpResponse:
    order = get_order(request.user, code, perm="inspections.delete_order")
    try:
        services.order_delete(order=order, actor=request.user)
    except VisitError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(
            request, gettext("%(order)s deleted.") % {"order": order.get_order_type_display()}
        )
    return _back(order.visit.inspection, "orders")


@require_POST
def order_complied(request: HttpRequest, code: str) -> HttpResponse:
    order = get_order(request.user, code, perm="inspections.change_order")
    inspection = order.visit.inspection
    if (visit := _open_visit_or_back(request, inspection)) is None:
        return _back(inspection)
    complied = request.POST.get("complied") == "1"
    try:
        services.order_set_complied(order=order, visit=visit, actor=request.user, complied=complied)
    except VisitError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(
            request,
            gettext("Order marked complied with.")
            if complied
            else gettext("Order is outstanding again."),
        )
    return _back(inspection, "orders")


@require_POST
def photos_add(request: HttpRequest, code: str) -> HttpResponse:
    inspection = get_inspection(request.user, code, perm="inspections.add_photo")
    if (visit := _open_visit_or_back(request, inspection)) is None:
        return _back(inspection)
    form = PhotoUploadForm(request.POST, request.FILES, findings=queries.linkable_findings(visit))
    if not form.is_valid():
        return inspection_page(request, inspection, status=400, photo_form=form)
    try:
        added = services.photos_add(
            visit=visit,
            actor=request.user,
            photos=form.cleaned_data["photos"],
            description=form.cleaned_data["description"],
            finding=form.cleaned_data["finding"],
        )
    except VisitError as exc:
        messages.warning(request, str(exc))
        return _back(inspection)
    messages.success(
        request,
        ngettext("%(count)d photo added.", "%(count)d photos added.", len(added))
        % {"count": len(added)},
    )
    return _back(inspection, "photos")


@require_POST
def photo_delete(request: HttpRequest, code: str) -> HttpResponse:
    photo = get_photo(request.user, code, perm="inspections.delete_photo")
    try:
        services.photo_delete(photo=photo, actor=request.user)
    except VisitError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(request, gettext("Photo deleted."))
    return _back(photo.visit.inspection, "photos")


def _serve_image(field, filename: str) -> FileResponse:
    response = FileResponse(field.open("rb"), content_type="image/jpeg", filename=filename)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    # Kept by no browser or proxy, like every page and document (a phone or a desk shared
    # by staff must not show a site's photos to the next person).
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def photo_image(request: HttpRequest, code: str) -> FileResponse:
    photo = get_photo(request.user, code, perm="inspections.view_photo")
    return _serve_image(photo.image, f"photo-{photo.code}.jpg")


@require_GET
def photo_thumbnail(request: HttpRequest, code: str) -> FileResponse:
    photo = get_photo(request.user, code, perm="inspections.view_photo")
    return _serve_image(photo.thumbnail, f"photo-{photo.code}-thumb.jpg")


@require_GET
def visit_report(request: HttpRequest, code: str, sequence: int) -> HttpResponse:
    inspection = get_inspection(request.user, code, perm="inspections.view_visit")
    try:
        # get(), not first(): (inspection, sequence) is unique, and first() would sort by
        # Visit's default ordering, joining the inspection, application and type to do it.
        visit = inspection.visits.get(sequence=sequence, status=VisitStatus.CLOSED)
    except Visit.DoesNotExist:
        raise Http404(gettext("This visit has no inspection report.")) from None
    if not visit.report_pdf:
        # Closed moments ago: a job is rendering the report (inspections.tasks).
        messages.info(
            request,
            gettext(
                "The inspection report of visit %(sequence)s is being prepared. Refresh the "
                "page in a moment to download it."
            )
            % {"sequence": visit.sequence},
        )
        return redirect(inspection.get_absolute_url() + "#visits")
    filename = f"inspection-report-{inspection.application.number}-visit-{visit.sequence}.pdf"
    return stored_document_response(visit.report_pdf, sha256=visit.report_sha256, filename=filename)

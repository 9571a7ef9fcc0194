"""Finish and Close (Save draft, the confirmation step, the close) and the permit download.

The inspection page is inspections', rendered by name through core.pages; occupancy adds
its Inspection & visit result section to it (occupancy.sections)."""

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.timezone import localtime
from django.views.decorators.http import require_GET, require_POST

from core import pages
from core.people import person_name
from inspections import queries as inspection_queries
from occupancy import queries
from occupancy.confirmation import draft_fingerprint, draft_unchanged
from occupancy.exceptions import CloseError, DraftChanged, GrantRefused, VisitAlreadyClosed
from occupancy.forms import VisitResultForm, visit_details_form
from occupancy.services import visit_finish_and_close, visit_result_save_draft
from occupancy.snapshot import OutstandingMatter

RECORD = "inspections.change_visit"


def _inspection_page(request, inspection, **bound_forms) -> HttpResponse:
    return pages.render_page(
        request, "inspection", status=400, bound_forms=bound_forms, inspection=inspection
    )


def _already_closed(request, inspection) -> HttpResponse:
    """Someone else (or another tab) was faster: say who closed the visit and when."""
    last = inspection_queries.last_closed_visit(inspection=inspection)
    if last is None:
        messages.warning(request, "This inspection has no open visit.")
    else:
        messages.info(
            request,
            f"Visit {last.sequence} was already closed by {person_name(last.closed_by)} on "
            f"{localtime(last.closed_at):%Y-%m-%d at %H:%M}: {last.get_result_display()}.",
        )
    return redirect(inspection.get_absolute_url() + "#visits")


@require_POST
def visit_result(request: HttpRequest, code: str) -> HttpResponse:
    """Inspection & visit result: Save draft, or Finish and Close Inspection (which asks
    for a confirmation next)."""
    inspection = inspection_queries.get_inspection(request.user, code, perm=RECORD)
    visit = inspection_queries.open_visit(inspection=inspection)
    if visit is None:
        return _already_closed(request, inspection)
    visit_form = visit_details_form(visit, data=request.POST)
    result_form = VisitResultForm(request.POST, visit=visit)
    finishing = request.POST.get("action") == "finish"
    result_ok = result_form.validate_for_close() if finishing else result_form.is_valid()
    if not (visit_form.is_valid() and result_ok):
        return _inspection_page(request, inspection, visit_form=visit_form, result_form=result_form)
    try:
        visit_result_save_draft(
            visit=visit,
            actor=request.user,
            visit_fields=visit_form.cleaned_data,
            result=result_form.cleaned_data["result"],
            failure_reason=result_form.cleaned_data["failure_reason"],
            grant=result_form.grant(),
        )
    except VisitAlreadyClosed:
        return _already_closed(request, inspection)
    if finishing:
        return redirect("occupancy:visit_confirm", code=inspection.code)
    messages.success(request, "Visit details saved.")
    return redirect(inspection.get_absolute_url() + "#result")


def _confirmation_page(request, inspection, visit, form, *, status: int = 200) -> HttpResponse:
    """The draft as saved now, and "Yes, close the inspection" carrying its fingerprint."""
    findings, orders = inspection_queries.outstanding_matters(
        visit=visit, for_grant=form.is_grant()
    )
    return render(
        request,
        "occupancy/visit_confirm.html",
        {
            "inspection": inspection,
            "application": inspection.application,
            "visit": visit,
            "result_label": form.result_label(),
            "failure_reason": form.failure_reason_label(),
            "is_grant": form.is_grant(),
            "data": form.cleaned_data,
            "outstanding_findings": findings,
            "outstanding_orders": orders,
            # Worded as the permit prints them (who must complete each, no phone numbers).
            "matters": OutstandingMatter.of_matters(findings=findings, orders=orders),
            # The checklist as marked, as the permit will list it.
            "conditions": form.verified_conditions(),
            "draft_fingerprint": draft_fingerprint(visit),
        },
        status=status,
    )


@require_GET
def visit_confirm(request: HttpRequest, code: str) -> HttpResponse:
    """The confirmation step of Finish and Close Inspection (works without JavaScript)."""
    inspection = inspection_queries.get_inspection(request.user, code, perm=RECORD)
    visit = inspection_queries.open_visit(inspection=inspection)
    if visit is None:
        return _already_closed(request, inspection)
    form = VisitResultForm.from_saved_draft(visit)
    if not form.validate_for_close():
        messages.error(request, "The result is not complete yet: see the messages below.")
        return _inspection_page(request, inspection, result_form=form)
    return _confirmation_page(request, inspection, visit, form)


def _confirm_again(request, inspection, *, missing: bool) -> HttpResponse:
    """Nothing was closed because the draft is not the one confirmed: show it as it is now
    (409 Conflict: the confirmation no longer matches the draft), or the result form when
    the draft as it is now cannot be closed."""
    visit = inspection_queries.open_visit(inspection=inspection)
    if visit is None:
        return _already_closed(request, inspection)
    form = VisitResultForm.from_saved_draft(visit)
    if not form.validate_for_close():
        messages.error(
            request,
            "Nothing was closed: the draft changed since you saw it and the result is not "
            "complete.",
        )
        return _inspection_page(request, inspection, result_form=form)
    if missing:
        messages.warning(
            request,
            "Nothing was closed: the confirmation did not say which draft it showed (a page "
            "opened before an update?). Check the draft below and confirm again.",
        )
    else:
        messages.warning(
            request,
            "Nothing was closed. The draft changed since you saw it (another tab or another "
            "inspector). Check it below and confirm again.",
        )
    return _confirmation_page(request, inspection, visit, form, status=409)


@require_POST
def visit_close(request: HttpRequest, code: str) -> HttpResponse:
    """Yes, close the inspection: closes the draft the confirmation page showed, identified
    by its fingerprint (occupancy.confirmation). When the draft changed since (another tab,
    another inspector) or the fingerprint is missing, nothing is closed and the confirmation
    page is shown again with the draft as it is now, answering 409 Conflict."""
    inspection = inspection_queries.get_inspection(request.user, code, perm=RECORD)
    visit = inspection_queries.open_visit(inspection=inspection)
    if visit is None:
        return _already_closed(request, inspection)
    shown = request.POST.get("draft_fingerprint", "")
    if not draft_unchanged(visit=visit, fingerprint=shown):
        return _confirm_again(request, inspection, missing=not shown)
    form = VisitResultForm.from_saved_draft(visit)
    if not form.validate_for_close():
        messages.error(request, "Nothing was closed: the result is not complete.")
        return _inspection_page(request, inspection, result_form=form)
    try:
        outcome = visit_finish_and_close(
            visit=visit,
            actor=request.user,
            result=form.cleaned_data["result"],
            failure_reason=form.cleaned_data["failure_reason"],
            grant=form.grant(),
            expected_fingerprint=shown,
        )
    except VisitAlreadyClosed:
        return _already_closed(request, inspection)
    except DraftChanged:
        # Saved in another tab between the check above and the visit lock.
        return _confirm_again(request, inspection, missing=False)
    except GrantRefused as exc:
        # Something changed between the confirmation and the close (a template retired, a
        # matter recorded): show the refusals at their fields, as the form would.
        messages.error(request, "Nothing was closed: the result is not complete.")
        form.add_refusals(exc.refusals)
        return _inspection_page(request, inspection, result_form=form)
    except CloseError as exc:
        messages.error(request, str(exc))
        return redirect(inspection.get_absolute_url() + "#result")
    if outcome.permit is not None:
        messages.success(
            request, f"Inspection closed. Occupancy permit {outcome.permit.number} issued."
        )
    elif outcome.visit.inspection.is_closed:
        messages.success(request, "Inspection closed. Inspection report issued.")
    else:
        messages.success(
            request,
            f"Visit {outcome.visit.sequence} closed: {outcome.visit.get_result_display()}. "
            "Inspection report issued; start a new visit once the matters are resolved.",
        )
    return redirect(inspection.get_absolute_url() + "#visits")


@require_GET
def permit_pdf(request: HttpRequest, municipality: str, number: str) -> FileResponse:
    """The issued permit's PDF, byte for byte as issued."""
    permit = queries.get_permit(request.user, municipality, number)
    response = FileResponse(
        permit.pdf.open("rb"), content_type="application/pdf", filename=f"{permit.number}.pdf"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def moved_permanently(view_name: str):
    """Finish and Close moved under /occupancy/ (issue 12): a page left open from before
    still posts to the old address; 308 keeps the method and the form data."""

    def redirect_view(request: HttpRequest, code: str) -> HttpResponse:
        response = redirect(view_name, code=code)
        response.status_code = 308
        return response

    return redirect_view

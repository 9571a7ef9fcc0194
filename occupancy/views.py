from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.timezone import localtime
from django.views.decorators.http import require_GET, require_POST

from core import access
from core.people import person_name
from inspections import queries as inspection_queries
from inspections.forms import VisitDraftForm
from inspections.models import GRANT_RESULTS, VisitResult
from inspections.queries import get_inspection
from inspections.rules import outstanding_findings, outstanding_orders
from inspections.services import VisitError, visit_save_draft
from inspections.views import inspection_page
from occupancy.forms import VisitResultForm
from occupancy.models import OccupancyPermit
from occupancy.services import CloseError, GrantDetails, visit_finish_and_close

RECORD = "inspections.change_visit"


def _already_closed(request, inspection) -> HttpResponse:
    """Someone else (or another tab) was faster: say who closed the visit and when."""
    last = inspection.visits.exclude(closed_at=None).select_related("closed_by").first()
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
    inspection = get_inspection(request.user, code, perm=RECORD)
    visit = inspection_queries.open_visit(inspection=inspection)
    if visit is None:
        return _already_closed(request, inspection)
    visit_form = VisitDraftForm(request.POST, instance=visit)
    result_form = VisitResultForm(request.POST, visit=visit)
    finishing = request.POST.get("action") == "finish"
    result_ok = result_form.validate_for_close() if finishing else result_form.is_valid()
    if not (visit_form.is_valid() and result_ok):
        return inspection_page(
            request, inspection, status=400, visit_form=visit_form, result_form=result_form
        )
    try:
        visit_save_draft(
            visit=visit,
            actor=request.user,
            **visit_form.cleaned_data,
            result=result_form.cleaned_data["result"],
            failure_reason=result_form.cleaned_data["failure_reason"],
            grant_draft=result_form.draft(),
        )
    except VisitError:
        return _already_closed(request, inspection)
    if finishing:
        return redirect("occupancy:visit_confirm", code=inspection.code)
    messages.success(request, "Visit details saved.")
    return redirect(inspection.get_absolute_url() + "#result")


def _saved_result_form(visit) -> VisitResultForm:
    draft = VisitResultForm.initial_from_draft(visit)
    data = {k: ("" if v is None else v) for k, v in draft.items()}
    return VisitResultForm(data, visit=visit)


@require_GET
def visit_confirm(request: HttpRequest, code: str) -> HttpResponse:
    """The confirmation step of Finish and Close Inspection (works without JavaScript)."""
    inspection = get_inspection(request.user, code, perm=RECORD)
    visit = inspection_queries.open_visit(inspection=inspection)
    if visit is None:
        return _already_closed(request, inspection)
    form = _saved_result_form(visit)
    if not form.validate_for_close():
        messages.error(request, "The result is not complete yet: see the messages below.")
        return inspection_page(request, inspection, status=400, result_form=form)
    data = form.cleaned_data
    return render(
        request,
        "occupancy/visit_confirm.html",
        {
            "inspection": inspection,
            "application": inspection.application,
            "visit": visit,
            "result_label": VisitResult(data["result"]).label,
            "failure_reason": dict(form.fields["failure_reason"].choices).get(
                data["failure_reason"], ""
            ),
            "is_grant": data["result"] in GRANT_RESULTS,
            "data": data,
            "outstanding_findings": list(outstanding_findings(visit)),
            "outstanding_orders": list(outstanding_orders(visit)),
        },
    )


@require_POST
def visit_close(request: HttpRequest, code: str) -> HttpResponse:
    """Yes, close the inspection."""
    inspection = get_inspection(request.user, code, perm=RECORD)
    visit = inspection_queries.open_visit(inspection=inspection)
    if visit is None:
        return _already_closed(request, inspection)
    form = _saved_result_form(visit)
    if not form.validate_for_close():
        messages.error(request, "Nothing was closed: the result is not complete.")
        return inspection_page(request, inspection, status=400, result_form=form)
    data = form.cleaned_data
    grant = None
    if data["result"] in GRANT_RESULTS:
        grant = GrantDetails(
            template=data["template"],
            granted_on=data["granted_on"],
            description=data["description"],
            portion_of_building=data.get("portion_of_building", ""),
            expires_on=data.get("expires_on"),
        )
    try:
        outcome = visit_finish_and_close(
            visit=visit,
            actor=request.user,
            result=data["result"],
            failure_reason=data["failure_reason"],
            grant=grant,
        )
    except VisitError as exc:
        if "already closed" in str(exc):
            return _already_closed(request, inspection)
        messages.error(request, f"Nothing was closed: {exc}")
        return redirect(inspection.get_absolute_url() + "#result")
    except CloseError as exc:
        messages.error(request, str(exc))
        return redirect(inspection.get_absolute_url() + "#result")
    if outcome.permit is not None:
        messages.success(
            request, f"Inspection closed. Occupancy permit {outcome.permit.number} issued."
        )
    elif outcome.visit.inspection.status == "closed":
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
    permit = (
        OccupancyPermit.objects.select_related("municipality")
        .filter(municipality__slug=municipality, number=number)
        .first()
    )
    if permit is None:
        raise Http404("No such occupancy permit.")
    access.check(request.user, permit.municipality_id, None)
    response = FileResponse(
        permit.pdf.open("rb"), content_type="application/pdf", filename=f"{permit.number}.pdf"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

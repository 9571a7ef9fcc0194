"""Finish and Close (Save draft, the confirmation step, the close), the permit download, and
the revocation of a permit with its notice.

The inspection page is inspections', rendered by name through core.pages; occupancy adds
its Inspection & visit result section to it (occupancy.sections)."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import pages
from core.accounts import client_address
from core.files import stored_document_response
from core.people import person_name
from inspections import queries as inspection_queries
from occupancy import queries, verification
from occupancy.confirmation import draft_fingerprint, draft_unchanged
from occupancy.documents import template_context
from occupancy.exceptions import (
    CloseError,
    CloseInProgress,
    DraftChanged,
    GrantRefused,
    RevocationRefused,
    VisitAlreadyClosed,
)
from occupancy.forms import RevocationForm, VisitResultForm, visit_details_form
from occupancy.models import LookupOutcome
from occupancy.services import (
    occupancy_permit_revoke,
    visit_finish_and_close,
    visit_result_save_draft,
)
from occupancy.snapshot import OutstandingMatter

# The acts (Meta.permissions): recording the result is part of the visit; the confirmation
# and the close are the close (a grant also needs occupancy.issue_occupancypermit, a rule of
# occupancy.rules.grant_refusals).
RECORD = "inspections.record_visit"
CLOSE = "inspections.close_visit"

logger = logging.getLogger(__name__)


def _inspection_page(request, inspection, **bound_forms) -> HttpResponse:
    return pages.render_page(
        request, "inspection", status=400, bound_forms=bound_forms, inspection=inspection
    )


def _already_closed(request, inspection) -> HttpResponse:
    """Someone else (or another tab) was faster: say who closed the visit and when."""
    last = inspection_queries.last_closed_visit(inspection=inspection)
    if last is None:
        messages.warning(request, gettext("This inspection has no open visit."))
    else:
        closed_at = localtime(last.closed_at)
        messages.info(
            request,
            gettext(
                "Visit %(sequence)s was already closed by %(person)s on %(date)s at %(time)s: "
                "%(result)s."
            )
            % {
                "sequence": last.sequence,
                "person": person_name(last.closed_by),
                "date": f"{closed_at:%Y-%m-%d}",
                "time": f"{closed_at:%H:%M}",
                "result": last.get_result_display(),
            },
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
    result_form = VisitResultForm(request.POST, visit=visit, user=request.user)
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
    messages.success(request, gettext("Visit details saved."))
    return redirect(inspection.get_absolute_url() + "#result")


def _confirmation_page(
    request, inspection, visit, form, *, status: int = 200, matters=None
) -> HttpResponse:
    """The draft as saved now, and "Yes, close the inspection" carrying its fingerprint.
    `matters`: the outstanding matters the caller has just read for the rules."""
    for_grant = form.is_grant()
    if matters is None or matters.for_grant != for_grant:
        matters = inspection_queries.outstanding_matters(visit=visit, for_grant=for_grant)
    findings, orders = matters.findings, matters.orders
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
            # Of the matters listed above, instead of reading them a second time.
            "draft_fingerprint": draft_fingerprint(visit, matters=matters, draft=form.saved_draft),
        },
        status=status,
    )


@require_GET
def visit_confirm(request: HttpRequest, code: str) -> HttpResponse:
    """The confirmation step of Finish and Close Inspection (works without JavaScript)."""
    inspection = inspection_queries.get_inspection(request.user, code, perm=CLOSE)
    visit = inspection_queries.open_visit(inspection=inspection)
    if visit is None:
        return _already_closed(request, inspection)
    form = VisitResultForm.from_saved_draft(visit, user=request.user)
    # Read once: the rules count them, the page lists them, the fingerprint covers them.
    matters = inspection_queries.outstanding_matters(visit=visit)
    if not form.validate_for_close(matters=matters):
        messages.error(request, gettext("The result is not complete yet: see the messages below."))
        return _inspection_page(request, inspection, result_form=form)
    return _confirmation_page(request, inspection, visit, form, matters=matters)


def _confirm_again(request, inspection, *, missing: bool) -> HttpResponse:
    """Nothing was closed because the draft is not the one confirmed: show it as it is now
    (409 Conflict: the confirmation no longer matches the draft), or the result form when
    the draft as it is now cannot be closed."""
    visit = inspection_queries.open_visit(inspection=inspection)
    if visit is None:
        return _already_closed(request, inspection)
    form = VisitResultForm.from_saved_draft(visit, user=request.user)
    if not form.validate_for_close():
        messages.error(
            request,
            gettext(
                "Nothing was closed: the draft changed since you saw it and the result is not "
                "complete."
            ),
        )
        return _inspection_page(request, inspection, result_form=form)
    if missing:
        messages.warning(
            request,
            gettext(
                "Nothing was closed: the confirmation did not say which draft it showed (a page "
                "opened before an update?). Check the draft below and confirm again."
            ),
        )
    else:
        messages.warning(
            request,
            gettext(
                "Nothing was closed. The draft changed since you saw it (another tab or another "
                "inspector). Check it below and confirm again."
            ),
        )
    return _confirmation_page(request, inspection, visit, form, status=409)


@require_POST
def visit_close(request: HttpRequest, code: str) -> HttpResponse:
    """Yes, close the inspection: closes the draft the confirmation page showed, identified
    by its fingerprint (occupancy.confirmation). When the draft changed since (another tab,
    another inspector) or the fingerprint is missing, nothing is closed and the confirmation
    page is shown again with the draft as it is now, answering 409 Conflict."""
    inspection = inspection_queries.get_inspection(request.user, code, perm=CLOSE)
    visit = inspection_queries.open_visit(inspection=inspection)
    if visit is None:
        return _already_closed(request, inspection)
    shown = request.POST.get("draft_fingerprint", "")
    if not shown:
        return _confirm_again(request, inspection, missing=True)
    # The fingerprint is compared once, by the service under the visit lock (DraftChanged
    # below): computing it here too read the draft and its outstanding matters twice per
    # close (issue 16). Only a saved draft that no longer validates is compared here, so
    # that a draft changed since the confirmation gets "confirm again", not the form.
    form = VisitResultForm.from_saved_draft(visit, user=request.user)
    # The fields only: the close rules (occupancy.rules.grant_refusals) are checked once, by
    # the service under the visit lock, and a refusal is shown at its field below.
    if not form.is_valid():
        if not draft_unchanged(visit=visit, fingerprint=shown):
            return _confirm_again(request, inspection, missing=False)
        messages.error(request, gettext("Nothing was closed: the result is not complete."))
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
        # The draft was saved again (another tab, another inspector) since the confirmation
        # page showed it: the service compared the fingerprint under the visit lock.
        return _confirm_again(request, inspection, missing=False)
    except GrantRefused as exc:
        # Something changed between the confirmation and the close (a template retired, a
        # matter recorded): show the refusals at their fields, as the form would.
        messages.error(request, gettext("Nothing was closed: the result is not complete."))
        form.add_refusals(exc.refusals)
        return _inspection_page(request, inspection, result_form=form)
    except CloseInProgress as exc:
        # Nothing changed: the inspector presses Yes, close again in a moment.
        messages.warning(request, str(exc))
        return redirect("occupancy:visit_confirm", code=inspection.code)
    except CloseError as exc:
        messages.error(request, str(exc))
        return redirect(inspection.get_absolute_url() + "#result")
    if outcome.permit is not None:
        messages.success(
            request,
            gettext("Inspection closed. Occupancy permit %(number)s issued.")
            % {"number": outcome.permit.number},
        )
    elif outcome.visit.inspection.is_closed:
        messages.success(
            request, gettext("Inspection closed. The inspection report is being prepared.")
        )
    else:
        messages.success(
            request,
            gettext(
                "Visit %(sequence)s closed: %(result)s. The inspection report is being prepared; "
                "start a new visit once the matters are resolved."
            )
            % {"sequence": outcome.visit.sequence, "result": outcome.visit.get_result_display()},
        )
    return redirect(inspection.get_absolute_url() + "#visits")


@require_GET
def permit_pdf(request: HttpRequest, municipality: str, number: str) -> FileResponse:
    """The issued permit's PDF, byte for byte as issued."""
    permit = queries.get_permit(
        request.user, municipality, number, perm="occupancy.view_occupancypermit"
    )
    # The signed file's digest when signed: pdf_sha256 is what was stored (core.signing).
    return stored_document_response(
        permit.pdf, sha256=permit.pdf_sha256, filename=f"{permit.number}.pdf"
    )


def _permit_page_url(permit) -> str:
    """The Work view's Occupancy section, where the permit is listed."""
    return permit.application.get_absolute_url() + "#occupancy"


@require_http_methods(["GET", "POST"])
def permit_revoke(request: HttpRequest, municipality: str, number: str) -> HttpResponse:
    """Revoke an issued permit: the reason and the effective date (GET shows the form, POST
    revokes). The permit and its PDF stay as issued; a notice of revocation is issued."""
    permit = queries.get_permit(request.user, municipality, number, perm=queries.REVOKE_PERMIT)
    # Bound on any POST, an empty one too (it is refused at the fields, never shown blank).
    form = RevocationForm(request.POST if request.method == "POST" else None, permit=permit)
    if request.method == "POST" and form.is_valid():
        try:
            occupancy_permit_revoke(
                permit=permit,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                revoked_on=form.cleaned_data["revoked_on"],
            )
        except RevocationRefused as exc:
            # Revoked meanwhile (another tab, another official), or the notice failed.
            form.add_refusals(exc.refusals)
        else:
            messages.success(
                request,
                gettext(
                    "Occupancy permit %(number)s revoked effective %(revoked_on)s; notice of "
                    "revocation issued."
                )
                % {
                    "number": permit.number,
                    "revoked_on": f"{form.cleaned_data['revoked_on']:%Y-%m-%d}",
                },
            )
            return redirect(_permit_page_url(permit))
    return render(
        request,
        "occupancy/permit_revoke.html",
        {
            "permit": permit,
            "application": permit.application,
            "revocation": queries.revocation_of(permit),
            "form": form,
            "back_url": _permit_page_url(permit),
        },
        status=400 if form.errors else 200,
    )


@require_GET
def revocation_notice_pdf(request: HttpRequest, municipality: str, number: str) -> HttpResponse:
    """The notice of revocation of a revoked permit, byte for byte as issued."""
    revocation = queries.get_revocation(request.user, municipality, number)
    return stored_document_response(
        revocation.notice_pdf,
        sha256=revocation.notice_sha256,
        # An old number may hold '/', which no file name can.
        filename=f"{revocation.permit.number.replace('/', '-')}-notice-of-revocation.pdf",
    )


def moved_permanently(view_name: str):
    """Finish and Close moved under /occupancy/ (issue 12): a page left open from before
    still posts to the old address; 308 keeps the method and the form data."""

    def redirect_view(request: HttpRequest, code: str) -> HttpResponse:
        response = redirect(view_name, code=code)
        response.status_code = 308
        return response

    return redirect_view


@login_not_required
@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """The public page printed (with its QR code) on a permit and its notice: what was
    issued, whether it is valid today, and the SHA-256 of the issued PDF, against which
    static/js/verify.js checks a file in the visitor's browser. An unknown token gets the
    same 404 page whatever it is."""
    if verification.lookups_over_limit(client_address(request)):
        return HttpResponse(
            gettext(
                "Too many verification lookups from your address. Wait a minute and try again."
            ),
            status=429,
            content_type="text/plain; charset=utf-8",
            headers={"Retry-After": str(verification.RATE_WINDOW_SECONDS)},
        )
    permit = verification.permit_of_token(token)
    if permit is None:
        verification.verification_lookup_record(permit=None, outcome=LookupOutcome.NOT_FOUND)
        return render(request, "occupancy/verify_not_found.html", status=404)
    status = verification.public_status(permit, today=timezone.localdate())
    verification.verification_lookup_record(permit=permit, outcome=status.outcome)
    response = render(
        request,
        "occupancy/verify.html",
        {
            "permit": permit,
            # As printed on the permit: what the visitor compares with the paper.
            "printed": template_context(permit.snapshot),
            "status": status.outcome,
            "revocation": status.revocation,
            "signatures": verification.document_signatures(permit, status.revocation),
            "outcomes": LookupOutcome,
        },
    )
    # Briefly: a revocation shows within a minute. Only the visitor's own browser caches it
    # when someone is signed in (the header names them).
    if request.user.is_authenticated:
        patch_cache_control(response, private=True, max_age=60)
    else:
        patch_cache_control(response, public=True, max_age=60)
    return response

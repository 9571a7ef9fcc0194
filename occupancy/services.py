"""Finishing and closing a visit, and issuing occupancy permits.

Closing a visit is where an occupancy permit is born, so the one entry point for it lives
here, in the app that sits on top of inspections: `visit_finish_and_close`.
"""

import dataclasses
import datetime
import hashlib
import logging

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.audit import activity_record, excerpt
from core.files import DocumentNameTaken, FilesWrittenGuard
from core.pdf import PdfRenderError
from core.signing import PERMIT_REASON, REVOCATION_REASON, SigningError, sign_pdf
from inspections import rules as inspection_rules
from inspections import services as inspection_services
from inspections.models import GRANT_RESULTS, Visit
from inspections.services import VisitError, VisitNotOpen
from occupancy.confirmation import arguments_match_draft, draft_unchanged, saved_grant_draft
from occupancy.documents import render_permit_pdf, version_stylesheet_key
from occupancy.exceptions import (
    CloseError,
    CloseInProgress,
    DraftChanged,
    GrantRefused,
    RevocationRefused,
    VisitAlreadyClosed,
)
from occupancy.models import (
    GrantDraft,
    GrantDraftCondition,
    OccupancyCondition,
    OccupancyPermit,
    OccupancyPermitTemplate,
    OccupancyPermitTemplateVersion,
    PermitKind,
    PermitVerification,
    new_verification_token,
)
from occupancy.notifications import close_documents_email_queue
from occupancy.numbering import NumberFormatError, next_permit_number
from occupancy.rules import GrantDetails, grant_refusals, revocation_refusals
from occupancy.snapshot import PermitSnapshot
from occupancy.template_validation import validate_template_body
from occupancy.verification import verification_url
from permits.models import ApplicationStatus
from permits.services import (
    application_add_other_number,
    application_record_activity,
    application_set_status,
)

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CloseOutcome:
    visit: Visit
    permit: OccupancyPermit | None


def current_template_version(template: OccupancyPermitTemplate) -> OccupancyPermitTemplateVersion:
    """The version a permit issued now is rendered with (created if a save missed it)."""
    version, _ = OccupancyPermitTemplateVersion.objects.get_or_create(
        template=template,
        version=template.version,
        defaults={"body": template.body, "stylesheet": template.stylesheet},
    )
    return version


def occupancy_permit_issue(
    *,
    visit: Visit,
    actor,
    result: str,
    grant: GrantDetails,
    files: FilesWrittenGuard,
    issued_at: datetime.datetime | None = None,
    matters: inspection_rules.OutstandingAt | None = None,
) -> OccupancyPermit:
    """Issue the occupancy permit of a locked occupancy visit being closed with a grant, at
    `issued_at` (now by default; the close passes the instant it closes the visit at). Runs
    inside the close transaction.

    What does not need the number is prepared first; the number is taken last, so that the
    sequence row's lock (which every other close of the municipality's permit type waits
    for) is held only for the numbering, one render of the permit, its signature, the rows
    and the commit.
    Side effects: the next number of the type's sequence taken; the permit PDF rendered
    from the template's current version and a snapshot of the data, stored with its
    SHA-256 (through `files`); one OccupancyPermit; its PermitVerification (the token of
    the public page it prints); an Activity. `matters`: the grant's outstanding matters as
    the close read them under the visit lock (inspections.rules.outstanding_at), printed
    instead of read again.
    """
    template = grant.template
    permit_type = template.permit_type
    application = visit.inspection.application
    issued_at = issued_at or timezone.now()
    # The token before the PDF: the permit prints its verification address and QR code.
    verification_token = new_verification_token()
    # Everything the permit prints but its number, read before the number is taken.
    unnumbered = PermitSnapshot.from_grant(
        visit=visit,
        permit_type=permit_type,
        number="",
        result=result,
        granted_on=grant.granted_on,
        expires_on=grant.expires_on,
        description=grant.description,
        portion_of_building=grant.portion_of_building,
        issued_at=issued_at,
        inspector=actor,
        condition_marks=grant.conditions,
        verification_url=verification_url(verification_token),
        matters=matters if matters is not None and matters.for_grant else None,
    )
    version = current_template_version(template)
    try:
        # The year of issue, never the granted date's: a permit issued in 2026 for occupancy
        # granted on 2025-12-30 is numbered in the 2026 series.
        year_of_issue = timezone.localtime(issued_at).year
        # From here until the commit, the other closes of this sequence wait.
        number = next_permit_number(permit_type=permit_type, year=year_of_issue)
    except NumberFormatError as exc:
        raise CloseError(
            gettext("The number format of %(permit_type)s is not valid: %(error)s")
            % {"permit_type": permit_type.name, "error": exc}
        ) from exc
    snapshot = dataclasses.replace(
        unnumbered, permit=dataclasses.replace(unnumbered.permit, number=number)
    ).to_json()
    pdf = render_permit_pdf(
        body=version.body,
        stylesheet=version.stylesheet,
        stylesheet_key=version_stylesheet_key(version),
        snapshot=snapshot,
        municipality=application.municipality,
    )
    # Signed (when the municipality has a certificate) before hashing: the digest stored and
    # shown on the verification page is the signed file's (core.signing).
    try:
        pdf = sign_pdf(pdf, municipality=application.municipality, reason=PERMIT_REASON)
    except SigningError as exc:
        raise CloseError(
            gettext("The permit could not be signed: %(error)s") % {"error": exc}
        ) from exc
    permit = OccupancyPermit(
        municipality_id=application.municipality_id,
        application=application,
        visit=visit,
        permit_type=permit_type,
        template_version=version,
        number=number,
        result=result,
        granted_on=grant.granted_on,
        expires_on=grant.expires_on,
        description=grant.description,
        portion_of_building=grant.portion_of_building,
        snapshot=snapshot,
        language=unnumbered.permit.language,  # the type's, as the PDF is written
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        issued_by=actor,
        issued_at=issued_at,
    )
    # One folder per municipality: two municipalities may both issue OCC-2026-0004, and a
    # document's final name is never suffixed or shared (core.files).
    files.save(permit.pdf, f"{application.municipality.slug}/{number}.pdf", pdf)
    permit.save()
    application_add_other_number(application=application, number=number)  # the search finds it
    PermitVerification.objects.create(permit=permit, token=verification_token)
    application_record_activity(
        application=application,
        actor=actor,
        verb="occupancy_permit_issued",
        summary=f"Occupancy permit {number} issued ({permit_type.name})",
    )
    return permit


@transaction.atomic
def visit_result_save_draft(
    *,
    visit: Visit,
    actor,
    visit_fields: dict,
    result: str = "",
    failure_reason: str = "",
    grant: GrantDetails | None = None,
) -> Visit:
    """Save draft in Inspection & visit result: the visit's fields and result (inspections)
    and, for an occupancy inspection, the grant draft. The visit stays open.

    Refused with VisitAlreadyClosed when the visit was closed meanwhile.
    Side effects: the Visit row's draft fields; the visit's GrantDraft created or updated,
    with its checklist marks replaced.
    """
    try:
        visit = inspection_services.visit_save_draft(
            visit=visit, actor=actor, result=result, failure_reason=failure_reason, **visit_fields
        )
    except VisitNotOpen as exc:
        raise VisitAlreadyClosed(str(exc)) from exc
    if grant is not None:
        draft, _ = GrantDraft.objects.update_or_create(
            visit=visit,
            defaults={
                "template": grant.template,
                "granted_on": grant.granted_on,
                "description": grant.description,
                "portion_of_building": grant.portion_of_building,
                "expires_on": grant.expires_on,
            },
        )
        # The checklist marks: only conditions of this municipality's permit types.
        known = set(
            OccupancyCondition.objects.filter(
                pk__in=grant.conditions,
                permit_type__municipality_id=visit.inspection.application.municipality_id,
            ).values_list("pk", flat=True)
        )
        draft.conditions.all().delete()
        GrantDraftCondition.objects.bulk_create(
            GrantDraftCondition(draft=draft, condition_id=pk, mark=mark)
            for pk, mark in grant.conditions.items()
            if pk in known and mark
        )
    return visit


# PostgreSQL's error codes for a lock wait over lock_timeout and a statement over
# statement_timeout (psycopg raises them as LockNotAvailable and QueryCanceled).
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"


def _bound_close_transaction() -> None:
    """Bound the close's transaction on PostgreSQL: a lock waited for longer than
    CLOSE_LOCK_TIMEOUT_MS (the permit number, held by another close of the municipality) or a
    statement running longer than CLOSE_STATEMENT_TIMEOUT_MS fails the close cleanly instead
    of holding a worker until the server's timeout kills it. SQLite (make run) takes one
    writer at a time and waits for its own busy timeout."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # set_config(..., true) is SET LOCAL: it ends with this transaction.
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true), "
            "set_config('statement_timeout', %s, true)",
            [f"{settings.CLOSE_LOCK_TIMEOUT_MS}ms", f"{settings.CLOSE_STATEMENT_TIMEOUT_MS}ms"],
        )


def visit_finish_and_close(
    *,
    visit: Visit,
    actor,
    result: str,
    failure_reason: str = "",
    grant: GrantDetails | None = None,
    expected_fingerprint: str | None = None,
) -> CloseOutcome:
    """Finish and Close Inspection: all or nothing, in one transaction, in this order:
    lock the visit; check the draft and the rules, once; close the visit and the inspection;
    only then, for a grant, take the permit number and render, sign and store the permit
    (occupancy_permit_issue), so that the number's lock, which every other close of the
    municipality waits for, is held for that one render and the commit.

    Side effects: for a grant, the occupancy permit issued (number, PDF, snapshot); the
    visit closed and frozen; the inspection closed, or left open for a new visit after a
    failing result; a general (full) permit moves the application to Occupied. After
    commit, the inspection report is rendered and stored by a job (inspections.tasks), which
    then has the applicant e-mailed the documents (occupancy.apps).
    If anything fails, no row changes and every file written is removed again.
    A second close of the same visit raises VisitAlreadyClosed naming who closed it and when;
    a close the rules refuse (occupancy.rules.grant_refusals, checked under the visit lock)
    raises GrantRefused with the message for each field.
    With `expected_fingerprint` (what the confirmation page showed,
    occupancy.confirmation.draft_fingerprint), a visit whose saved draft no longer has it
    under the lock, or whose saved draft is not what `result` and `grant` say, raises
    DraftChanged.
    On PostgreSQL a close that waits longer than CLOSE_LOCK_TIMEOUT_MS for a lock (another
    close of the municipality holding the number) raises CloseInProgress, and one statement
    running longer than CLOSE_STATEMENT_TIMEOUT_MS a CloseError; nothing is closed.
    """
    is_grant = result in GRANT_RESULTS
    try:
        with FilesWrittenGuard() as files, transaction.atomic():
            _bound_close_transaction()
            visit = inspection_services.lock_visit_for_close(visit)
            # Read once under the lock, for the fingerprint, the rules' counts and the
            # permit's list (issue 16: they were read three times and counted four).
            matters = inspection_rules.outstanding_at(visit, for_grant=is_grant)
            if expected_fingerprint is not None:
                draft = saved_grant_draft(visit)
                if not (
                    draft_unchanged(
                        visit=visit, fingerprint=expected_fingerprint, matters=matters, draft=draft
                    )
                    and arguments_match_draft(
                        visit=visit,
                        result=result,
                        failure_reason=failure_reason,
                        grant=grant,
                        draft=draft,
                    )
                ):
                    raise DraftChanged(
                        gettext("Nothing was closed: the draft changed since it was confirmed.")
                    )
            # The rules, once: grant_refusals starts from inspections' result rules, so
            # visit_close does not count the outstanding matters again.
            refusals = grant_refusals(
                visit=visit,
                result=result,
                failure_reason=failure_reason,
                grant=grant,
                actor=actor,
                matters=matters,
            )
            if refusals:
                raise GrantRefused(refusals)
            closed_at = timezone.now()
            visit = inspection_services.visit_close(
                visit=visit,
                actor=actor,
                result=result,
                failure_reason=failure_reason,
                closed_at=closed_at,
                rules_checked=True,
            )
            permit = None
            if is_grant:
                permit = occupancy_permit_issue(
                    visit=visit,
                    actor=actor,
                    result=result,
                    grant=grant,
                    files=files,
                    issued_at=closed_at,
                    matters=matters,
                )
            if permit is not None and permit.permit_type.kind == PermitKind.GENERAL:
                application_set_status(
                    application=visit.inspection.application,
                    status=ApplicationStatus.OCCUPIED,
                    actor=actor,
                    reason=f"occupancy permit {permit.number} issued",
                )
        # After the commit: the job renders the report (it prints the permit's number) out
        # of this request, and then has the documents mailed (occupancy.apps).
        inspection_services.visit_report_queue(
            visit=visit, permit_number=permit.number if permit else ""
        )
    except VisitNotOpen as exc:
        raise VisitAlreadyClosed(str(exc)) from exc
    except VisitError as exc:
        raise CloseError(gettext("Nothing was closed: %(error)s") % {"error": exc}) from exc
    except PdfRenderError as exc:
        raise CloseError(
            gettext("Nothing was closed: %(error)s Try again; if it persists, call support.")
            % {"error": exc}
        ) from exc
    except DocumentNameTaken as exc:
        raise CloseError(gettext("Nothing was closed: %(error)s") % {"error": exc}) from exc
    except OperationalError as exc:
        sqlstate = getattr(exc.__cause__, "sqlstate", None)
        if sqlstate == LOCK_NOT_AVAILABLE:
            raise CloseInProgress() from exc
        if sqlstate == QUERY_CANCELED:
            raise CloseError(
                gettext(
                    "Nothing was closed: the close took too long and was stopped. Try again; "
                    "if it persists, call support."
                )
            ) from exc
        raise
    return CloseOutcome(visit=visit, permit=permit)


def close_documents_when_report_stored(sender, *, visit: Visit, **kwargs) -> None:
    """The receiver of inspections.signals.visit_report_stored (connected in occupancy.apps):
    once a closed visit's report is stored, the applicant is e-mailed the documents of its
    close, the occupancy permit issued on it (if any) and the report, as the closer.
    Side effects: one core.Delivery and its job (occupancy.notifications)."""
    permit = OccupancyPermit.objects.filter(visit_id=visit.pk).first()
    close_documents_email_queue(visit=visit, permit=permit, actor=visit.closed_by)


@transaction.atomic
def permit_template_save(
    *, template: OccupancyPermitTemplate, actor, change_note: str = ""
) -> OccupancyPermitTemplate:
    """Save a permit template as a new version (the stylesheet must have been validated).

    Issued permits keep pointing at the version they were rendered with. The body is
    checked here too (occupancy.template_validation, the form's rules): a body that would
    issue a permit without its number, address, granted date or municipality, or that
    exceeds the sandbox's limits, raises ValidationError and nothing is saved.
    Side effects: the template saved with version + 1 (1 for a new one); one
    OccupancyPermitTemplateVersion holding the body and the stylesheet.
    """
    validate_template_body(template.body, permit_type=template.permit_type)
    if template.pk is None:
        template.version = 1
        template.save()
    else:
        last = (
            OccupancyPermitTemplateVersion.objects.filter(template=template)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        ) or 0
        template.version = last + 1
        template.save()
    OccupancyPermitTemplateVersion.objects.create(
        template=template,
        version=template.version,
        body=template.body,
        stylesheet=template.stylesheet,
        created_by=actor,
    )
    activity_record(
        municipality_id=template.municipality_id,
        actor=actor,
        verb="permit_template_saved",
        summary=f"Occupancy permit template {template.name} saved as version {template.version}",
    )
    return template


@transaction.atomic
def permit_template_copy(*, template: OccupancyPermitTemplate, actor) -> OccupancyPermitTemplate:
    """Copy a template under a new name, inactive until an administrator activates it.

    Side effects: a new OccupancyPermitTemplate and its version 1.
    """
    name = f"Copy of {template.name}"
    taken = set(
        OccupancyPermitTemplate.objects.filter(
            municipality_id=template.municipality_id, name__startswith=name
        ).values_list("name", flat=True)
    )
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} ({n})", n + 1
    copy = OccupancyPermitTemplate(
        municipality_id=template.municipality_id,
        permit_type_id=template.permit_type_id,
        name=candidate[:100],
        body=template.body,
        stylesheet=template.stylesheet,
        is_active=False,
    )
    return permit_template_save(template=copy, actor=actor)


def permit_template_preview(*, body: str, stylesheet: str = "", permit_type, municipality) -> bytes:
    """Render a template body and stylesheet with sample data; writes nothing anywhere.
    The stylesheet as typed is cached by its text, not under a saved version's key."""
    return render_permit_pdf(
        body=body,
        stylesheet=stylesheet,
        snapshot=PermitSnapshot.sample(
            permit_type=permit_type, municipality=municipality
        ).to_json(),
        municipality=municipality,
    )


def occupancy_permit_revoke(
    *, permit: OccupancyPermit, actor, reason: str, revoked_on: datetime.date
):
    """Revoke an issued permit with a written reason and an effective date.

    Refused (RevocationRefused with the refusals per field) when occupancy.rules.
    revocation_refusals refuses it, checked again under the permit's lock: a second
    revocation (another tab, another official) waits for the first, then is refused.
    The permit's data and PDF stay unchanged; only its status becomes Revoked.
    Side effects: one OccupancyPermitRevocation with its notice PDF (stored with its
    SHA-256); the permit's status; an Activity on the application.
    """
    from occupancy.documents import render_revocation_pdf
    from occupancy.models import OccupancyPermitRevocation, PermitStatus

    reason = reason.strip()
    try:
        with FilesWrittenGuard() as files, transaction.atomic():
            permit = OccupancyPermit.objects.select_for_update().get(pk=permit.pk)
            if refusals := revocation_refusals(permit=permit, reason=reason, revoked_on=revoked_on):
                raise RevocationRefused(refusals)
            revocation = OccupancyPermitRevocation(
                permit=permit, reason=reason, revoked_on=revoked_on, revoked_by=actor
            )
            pdf = render_revocation_pdf(revocation=revocation)
            try:
                pdf = sign_pdf(pdf, municipality=permit.municipality, reason=REVOCATION_REASON)
            except SigningError as exc:
                raise RevocationRefused(
                    gettext("Nothing was revoked: the notice could not be signed: %(error)s")
                    % {"error": exc}
                ) from exc
            revocation.notice_sha256 = hashlib.sha256(pdf).hexdigest()
            files.save(
                revocation.notice_pdf,
                f"{permit.municipality.slug}/{permit.number}-revocation.pdf",
                pdf,
            )
            revocation.save()
            OccupancyPermit.objects.filter(pk=permit.pk).update(status=PermitStatus.REVOKED)
            permit.status = PermitStatus.REVOKED
            application_record_activity(
                application=permit.application,
                actor=actor,
                verb="occupancy_permit_revoked",
                summary=(
                    f"Occupancy permit {permit.number} revoked effective {revoked_on:%Y-%m-%d}: "
                    f"{excerpt(reason, 200)}"
                ),
            )
    except (PdfRenderError, DocumentNameTaken) as exc:
        raise RevocationRefused(gettext("Nothing was revoked: %(error)s") % {"error": exc}) from exc
    return revocation

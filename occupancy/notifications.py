"""The e-mails occupancy sends the applicant, asked for through core.mail (sent by a job)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext, override

from core.mail import Attachment, delivery_queue
from core.models import Delivery, DeliveryKind
from inspections.models import Visit
from occupancy.models import OccupancyPermit


def _close_documents_text(*, visit: Visit, permit: OccupancyPermit | None) -> tuple[str, str]:
    """The subject and body of the close's e-mail, in the active language."""
    application = visit.inspection.application
    result = visit.get_result_display()
    if permit:
        subject = gettext("Occupancy permit %(number)s for %(address)s") % {
            "number": permit.number,
            "address": application.full_address,
        }
    else:
        subject = gettext("Inspection result for %(address)s: %(result)s") % {
            "address": application.full_address,
            "result": result,
        }
    summary = gettext(
        "%(inspection_type)s inspection of application %(number)s, visit %(sequence)s: %(result)s."
    ) % {
        "inspection_type": visit.inspection.inspection_type.name,
        "number": application.number,
        "sequence": visit.sequence,
        "result": result,
    }
    body = (
        f"{summary}\n\n"
        + gettext("The documents are attached.")
        + f"\n\n{application.municipality.name}, {application.municipality.department_name}"
    )
    return subject, body


def close_documents_email_queue(
    *, visit: Visit, permit: OccupancyPermit | None, actor
) -> Delivery | None:
    """Ask for the e-mail that sends the applicant the documents of a closed visit: the
    occupancy permit issued at the close (if any) and the visit's inspection report once it
    is stored. None when the application has no applicant e-mail.

    Call it once the documents' rows are committed (or in their transaction: the job is
    enqueued after commit). A visit whose report is not stored yet is mailed without it.
    Side effects: one core.Delivery and its job (core.mail.delivery_queue).
    """
    application = visit.inspection.application
    if not application.applicant_email:
        return None
    # In the application's language of correspondence, whoever closed the visit.
    with override(application.correspondence_language or settings.LANGUAGE_CODE):
        subject, body = _close_documents_text(visit=visit, permit=permit)
    attachments = []
    if permit is not None:
        attachments.append(
            Attachment(name=permit.pdf.name, filename=f"{permit.number}.pdf",
                       sha256=permit.pdf_sha256)
        )  # fmt: skip
    if visit.report_pdf and visit.report_sha256:
        attachments.append(
            Attachment(
                name=visit.report_pdf.name,
                filename=f"inspection-report-visit-{visit.sequence}.pdf",
                sha256=visit.report_sha256,
            )
        )
    return delivery_queue(
        application=application,
        municipality=application.municipality,
        to=application.applicant_email,
        subject=subject,
        body=body,
        attachments=attachments,
        actor=actor,
        kind=DeliveryKind.CLOSE_DOCUMENTS,
    )

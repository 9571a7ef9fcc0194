"""The e-mails occupancy sends the applicant, asked for through core.mail (sent by a job)."""

from __future__ import annotations

from core.mail import Attachment, delivery_queue
from core.models import Delivery, DeliveryKind
from inspections.models import Visit
from occupancy.models import OccupancyPermit


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
    result = visit.get_result_display()
    subject = (
        f"Occupancy permit {permit.number} for {application.full_address}"
        if permit
        else f"Inspection result for {application.full_address}: {result}"
    )
    body = (
        f"{visit.inspection.inspection_type.name} inspection of application "
        f"{application.number}, visit {visit.sequence}: {result}.\n\n"
        "The documents are attached.\n\n"
        f"{application.municipality.name}, {application.municipality.department_name}"
    )
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

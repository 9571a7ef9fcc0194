"""Background jobs of inspections (run by `manage.py db_worker`, see core.jobs): the
inspection report of a closed visit.

The report is rendered after the close has committed, not inside it: the close of an
occupancy grant holds the municipality's permit-number lock, and one render there made every
other close of the municipality wait (issue 16). The visit is closed with an empty report;
this job renders it from the frozen visit (what it prints cannot change any more: the visit,
its findings, orders and photos are records, and the outstanding matters are counted up to
its sequence), stores it with its SHA-256 and then tells whoever waits for it
(`inspections.signals.visit_report_stored`: occupancy mails the applicant the documents).
"""

from __future__ import annotations

import hashlib
import logging

from django.db import transaction
from django_tasks import task

from core.files import FilesWrittenGuard
from core.jobs import retry_later
from core.pdf import PdfRenderError
from inspections.models import Visit, VisitStatus

logger = logging.getLogger(__name__)


def report_file_name(visit: Visit) -> str:
    inspection = visit.inspection
    return f"{inspection.application.number}-{inspection.code}-visit-{visit.sequence}.pdf"


def _closed_visit_without_report(visit_id: int) -> Visit | None:
    # get(), not first(): one row by its key, without Visit's default ordering (which
    # joins the inspection, the application and the inspection type to sort it).
    try:
        return Visit.objects.select_related(
            "inspection__application__municipality", "closed_by"
        ).get(pk=visit_id, status=VisitStatus.CLOSED, report_pdf="")
    except Visit.DoesNotExist:
        return None


@task()
def visit_report_render(visit_id: int, permit_number: str = "", attempt: int = 1) -> bool:
    """Render and store the inspection report of closed visit `visit_id`, which prints
    `permit_number` (the occupancy permit issued at its close, if any). True when this run
    stored it.

    Idempotent: a visit whose report is stored already (a job enqueued twice, a re-enqueue
    by recover_documents racing the first) is left as it is, and its report is stored once.
    A render failure is retried later (core.jobs.retry_later); verify_records reports a
    report still missing long after the close.
    Side effects: the report PDF written (under a pending name until the commit,
    core.files) and Visit.report_pdf and report_sha256 set, from empty, in one short
    transaction (the only change inspections 0009 lets a closed visit have); then the
    signal visit_report_stored.
    """
    from inspections.reports import render_visit_report
    from inspections.signals import visit_report_stored

    visit = _closed_visit_without_report(visit_id)
    if visit is None:
        return False
    # Rendered before any transaction: a render holds no lock and no connection state.
    try:
        pdf = render_visit_report(visit=visit, permit_number=permit_number)
    except PdfRenderError:
        logger.exception("The inspection report of visit %s could not be rendered", visit_id)
        if not retry_later(visit_report_render, visit_id, permit_number, attempt=attempt):
            logger.error("Giving up on the inspection report of visit %s", visit_id)
        return False
    with FilesWrittenGuard() as files, transaction.atomic():
        # Under the visit's lock: of two runs at once, the second finds the report stored.
        # The visit's row only, unordered: first() sorted by Visit's default ordering, which
        # joins the inspection, its application and its type, and FOR UPDATE locked their
        # rows too, so the job waited for any change to the application (another close) and
        # every report of the type waited for each other (issue 16).
        locked = (
            Visit.objects.select_for_update(of=("self",))
            .filter(pk=visit_id, report_pdf="")
            .order_by()
            .first()
        )
        if locked is None:
            return False
        files.save(visit.report_pdf, report_file_name(visit), pdf)
        visit.report_sha256 = hashlib.sha256(pdf).hexdigest()
        Visit.objects.filter(pk=visit_id).update(
            report_pdf=visit.report_pdf.name, report_sha256=visit.report_sha256
        )
    # After the guard: the file has its final name once the transaction committed.
    visit_report_stored.send(sender=Visit, visit=visit)
    return True

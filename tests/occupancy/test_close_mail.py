"""The applicant's e-mail after Finish and Close: asked for by the close (one core.Delivery),
sent by the job worker with the permit and the inspection report; a mail server that never
answers neither fails the close nor keeps the inspector's request waiting."""

import hashlib

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.models import Activity, Delivery, DeliveryKind, DeliveryStatus
from inspections.models import Visit, VisitStatus
from occupancy.models import OccupancyPermit
from tests.conftest import client_for
from tests.core.test_mail_jobs import DATABASE_TASKS, WORKER, SilentSmtpServer, smtp_to
from tests.occupancy.test_crash_files import close, new_visit
from tests.occupancy.test_finish_and_close import confirm, finish, grant_data

YEAR = timezone.localdate().year


def test_the_close_queues_one_mail_and_the_applicant_gets_both_pdfs(
    inspector, application_a, occupancy_type_a, general_template
):
    outcome = close(new_visit(application_a, occupancy_type_a, inspector), inspector,
                    general_template)  # fmt: skip

    delivery = Delivery.objects.get()
    assert (delivery.kind, delivery.recipient, delivery.actor, delivery.status) == (
        DeliveryKind.CLOSE_DOCUMENTS, "priya@example.com", inspector, DeliveryStatus.SENT
    )  # fmt: skip
    [message] = mail.outbox
    assert message.to == ["priya@example.com"]
    assert message.subject == f"Occupancy permit OCC-{YEAR}-0001 for 47 Maple Crescent, Alpha"
    attached = {name: content for name, content, _ in message.attachments}
    assert list(attached) == [f"OCC-{YEAR}-0001.pdf", "inspection-report-visit-1.pdf"]
    visit = Visit.objects.get(pk=outcome.visit.pk)
    assert hashlib.sha256(attached[f"OCC-{YEAR}-0001.pdf"]).hexdigest() == (
        outcome.permit.pdf_sha256
    )
    assert hashlib.sha256(attached["inspection-report-visit-1.pdf"]).hexdigest() == (
        visit.report_sha256
    )
    assert Activity.objects.filter(application=application_a, verb="delivery_sent").count() == 1


def test_a_close_without_an_applicant_address_asks_for_no_mail(
    inspector, application_a, occupancy_type_a, general_template
):
    application_a.applicant_email = ""
    application_a.save(update_fields=["applicant_email"])

    close(new_visit(application_a, occupancy_type_a, inspector), inspector, general_template)

    assert not Delivery.objects.exists()
    assert mail.outbox == []


# The worker commits and closes connections: this test commits for real.
@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_never_answers_neither_fails_nor_holds_up_the_close(
    inspector, occupancy, open_visit, general_template, settings
):
    settings.TASKS = DATABASE_TASKS
    client = client_for(inspector)
    with SilentSmtpServer() as server:
        smtp_to(settings, server.port, timeout=1)
        finish(client, occupancy, grant_data(general_template))

        response = confirm(client, occupancy)

        assert [str(m) for m in response.context["messages"]] == [
            f"Inspection closed. Occupancy permit OCC-{YEAR}-0001 issued."
        ]
        assert Visit.objects.get(pk=open_visit.pk).status == VisitStatus.CLOSED
        assert OccupancyPermit.objects.get().number == f"OCC-{YEAR}-0001"
        # The request returned without a word to the mail server: the mail waits in the queue
        # for the worker (asked for by the close, or by the report's job once it has run).
        assert server.accepted == 0
        assert list(Delivery.objects.values_list("status", "attempts")) in (
            [(DeliveryStatus.QUEUED, 0)],
            [],
        )

        call_command(*WORKER)

        assert server.accepted == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.QUEUED, 1, "SMTP server did not answer within 1 s"
    )  # fmt: skip
    retry = DBTaskResult.objects.get(task_path="core.tasks.delivery_send", status="READY")
    assert retry.args_kwargs == {"args": [delivery.pk], "kwargs": {"attempt": 2}}
    assert retry.run_after > timezone.now()
    # What the clerk sees on the application's page.
    page = client.get(occupancy.application.get_absolute_url()).content.decode()
    assert "attempt 1 failed: SMTP server did not answer within 1 s; it will be tried again" in (
        page
    )

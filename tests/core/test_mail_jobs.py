"""E-mail through the job queue (core.mail, core.tasks): a request records the mail, a job
sends it with its stored documents, retries with backoff while the server fails, records
the outcome on the application's history, and never sends one delivery twice; Resend on the
application's page queues the same message again."""

import dataclasses
import datetime
import hashlib
import io
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.mail import Attachment, delivery_queue, delivery_resend
from core.models import Activity, Delivery, DeliveryKind, DeliveryStatus
from core.tasks import delivery_send
from tests.conftest import client_for, make_application
from tests.factories import make_delivery

ROOT = Path(__file__).resolve().parents[2]
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
SUBJECT = "Inspection result for 47 Maple Crescent: Not granted"
WORKER = ("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay")


class SilentSmtpServer:
    """A mail server that accepts connections and never says a word, not even its greeting:
    what a hung relay looks like from here. `accepted` counts the connections it took."""

    def __init__(self):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self.port = self._socket.getsockname()[1]
        self._connections = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def accepted(self) -> int:
        return len(self._connections)

    def _serve(self):
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:  # closed by __exit__
                return
            self._connections.append(conn)  # kept open, never written to

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        # A close alone does not wake the thread blocked in accept() (Linux): the join then
        # waited out its 5 s on every test; a shutdown makes accept() raise at once.
        self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        for conn in self._connections:
            conn.close()
        self._thread.join(timeout=5)


def smtp_to(settings, port: int, timeout: int = 20):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, timeout
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


def closed_port() -> int:
    """A local port nothing listens on: a connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stored_document(name: str, content: bytes) -> Attachment:
    stored = default_storage.save(name, ContentFile(content))
    return Attachment(
        name=stored, filename=name.rsplit("/", 1)[-1], sha256=hashlib.sha256(content).hexdigest()
    )


def queue(application, attachments=(), actor=None) -> Delivery:
    return delivery_queue(
        application=application,
        municipality=application.municipality,
        to="priya@example.com",
        subject=SUBJECT,
        body="The documents are attached.",
        attachments=attachments,
        actor=actor,
        kind=DeliveryKind.CLOSE_DOCUMENTS,
    )


def history(application) -> list[tuple[str, str]]:
    return list(
        Activity.objects.filter(application=application, verb__startswith="delivery_")
        .order_by("at", "id")
        .values_list("verb", "summary")
    )


def test_a_queued_mail_is_sent_with_its_documents_and_recorded(application_a, inspector):
    permit = stored_document("occupancy/alpha/OCC-2026-0001.pdf", b"%PDF-1.7 permit")
    report = stored_document("reports/report-1.pdf", b"%PDF-1.7 report")

    delivery = queue(application_a, [permit, report], actor=inspector)

    [message] = mail.outbox
    assert (message.to, message.subject, message.body) == (
        ["priya@example.com"], SUBJECT, "The documents are attached."
    )  # fmt: skip
    assert message.attachments == [
        ("OCC-2026-0001.pdf", b"%PDF-1.7 permit", "application/pdf"),
        ("report-1.pdf", b"%PDF-1.7 report", "application/pdf"),
    ]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error, delivery.actor) == (
        DeliveryStatus.SENT, 1, "", inspector
    )  # fmt: skip
    assert delivery.sent_at is not None
    assert history(application_a) == [
        ("delivery_sent", f"E-mail to priya@example.com sent: {SUBJECT}")
    ]


def test_a_document_changed_since_it_was_recorded_is_not_sent_and_says_why(application_a):
    report = stored_document("reports/report-1.pdf", b"%PDF-1.7 report")
    with default_storage.open(report.name, "wb") as handle:
        handle.write(b"%PDF-1.7 another report")

    delivery = queue(application_a, [report])

    assert mail.outbox == []
    delivery.refresh_from_db()
    reason = (
        "report-1.pdf no longer matches the SHA-256 recorded for it: not sent "
        "(run verify_records)"
    )
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.FAILED, 1, reason
    )  # fmt: skip
    assert history(application_a) == [
        ("delivery_failed", f"E-mail to priya@example.com failed after 1 attempt: {reason}")
    ]


def test_a_missing_document_is_not_sent_and_says_why(application_a):
    report = stored_document("reports/report-1.pdf", b"%PDF-1.7 report")
    default_storage.delete(report.name)

    delivery = queue(application_a, [report])

    assert mail.outbox == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (
        DeliveryStatus.FAILED, "report-1.pdf is missing from storage: not sent"
    )  # fmt: skip


def test_retries_used_up_mark_the_mail_failed_with_its_reason_on_the_history(
    application_a, settings
):
    smtp_to(settings, closed_port())

    # The tests' job backend runs each retry at once, without the backoff's wait.
    delivery = queue(application_a)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error, delivery.sent_at) == (
        DeliveryStatus.FAILED, 5, "connection refused", None
    )  # fmt: skip
    assert history(application_a) == [
        (
            "delivery_failed",
            "E-mail to priya@example.com failed after 5 attempts: connection refused",
        )
    ]


def test_a_job_run_again_for_a_sent_mail_sends_nothing(application_a):
    delivery = queue(application_a)
    assert len(mail.outbox) == 1

    assert delivery_send.call(delivery.pk, 1) == "skipped"
    assert delivery_send.call(delivery.pk, 2) == "skipped"

    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)


def test_an_attempt_another_worker_has_claimed_is_not_sent_twice(application_a):
    # As a second worker sees it while the first is talking to the mail server.
    delivery = Delivery.objects.create(
        municipality=application_a.municipality,
        application=application_a,
        kind=DeliveryKind.CLOSE_DOCUMENTS,
        recipient="priya@example.com",
        subject=SUBJECT,
        body="The documents are attached.",
        attempts=1,
    )

    assert delivery_send.call(delivery.pk, 1) == "skipped"

    assert mail.outbox == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 1)


# The worker closes the connection of a transaction it finds open (close_old_connections):
# a test of it commits for real.
@pytest.mark.django_db(transaction=True)
def test_a_silent_smtp_server_times_out_in_the_worker_which_schedules_a_retry(
    application_a, settings
):
    settings.TASKS = DATABASE_TASKS
    with SilentSmtpServer() as server:
        smtp_to(settings, server.port, timeout=1)

        delivery = queue(application_a)

        # Asked for, not sent: nothing talked to the mail server yet.
        assert server.accepted == 0
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 0)
        [job] = DBTaskResult.objects.all()
        assert (job.task_path, job.args_kwargs) == (
            "core.tasks.delivery_send", {"args": [delivery.pk], "kwargs": {}}
        )  # fmt: skip

        call_command(*WORKER)

        assert server.accepted == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.QUEUED, 1, "SMTP server did not answer within 1 s"
    )  # fmt: skip
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs == {"args": [delivery.pk], "kwargs": {"attempt": 2}}
    assert retry.run_after > timezone.now()  # after the first backoff delay (core.jobs)
    assert history(application_a) == []  # not failed yet: the history shows the outcome


# Resend, on the application's page


def stored_delivery(application, **fields) -> Delivery:
    """A delivery row as a job left it (no job enqueued): `fields` say how."""
    return make_delivery(
        application, subject=SUBJECT, body="The documents are attached.", **fields
    )


def failed_delivery(application) -> Delivery:
    return stored_delivery(
        application, status=DeliveryStatus.FAILED, attempts=5, last_error="connection refused"
    )


def resend(client, application, delivery_id):
    path = reverse("permits:application_delivery_resend", args=["alpha", application.number])
    return client.post(path, {"delivery": delivery_id}, follow=True)


def everything_of(application):
    return (
        list(Delivery.objects.order_by("id").values()),
        list(Activity.objects.order_by("id").values()),
    )


def test_resend_queues_the_same_message_again_and_the_page_shows_it_sent(
    application_a, clerk, django_capture_on_commit_callbacks
):
    report = stored_document("reports/report-1.pdf", b"%PDF-1.7 report")
    failed = failed_delivery(application_a)
    Delivery.objects.filter(pk=failed.pk).update(attachments=[dataclasses.asdict(report)])

    client = client_for(clerk)
    path = reverse("permits:application_delivery_resend", args=["alpha", application_a.number])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"delivery": failed.pk})

    assert response["Location"] == application_a.get_absolute_url() + "#history"
    response = client.get(response["Location"])
    assert [str(m) for m in response.context["messages"]] == [
        "The e-mail to priya@example.com is queued to be sent again."
    ]
    [message] = mail.outbox
    assert (message.to, message.subject) == (["priya@example.com"], SUBJECT)
    assert message.attachments == [("report-1.pdf", b"%PDF-1.7 report", "application/pdf")]
    fresh = Delivery.objects.get(resend_of=failed)
    assert (fresh.status, fresh.actor, fresh.attachments) == (
        DeliveryStatus.SENT, clerk, [dataclasses.asdict(report)]
    )  # fmt: skip
    failed.refresh_from_db()
    assert (failed.status, failed.last_error) == (DeliveryStatus.FAILED, "connection refused")
    resent = Activity.objects.get(verb="delivery_resend")
    assert (resent.actor, resent.summary) == (
        clerk, f"E-mail to priya@example.com queued again: {SUBJECT}"
    )  # fmt: skip
    page = response.content.decode()
    assert "Failed</span>: connection refused" in page
    assert f"Sent</span> at {timezone.localtime(fresh.sent_at):%Y-%m-%d %H:%M}" in page


def test_resend_is_refused_to_a_viewer_and_to_another_municipality(
    application_a, viewer, inspector_b
):
    failed = failed_delivery(application_a)
    before = everything_of(application_a)

    assert resend(client_for(viewer), application_a, failed.pk).status_code == 403
    assert resend(client_for(inspector_b), application_a, failed.pk).status_code == 404

    assert everything_of(application_a) == before
    assert mail.outbox == []


def test_resend_only_accepts_a_post_of_a_mail_of_that_application(
    application_a, municipality_a, clerk
):
    other = make_application(municipality_a, number="B-2026-0002")
    failed_elsewhere = failed_delivery(other)
    client = client_for(clerk)
    path = reverse("permits:application_delivery_resend", args=["alpha", application_a.number])
    before = everything_of(application_a)

    assert client.get(path).status_code == 405
    assert resend(client, application_a, failed_elsewhere.pk).status_code == 404
    assert resend(client, application_a, "not-a-number").status_code == 404

    assert everything_of(application_a) == before


def test_resend_of_a_mail_still_queued_is_refused_with_a_message(application_a, clerk):
    queued = failed_delivery(application_a)
    Delivery.objects.filter(pk=queued.pk).update(status=DeliveryStatus.QUEUED, attempts=1)
    before = everything_of(application_a)

    response = resend(client_for(clerk), application_a, queued.pk)

    assert [str(m) for m in response.context["messages"]] == [
        "The e-mail to priya@example.com is still queued; it will be sent or its failure "
        "shown here."
    ]
    assert everything_of(application_a) == before


def test_the_page_offers_resend_to_those_who_may_change_the_application(
    application_a, clerk, viewer
):
    failed_delivery(application_a)
    path = application_a.get_absolute_url()

    for_clerk = client_for(clerk).get(path).content.decode()
    for_viewer = client_for(viewer).get(path).content.decode()

    assert "Failed</span>: connection refused" in for_clerk
    assert "Failed</span>: connection refused" in for_viewer
    assert ">Resend</button>" in for_clerk
    assert ">Resend</button>" not in for_viewer


def test_the_page_makes_as_many_queries_with_one_mail_as_with_many(application_a, clerk):
    client = client_for(clerk)
    path = application_a.get_absolute_url()
    failed_delivery(application_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(path).status_code == 200
        return len(context.captured_queries)

    one = queries()
    for _ in range(30):
        failed_delivery(application_a)
    assert queries() == one


# A worker killed mid-attempt (OOM, deploy, reboot): the row stays queued and claimed


INTERRUPTED = "the sending attempt was interrupted (the job worker stopped)"


def claimed_delivery(application, minutes_ago: float, attempts: int = 1) -> Delivery:
    """A delivery whose attempt `attempts` a job claimed `minutes_ago` and never finished."""
    return stored_delivery(
        application,
        attempts=attempts,
        attempt_started_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
    )


def test_the_claim_records_its_time_and_the_outcome_clears_it(application_a, settings, monkeypatch):
    seen = []
    real_send = EmailMessage.send

    def observing(message, *args, **kwargs):
        seen.append(Delivery.objects.values_list("attempt_started_at", flat=True).get())
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", observing)
    before = timezone.now()
    delivery = queue(application_a)

    [started] = seen
    assert before <= started <= timezone.now()  # claimed while it talked to the server
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_started_at) == (DeliveryStatus.SENT, None)

    smtp_to(settings, closed_port())
    seen.clear()
    failed = queue(application_a)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.attempt_started_at) == (
        DeliveryStatus.FAILED, 5, None
    )  # fmt: skip


def test_an_interrupted_attempt_may_be_resent_and_is_failed_with_the_reason_first(
    application_a, clerk, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_ATTEMPT_STALE_MINUTES = 15
    stuck = claimed_delivery(application_a, minutes_ago=16)
    client = client_for(clerk)

    page = client.get(application_a.get_absolute_url()).content.decode()
    assert (
        "Interrupted</span>: attempt 1 was cut off when the job worker stopped; it may not "
        "have been sent"
    ) in page
    assert ">Resend</button>" in page

    path = reverse("permits:application_delivery_resend", args=["alpha", application_a.number])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"delivery": stuck.pk}, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "The e-mail to priya@example.com is queued to be sent again."
    ]
    [message] = mail.outbox
    assert (message.to, message.subject) == (["priya@example.com"], SUBJECT)
    stuck.refresh_from_db()
    assert (stuck.status, stuck.attempts, stuck.last_error, stuck.attempt_started_at) == (
        DeliveryStatus.FAILED, 1, INTERRUPTED, None
    )  # fmt: skip
    fresh = Delivery.objects.get(resend_of=stuck)
    assert (fresh.status, fresh.actor) == (DeliveryStatus.SENT, clerk)
    assert history(application_a) == [
        ("delivery_failed", f"E-mail to priya@example.com failed after 1 attempt: {INTERRUPTED}"),
        ("delivery_resend", f"E-mail to priya@example.com queued again: {SUBJECT}"),
        ("delivery_sent", f"E-mail to priya@example.com sent: {SUBJECT}"),
    ]
    assert f"Failed</span>: {INTERRUPTED}" in response.content.decode()
    # The lost job's next attempt, should it ever run, sends nothing more.
    assert delivery_send.call(stuck.pk, 2) == "skipped"
    assert len(mail.outbox) == 1


def test_a_live_attempt_still_refuses_resend_and_nothing_changes(application_a, clerk, settings):
    settings.DELIVERY_ATTEMPT_STALE_MINUTES = 15
    live = claimed_delivery(application_a, minutes_ago=14)
    client = client_for(clerk)
    page = client.get(application_a.get_absolute_url()).content.decode()
    assert ">Resend</button>" not in page
    assert "Interrupted" not in page
    before = everything_of(application_a)

    response = resend(client, application_a, live.pk)

    assert [str(m) for m in response.context["messages"]] == [
        "The e-mail to priya@example.com is still queued; it will be sent or its failure "
        "shown here."
    ]
    assert everything_of(application_a) == before
    assert mail.outbox == []


def test_an_attempt_that_outlived_the_bound_and_was_sent_is_recorded_sent(
    application_a, clerk, monkeypatch
):
    """The attempt was alive after all: a Resend failed it as interrupted while it talked to
    the server, which then took the mail. The history says sent, not failed."""
    real_send = EmailMessage.send

    def resent_meanwhile(message, *args, **kwargs):
        Delivery.objects.update(attempt_started_at=timezone.now() - datetime.timedelta(hours=1))
        delivery_resend(delivery=Delivery.objects.get(), actor=clerk)
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", resent_meanwhile)
    original = queue(application_a)  # the resend's own mail waits for a commit

    original.refresh_from_db()
    assert (original.status, original.last_error) == (DeliveryStatus.SENT, "")
    assert original.sent_at is not None
    assert history(application_a) == [
        ("delivery_failed", f"E-mail to priya@example.com failed after 1 attempt: {INTERRUPTED}"),
        ("delivery_resend", f"E-mail to priya@example.com queued again: {SUBJECT}"),
        ("delivery_sent", f"E-mail to priya@example.com sent: {SUBJECT}"),
    ]


def test_recover_deliveries_queues_an_interrupted_attempt_again_and_leaves_a_live_one(
    application_a, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_ATTEMPT_STALE_MINUTES = 15
    stuck = claimed_delivery(application_a, minutes_ago=20)
    live = claimed_delivery(application_a, minutes_ago=2)
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("recover_deliveries", stdout=out)

    assert out.getvalue().splitlines() == [
        f"QUEUED e-mail {stuck.pk} to priya@example.com again",
        "1 e-mail(s) queued again, 0 failed.",
    ]
    [message] = mail.outbox
    assert message.subject == SUBJECT
    stuck.refresh_from_db()
    # The cut-off attempt counts as one; the second, queued by the command, sent it.
    assert (stuck.status, stuck.attempts, stuck.attempt_started_at) == (
        DeliveryStatus.SENT, 2, None
    )  # fmt: skip
    live.refresh_from_db()
    assert (live.status, live.attempts, live.last_error) == (DeliveryStatus.QUEUED, 1, "")
    assert live.attempt_started_at is not None
    assert history(application_a) == [
        ("delivery_requeued", f"E-mail to priya@example.com queued again: {INTERRUPTED}"),
        ("delivery_sent", f"E-mail to priya@example.com sent: {SUBJECT}"),
    ]


def test_recover_deliveries_before_the_workers_start_takes_every_claim_and_fails_the_last(
    application_a, clerk, django_capture_on_commit_callbacks
):
    """`--grace-minutes 0` (make run, before any worker): no attempt can be alive. One
    whose attempts are used up is failed with the reason, and may then be resent."""
    fresh_claim = claimed_delivery(application_a, minutes_ago=0)
    last_attempt = claimed_delivery(application_a, minutes_ago=0, attempts=5)
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("recover_deliveries", "--grace-minutes", "0", stdout=out)

    assert "1 e-mail(s) queued again, 1 failed." in out.getvalue()
    fresh_claim.refresh_from_db()
    assert (fresh_claim.status, fresh_claim.attempts) == (DeliveryStatus.SENT, 2)
    last_attempt.refresh_from_db()
    assert (last_attempt.status, last_attempt.last_error, last_attempt.attempts) == (
        DeliveryStatus.FAILED, INTERRUPTED, 5
    )  # fmt: skip
    assert (
        "delivery_failed",
        f"E-mail to priya@example.com failed after 5 attempts: {INTERRUPTED}",
    ) in history(application_a)
    assert last_attempt.may_be_resent
    page = client_for(clerk).get(application_a.get_absolute_url()).content.decode()
    assert f"Failed</span>: {INTERRUPTED}" in page


def test_the_page_says_an_interrupted_attempt_recovered_will_be_tried_again(
    application_a, clerk, settings
):
    settings.TASKS = DATABASE_TASKS  # queued, not run: what a worker would take up
    claimed_delivery(application_a, minutes_ago=60)

    call_command("recover_deliveries", stdout=io.StringIO())

    page = client_for(clerk).get(application_a.get_absolute_url()).content.decode()
    assert f"attempt 1 failed: {INTERRUPTED}; it will be tried again" in page
    assert ">Resend</button>" not in page


# A mail no job will send: its job lost before any worker claimed it (the job row deleted;
# the worker that took it killed before the claim; killed between a failed attempt and the
# retry's enqueue), stuck from before attempt_started_at existed, or whatever else left it
# queued, unclaimed and without a live job. The job queue is the database's, as in
# production: what recovery enqueues stays there to be looked at.


JOB_LOST = "no job was left to send it (its job was lost)"
LOST = "Interrupted</span>: no job is left to send it (its job was lost)"


def send_jobs(delivery) -> list[tuple[str, dict]]:
    """The send jobs naming `delivery`, oldest first: (status, arguments)."""
    jobs = DBTaskResult.objects.filter(task_path="core.tasks.delivery_send")
    return [
        (job.status, job.args_kwargs)
        for job in jobs.order_by("enqueued_at")
        if job.args_kwargs["args"] == [delivery.pk]
    ]


def minutes_ago(minutes: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=minutes)


def queued_minutes_ago(delivery, minutes: float) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(last_queued_at=minutes_ago(minutes))


def job_taken_by_a_worker(job_filter, started_minutes_ago: float) -> None:
    """A worker took the job (RUNNING) `started_minutes_ago` and has not finished it."""
    DBTaskResult.objects.filter(**job_filter).update(
        status="RUNNING", started_at=minutes_ago(started_minutes_ago), worker_ids=["w1"]
    )


def job_row_deleted(application):
    delivery = queue(application)
    DBTaskResult.objects.all().delete()  # e.g. by hand, or a restore of another dump
    queued_minutes_ago(delivery, 20)
    return delivery


def worker_killed_before_the_claim(application):
    delivery = queue(application)
    job_taken_by_a_worker({"status": "READY"}, started_minutes_ago=20)
    queued_minutes_ago(delivery, 20)
    return delivery


def worker_killed_between_a_failed_attempt_and_its_retry(application):
    # Attempt 1's job claimed, failed, cleared its claim and died before enqueuing attempt 2.
    delivery = queue(application)
    job_taken_by_a_worker({"status": "READY"}, started_minutes_ago=21)
    Delivery.objects.filter(pk=delivery.pk).update(attempts=1, last_error="connection refused")
    queued_minutes_ago(delivery, 20)
    return delivery


def stuck_from_before_attempt_started_at(application):
    # Attempt 2 of 5 claimed three days ago, before the claim had a time; no job left.
    # The migration gave it its first queued time (core 0012).
    queued = minutes_ago(3 * 24 * 60)
    return stored_delivery(
        application, attempts=2, last_error="connection refused",
        queued_at=queued, last_queued_at=queued,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_mail_its_first_queued_time(municipality_a):
    """core 0012: a row stuck before it has last_queued_at = queued_at, so that it is found
    stranded at once, not DELIVERY_ATTEMPT_STALE_MINUTES after the upgrade."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    added = ("core", "0012_delivery_last_queued_at")
    [before] = executor.loader.graph.node_map[added].parents
    executor.migrate([before.key])
    try:
        old_apps = executor.loader.project_state([before.key]).apps
        queued = minutes_ago(3 * 24 * 60)
        old_apps.get_model("core", "Delivery").objects.create(
            municipality_id=municipality_a.pk, kind="close_documents",
            recipient="priya@example.com", subject=SUBJECT, body="…",
            attempts=2, queued_at=queued,
        )  # fmt: skip
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    stuck = Delivery.objects.get()
    assert stuck.last_queued_at == queued
    assert list(Delivery.objects.stranded()) == [stuck]


def its_only_job_failed_before_the_claim(application):
    # The job raised before it claimed the delivery (the database went away): FAILED.
    delivery = queue(application)
    DBTaskResult.objects.update(status="FAILED", finished_at=minutes_ago(19))
    queued_minutes_ago(delivery, 20)
    return delivery


def its_only_job_is_for_an_attempt_already_made(application):
    # Attempt 1 was made and its retry lost; a stray job for attempt 1 would only skip.
    delivery = queue(application)
    Delivery.objects.filter(pk=delivery.pk).update(attempts=1, last_error="connection refused")
    queued_minutes_ago(delivery, 20)
    return delivery


@pytest.mark.parametrize(
    "lost",
    [
        job_row_deleted,
        worker_killed_before_the_claim,
        worker_killed_between_a_failed_attempt_and_its_retry,
        stuck_from_before_attempt_started_at,
        its_only_job_failed_before_the_claim,
        its_only_job_is_for_an_attempt_already_made,
    ],
)
def test_recover_deliveries_queues_a_mail_whose_job_was_lost_once(
    lost, application_a, clerk, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_TASKS
    settings.DELIVERY_ATTEMPT_STALE_MINUTES = 15
    delivery = lost(application_a)
    before = Delivery.objects.get(pk=delivery.pk)
    jobs_before = send_jobs(delivery)
    client = client_for(clerk)
    page = client.get(application_a.get_absolute_url()).content.decode()
    assert LOST in page
    assert ">Resend</button>" in page
    outputs = []

    for _ in range(2):  # the second run finds the first run's job live
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("recover_deliveries", stdout=out)
        outputs.append(out.getvalue().splitlines())

    assert outputs == [
        [f"QUEUED e-mail {delivery.pk} to priya@example.com again",
         "1 e-mail(s) queued again, 0 failed."],
        ["0 e-mail(s) queued again, 0 failed."],
    ]  # fmt: skip
    after = Delivery.objects.get(pk=delivery.pk)
    # Nothing was tried since: its attempts and last error stay as they were.
    assert (after.status, after.attempts, after.last_error, after.attempt_started_at) == (
        DeliveryStatus.QUEUED, before.attempts, before.last_error, None
    )  # fmt: skip
    assert after.last_queued_at > minutes_ago(1)
    next_attempt = before.attempts + 1
    assert send_jobs(delivery) == jobs_before + [
        ("READY", {"args": [delivery.pk], "kwargs": {"attempt": next_attempt}})
    ]
    assert history(application_a) == [
        ("delivery_requeued", f"E-mail to priya@example.com queued again: {JOB_LOST}")
    ]
    page = client.get(application_a.get_absolute_url()).content.decode()
    assert LOST not in page
    assert ">Resend</button>" not in page  # its job may run any moment now
    # The job queued is the one that sends it.
    assert delivery_send.call(delivery.pk, attempt=next_attempt) == "sent"
    assert len(mail.outbox) == 1


def test_recover_deliveries_fails_a_lost_mail_whose_attempts_are_used_up(
    application_a, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_TASKS
    used_up = stored_delivery(
        application_a, attempts=5, last_error="connection refused",
        last_queued_at=minutes_ago(60),
    )  # fmt: skip
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("recover_deliveries", stdout=out)

    assert "0 e-mail(s) queued again, 1 failed." in out.getvalue()
    used_up.refresh_from_db()
    assert (used_up.status, used_up.last_error) == (DeliveryStatus.FAILED, JOB_LOST)
    assert send_jobs(used_up) == []
    assert history(application_a) == [
        ("delivery_failed", f"E-mail to priya@example.com failed after 5 attempts: {JOB_LOST}")
    ]


def test_a_mail_a_live_job_will_send_is_left_alone(
    application_a, clerk, settings, django_capture_on_commit_callbacks
):
    """Queued long ago, each of these has a job that will still send it, or is being sent:
    recovering one would queue a second job, and Resend would mail the applicant twice."""
    settings.TASKS = DATABASE_TASKS
    settings.DELIVERY_ATTEMPT_STALE_MINUTES = 15
    # Its job waits for a worker (none has run for an hour).
    waiting = queue(application_a)
    queued_minutes_ago(waiting, 60)
    # Attempt 1 failed; its retry, attempt 2, waits out the backoff (run_after ahead).
    backing_off = stored_delivery(application_a, attempts=1, last_error="connection refused")
    delivery_send.using(run_after=timezone.now() + datetime.timedelta(hours=2)).enqueue(
        backing_off.pk, attempt=2
    )
    queued_minutes_ago(backing_off, 60)
    # A worker took its job a moment ago and is about to claim it.
    starting = queue(application_a)
    job_taken_by_a_worker({"args_kwargs__args": [starting.pk]}, started_minutes_ago=0.1)
    queued_minutes_ago(starting, 60)
    # Being sent now: the worker claimed attempt 1 a minute ago.
    sending = queue(application_a)
    job_taken_by_a_worker({"args_kwargs__args": [sending.pk]}, started_minutes_ago=1)
    Delivery.objects.filter(pk=sending.pk).update(attempts=1, attempt_started_at=minutes_ago(1))
    queued_minutes_ago(sending, 60)
    # Queued a moment ago: its job is enqueued after the commit.
    just_queued = stored_delivery(application_a)
    jobs = list(DBTaskResult.objects.order_by("id").values())
    before = everything_of(application_a)
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("recover_deliveries", stdout=out)

    assert out.getvalue().splitlines() == ["0 e-mail(s) queued again, 0 failed."]
    assert everything_of(application_a) == before
    assert list(DBTaskResult.objects.order_by("id").values()) == jobs
    client = client_for(clerk)
    page = client.get(application_a.get_absolute_url()).content.decode()
    assert ">Resend</button>" not in page
    assert "Interrupted" not in page
    for live in (waiting, backing_off, starting, sending, just_queued):
        response = resend(client, application_a, live.pk)
        assert [str(m) for m in response.context["messages"]] == [
            "The e-mail to priya@example.com is still queued; it will be sent or its failure "
            "shown here."
        ]
    assert everything_of(application_a) == before


def test_the_page_offers_resend_for_a_lost_mail_which_fails_it_with_the_reason_first(
    application_a, clerk, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_TASKS
    settings.DELIVERY_ATTEMPT_STALE_MINUTES = 15
    lost = job_row_deleted(application_a)
    client = client_for(clerk)

    page = client.get(application_a.get_absolute_url()).content.decode()
    assert LOST in page
    assert ">Resend</button>" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = resend(client, application_a, lost.pk)

    assert [str(m) for m in response.context["messages"]] == [
        "The e-mail to priya@example.com is queued to be sent again."
    ]
    lost.refresh_from_db()
    assert (lost.status, lost.attempts, lost.last_error) == (
        DeliveryStatus.FAILED, 0, JOB_LOST
    )  # fmt: skip
    fresh = Delivery.objects.get(resend_of=lost)
    assert send_jobs(fresh) == [("READY", {"args": [fresh.pk], "kwargs": {}})]
    assert send_jobs(lost) == []
    assert history(application_a) == [
        ("delivery_failed", f"E-mail to priya@example.com failed after 0 attempts: {JOB_LOST}"),
        ("delivery_resend", f"E-mail to priya@example.com queued again: {SUBJECT}"),
    ]
    page = response.content.decode()
    assert f"Failed</span>: {JOB_LOST}" in page
    assert LOST not in page
    # recover_deliveries finds nothing left to do: the original failed, the fresh one's job
    # is live.
    out = io.StringIO()
    call_command("recover_deliveries", stdout=out)
    assert out.getvalue().splitlines() == ["0 e-mail(s) queued again, 0 failed."]


def test_a_failed_attempt_records_when_it_queued_its_retry(application_a, settings):
    settings.TASKS = DATABASE_TASKS
    smtp_to(settings, closed_port())
    delivery = queue(application_a)
    queued_minutes_ago(delivery, 20)

    assert delivery_send.call(delivery.pk) == "retrying"

    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_error) == (1, "connection refused")
    assert delivery.last_queued_at > minutes_ago(1)
    assert not Delivery.objects.filter(pk=delivery.pk).stranded().exists()


# The real worker, as production runs it


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a worker process needs the shared PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_the_db_worker_command_sends_a_queued_mail(application_a, inspector, settings):
    settings.TASKS = DATABASE_TASKS
    report = stored_document("reports/report-1.pdf", b"%PDF-1.7 report")
    delivery = queue(application_a, [report], actor=inspector)
    assert Delivery.objects.get().status == DeliveryStatus.QUEUED

    from tests.occupancy.test_crash_files import subprocess_env

    env = subprocess_env(settings) | {
        "EMAIL_URL": "console://",  # the worker prints the mail it sends
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    worker = subprocess.run(
        [sys.executable, "manage.py", *WORKER, "--no-reload"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert worker.returncode == 0, worker.stderr
    assert f"Subject: {SUBJECT}" in worker.stdout
    assert 'filename="report-1.pdf"' in worker.stdout
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    assert history(application_a) == [
        ("delivery_sent", f"E-mail to priya@example.com sent: {SUBJECT}")
    ]


def test_an_attempt_taken_as_interrupted_before_it_reaches_the_server_sends_nothing(
    application_a, clerk, monkeypatch
):
    """Reading the attachments took longer than DELIVERY_ATTEMPT_STALE_MINUTES and a clerk
    pressed Resend meanwhile: the attempt is claimed again just before the SMTP step, finds
    the delivery failed, and sends nothing (the fresh delivery will)."""
    import core.tasks

    real_message = core.tasks._message

    def slow_storage_then_resend(delivery):
        message = real_message(delivery)
        Delivery.objects.update(attempt_started_at=timezone.now() - datetime.timedelta(hours=1))
        delivery_resend(delivery=Delivery.objects.get(pk=delivery.pk), actor=clerk)
        return message

    monkeypatch.setattr(core.tasks, "_message", slow_storage_then_resend)
    original = queue(application_a)  # the fresh delivery's job waits for a commit

    assert mail.outbox == []
    original.refresh_from_db()
    assert (original.status, original.last_error) == (DeliveryStatus.FAILED, INTERRUPTED)
    assert Delivery.objects.get(resend_of=original).status == DeliveryStatus.QUEUED


def test_a_superseded_attempt_that_fails_leaves_the_next_attempts_claim(
    application_a, settings, monkeypatch
):
    """Attempt 1 outlived the bound while the SMTP server hung; recover_deliveries queued
    attempt 2, which claimed the delivery; then attempt 1 failed. Its failure must neither
    clear attempt 2's claim (a worker killed during attempt 2 would leave the delivery
    unclaimed: never taken as interrupted, Resend refused for good) nor fail it."""
    from core.mail import deliveries_recover
    from core.tasks import delivery_fail

    settings.DELIVERY_ATTEMPT_STALE_MINUTES = 15
    second_claim = timezone.now()

    def hung_then_refused(message, *args, **kwargs):
        Delivery.objects.update(attempt_started_at=timezone.now() - datetime.timedelta(hours=1))
        assert len(deliveries_recover().requeued) == 1
        Delivery.objects.update(attempts=2, attempt_started_at=second_claim)  # attempt 2 runs
        raise OSError("connection reset by the relay")

    monkeypatch.setattr(EmailMessage, "send", hung_then_refused)
    delivery = queue(application_a)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 2)
    assert delivery.attempt_started_at == second_claim
    assert delivery.last_error == INTERRUPTED  # what recovery wrote, not attempt 1's reason
    # Failing "for good" at attempt 1 is refused the same way: attempt 2 owns the delivery.
    stale_view = Delivery.objects.get(pk=delivery.pk)
    stale_view.attempts = 1
    delivery_fail(stale_view, "attachment refused")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_started_at) == (DeliveryStatus.QUEUED, second_claim)
    assert ("delivery_failed", "E-mail to priya@example.com failed after 1 attempt: "
            "attachment refused") not in history(application_a)  # fmt: skip

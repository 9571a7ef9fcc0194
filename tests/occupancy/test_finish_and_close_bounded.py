"""A close that costs one render (issue 16): the request renders the permit only, under the
number lock for no longer than that; the inspection report is rendered by a job right after
the commit, stored once, and the inspection page says it is being prepared until then. On
PostgreSQL a close waiting behind another gets a clear message within the lock timeout and
changes nothing."""

import datetime
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

import core.pdf
from demo import builders
from inspections.models import InspectionType, Visit, VisitStatus
from inspections.sections import REPORT_BEING_PREPARED, REPORT_REFRESH_HINT
from inspections.tasks import visit_report_render
from occupancy.models import OccupancyPermit, PermitNumberSequence
from permits.models import Application
from tests.conftest import client_for
from tests.db_rows import media_files, rows
from tests.occupancy.conftest import pdf_text
from tests.occupancy.test_finish_and_close import confirm, finish, grant_data, messages_of

YEAR = timezone.localdate().year
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
WORKER = ("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay")
IN_PROGRESS = "Another close is in progress for this municipality; try again in a moment."


@pytest.fixture
def visit(occupancy, inspector):
    """The open visit of the occupancy inspection (made in a transaction of its own: these
    tests commit, as the worker and a second connection need)."""
    with transaction.atomic():
        return builders.visit(inspection=occupancy, inspector=inspector)


@pytest.fixture
def renders(monkeypatch):
    """Every PDF rendered, by the title of its document: WeasyPrint's HTML.render counted,
    each named by the metadata core.pdf gives it right after."""
    real_render, real_describe = core.pdf.HTML.render, core.pdf._apply_metadata
    calls, titles = [], []

    def counting(self, *args, **kwargs):
        calls.append(1)
        return real_render(self, *args, **kwargs)

    def naming(document, metadata):
        titles.append(metadata.title)
        return real_describe(document, metadata)

    monkeypatch.setattr(core.pdf.HTML, "render", counting)
    monkeypatch.setattr(core.pdf, "_apply_metadata", naming)
    yield titles
    assert len(calls) == len(titles)


# The worker commits and closes connections: these tests commit for real.
@pytest.mark.django_db(transaction=True)
def test_the_close_renders_one_pdf_and_the_report_follows_from_its_job(
    inspector, occupancy, visit, general_template, settings, renders
):
    settings.TASKS = DATABASE_TASKS  # queued, not run: what a request does in production
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))

    response = confirm(client, occupancy)

    number = f"OCC-{YEAR}-0001"
    assert messages_of(response) == [f"Inspection closed. Occupancy permit {number} issued."]
    assert renders == [f"Occupancy Permit {number}"]  # the permit, once; no report
    closed = Visit.objects.get(pk=visit.pk)
    assert (closed.status, closed.report_pdf.name, closed.report_sha256) == (
        VisitStatus.CLOSED,
        "",
        "",
    )
    page = response.content.decode()
    assert REPORT_BEING_PREPARED in page and REPORT_REFRESH_HINT in page
    assert reverse("inspections:visit_report", args=[occupancy.code, 1]) not in page
    # The report's address answers while it is pending: back to the page, with a message.
    pending = client.get(reverse("inspections:visit_report", args=[occupancy.code, 1]))
    assert pending.status_code == 302
    followed = client.get(pending["Location"])
    assert messages_of(followed) == [
        "The inspection report of visit 1 is being prepared. Refresh the page in a moment to "
        "download it."
    ]

    call_command(*WORKER)

    assert renders[1:] == [f"Inspection report {occupancy.application.number} visit 1"]
    assert len(Visit.objects.get(pk=visit.pk).report_sha256) == 64
    page = client.get(occupancy.get_absolute_url()).content.decode()
    assert REPORT_BEING_PREPARED not in page
    report = client.get(reverse("inspections:visit_report", args=[occupancy.code, 1]))
    assert report.status_code == 200
    text = pdf_text(b"".join(report.streaming_content))
    assert number in text  # the report names the permit issued at the close


def test_the_report_job_run_twice_stores_one_report(
    inspector, occupancy, visit, general_template, renders
):
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    confirm(client, occupancy)  # the job ran at once (tests' backend)
    closed = Visit.objects.get(pk=visit.pk)
    stored = (closed.report_pdf.name, closed.report_sha256)
    files = media_files()

    # A second run (enqueued twice, or queued again by recover_documents meanwhile).
    assert visit_report_render.call(visit.pk, f"OCC-{YEAR}-0001") is False

    closed = Visit.objects.get(pk=visit.pk)
    assert (closed.report_pdf.name, closed.report_sha256) == stored
    assert media_files() == files
    assert len(renders) == 2  # the permit and one report: the second run rendered nothing


@pytest.mark.django_db(transaction=True)
def test_a_report_pending_too_long_is_reported_and_queued_again(
    inspector, occupancy, visit, general_template, settings, capsys
):
    settings.TASKS = DATABASE_TASKS
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    confirm(client, occupancy)
    # The job was lost (its queue row gone with a restored backup, say).
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()

    call_command("verify_records")
    out = capsys.readouterr().out
    assert f"PENDING inspection report alpha {occupancy.application.number} " in out
    assert "being prepared (closed 0 minutes ago)" in out

    # An hour later it is a problem, and recover_documents queues it again.
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1, minutes=1)
    with transaction.atomic(), connection.cursor() as cursor:
        # Past the closed-visit guard (PostgreSQL): only the clock of this test moves.
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE inspections_visit SET closed_at = %s WHERE id = %s",
            [an_hour_ago, visit.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
    with pytest.raises(CommandError, match=r"1 problem\(s\) found"):
        call_command("verify_records")
    err = capsys.readouterr().err
    assert "not stored 61 minutes after the close: its job was lost" in err

    call_command("recover_documents")
    assert "QUEUED inspection report alpha" in capsys.readouterr().out
    call_command(*WORKER)
    assert len(Visit.objects.get(pk=visit.pk).report_sha256) == 64
    call_command("verify_records")
    assert "All 2 documents verified" in capsys.readouterr().out


# PostgreSQL: the lock timeout


def hold_rows(lock, held: threading.Event, release: threading.Event):
    """Another transaction, as far as the database sees it: `lock()` run in a connection of
    its own, whose row locks are held until `release`."""
    try:
        with transaction.atomic():
            lock()
            held.set()
            release.wait(timeout=60)
    finally:
        connections.close_all()


def the_application_and_its_type(application_pk, type_pk):
    """Another close of the application: its row (and its inspection type's) locked as an
    UPDATE of them locks them (FOR NO KEY UPDATE: a close changes the application's status
    and last activity)."""
    return lambda: (
        Application.objects.select_for_update(no_key=True).get(pk=application_pk),
        InspectionType.objects.select_for_update(no_key=True).get(pk=type_pk),
    )


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and lock_timeout")
@pytest.mark.django_db(transaction=True)
def test_the_report_job_locks_its_visit_only(inspector, occupancy):
    """The job stores the report under its visit's row lock alone: it locked the inspection,
    the application and the inspection type too (the joins of Visit's default ordering), so
    it waited for any other close of the application, and reports of one type for each
    other."""
    closed = builders.visit(inspection=occupancy, inspector=inspector, result="granted_full")
    held, release = threading.Event(), threading.Event()
    lock = the_application_and_its_type(occupancy.application_id, occupancy.inspection_type_id)
    other = threading.Thread(target=hold_rows, args=(lock, held, release))
    other.start()
    try:
        assert held.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # waiting would fail, not hang
        try:
            stored = visit_report_render.call(closed.pk, "")
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        assert other.is_alive()  # stored while the other transaction held its rows
    finally:
        release.set()
        other.join(timeout=30)
    assert stored is True
    assert Visit.objects.get(pk=closed.pk).report_sha256


def the_number_lock(sequence_pk):
    """Another close of the municipality: the permit-number row locked."""
    return lambda: PermitNumberSequence.objects.select_for_update().get(pk=sequence_pk)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and lock_timeout")
@pytest.mark.django_db(transaction=True)
def test_a_close_behind_another_gets_the_clear_message_and_changes_nothing(
    inspector, occupancy, visit, general_template, settings
):
    settings.CLOSE_LOCK_TIMEOUT_MS = 300
    sequence = PermitNumberSequence.objects.create(
        municipality_id=occupancy.application.municipality_id,
        key=general_template.permit_type.sequence_key,
        year=YEAR if general_template.permit_type.restart_each_year else 0,
        last_value=0,
    )
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    before = rows(Visit, OccupancyPermit, PermitNumberSequence), media_files()
    held, release = threading.Event(), threading.Event()
    other_close = threading.Thread(
        target=hold_rows, args=(the_number_lock(sequence.pk), held, release)
    )
    other_close.start()
    try:
        assert held.wait(timeout=30)

        response = confirm(client, occupancy)

        # Answered while the other close still held the lock: it did not wait for it.
        assert other_close.is_alive()
    finally:
        release.set()
        other_close.join(timeout=30)
    assert messages_of(response) == [IN_PROGRESS]
    confirmation = reverse("occupancy:visit_confirm", args=[occupancy.code])
    assert response.redirect_chain[-1][0] == confirmation
    assert "Yes, close the inspection" in response.content.decode()
    assert (rows(Visit, OccupancyPermit, PermitNumberSequence), media_files()) == before

    # Once the other close has committed, trying again closes.
    response = confirm(client, occupancy)
    assert messages_of(response) == [
        f"Inspection closed. Occupancy permit OCC-{YEAR}-0001 issued."
    ]

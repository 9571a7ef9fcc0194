"""Files that match the database, also after a crash (issue 15): a document becomes visible
under its final name only once its transaction commits; a worker killed in the middle of a
close leaves nothing that could be taken for the next document with that number;
verify_records reports every mismatch and exits non-zero; recover_documents repairs what a
crash left."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from inspections.models import Visit, VisitStatus
from occupancy.models import OccupancyPermit, PermitStatus
from occupancy.services import CloseError, GrantDetails, visit_finish_and_close
from tests.conftest import make_application
from tests.factories import make_inspection
from tests.occupancy.conftest import pdf_text

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("killable_close.py")
YEAR = timezone.localdate().year
NUMBER = f"OCC-{YEAR}-0001"
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a worker process needs the shared PostgreSQL"
)


def new_visit(application, inspection_type, inspector):
    return Visit.objects.create(
        inspection=make_inspection(application, inspection_type),
        sequence=1,
        started_by=inspector,
    )


def close(visit, inspector, template):
    return visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=template, granted_on=timezone.localdate(), description="Whole building"
        ),
    )


def media(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def subprocess_env(settings) -> dict:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DEBUG="1",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    return env


def manage(settings, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=subprocess_env(settings), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def kill_a_worker_closing(visit, inspector, template, settings, tmp_path, where):
    """Start a real worker process closing `visit`, wait until it reaches `where`, SIGKILL it."""
    marker = tmp_path / "worker-reached"
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), str(visit.pk), str(inspector.pk), str(template.pk),
         str(marker), where],
        cwd=ROOT, env=subprocess_env(settings),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            if worker.poll() is not None:
                pytest.fail(f"the worker ended before {where}: {worker.communicate()[1]}")
            assert time.monotonic() < deadline, "the worker never reached the point"
            time.sleep(0.05)
        on_disk = media(settings)
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(timeout=30) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate()
    connection.close()  # the next query sees the database as it is now
    return on_disk


@pytest.mark.postgres
@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_inside_the_close_leaves_nothing_the_next_close_could_be_taken_for(
    inspector, application_a, occupancy_type_a, general_template, settings, tmp_path
):
    first = new_visit(application_a, occupancy_type_a, inspector)
    other_address = make_application(
        application_a.municipality, number="B-2026-0002", street_address="88 Harbour Street"
    )
    second = new_visit(other_address, occupancy_type_a, inspector)

    on_disk = kill_a_worker_closing(
        first, inspector, general_template, settings, tmp_path, "in-transaction"
    )
    # Killed with the permit PDF written and the transaction open: the PDF was there, but
    # only under its pending name.
    [pending] = [name for name in on_disk if NUMBER in name]
    assert pending.startswith(f"occupancy/{YEAR}/alpha/{NUMBER}.pdf.pending-")

    assert Visit.objects.get(pk=first.pk).status == VisitStatus.OPEN
    assert not OccupancyPermit.objects.exists()
    assert not [name for name in media(settings) if name.endswith(f"{NUMBER}.pdf")]
    assert manage(settings, "verify_records").returncode == 0  # a young pending file: in flight

    permit = close(second, inspector, general_template).permit
    assert permit.number == NUMBER  # the number the killed close never issued
    assert permit.pdf.name == f"occupancy/{YEAR}/alpha/{NUMBER}.pdf"
    issued = Path(permit.pdf.path).read_bytes()
    assert hashlib.sha256(issued).hexdigest() == permit.pdf_sha256
    text = pdf_text(issued)
    assert "88 Harbour Street" in text and "47 Maple Crescent" not in text

    result = manage(settings, "verify_records")
    assert result.returncode == 0, result.stderr
    assert "All 2 documents verified; no missing or unreferenced files." in result.stdout

    # After the grace period the leftover is reported (cron alerts) until recovery removes it.
    an_hour_ago = time.time() - 3600
    os.utime(Path(settings.MEDIA_ROOT) / pending, (an_hour_ago, an_hour_ago))
    result = manage(settings, "verify_records")
    assert result.returncode == 1
    assert f"unreferenced file - ({pending}): unfinished write" in result.stderr
    assert "1 problem(s) found; 2 documents checked." in result.stderr
    result = manage(settings, "recover_documents")
    assert f"REMOVED {pending}" in result.stdout
    assert manage(settings, "verify_records").returncode == 0
    assert Path(permit.pdf.path).read_bytes() == issued


@pytest.mark.postgres
@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_the_commit_is_finished_by_recover_documents(
    inspector, application_a, occupancy_type_a, general_template, settings, tmp_path
):
    visit = new_visit(application_a, occupancy_type_a, inspector)
    kill_a_worker_closing(visit, inspector, general_template, settings, tmp_path, "after-commit")

    permit = OccupancyPermit.objects.get()  # committed before the worker died
    assert permit.pdf.name == f"occupancy/{YEAR}/alpha/{NUMBER}.pdf"
    assert not Path(permit.pdf.path).exists()
    result = manage(settings, "verify_records")
    assert result.returncode == 1
    assert (
        f"MISMATCH occupancy permit alpha {NUMBER} ({permit.pdf.name}): file is missing "
        "(its write was not finished: run recover_documents)" in result.stderr
    )

    # Killed before the report's job was queued (right after the commit): recovery at start
    # (make run, the deployment's unit: no grace) publishes the permit and queues the report.
    result = manage(settings, "recover_documents", "--grace-minutes", "0")
    assert f"PUBLISHED {permit.pdf.name}" in result.stdout
    assert "QUEUED inspection report" in result.stdout
    assert hashlib.sha256(Path(permit.pdf.path).read_bytes()).hexdigest() == permit.pdf_sha256
    assert not Visit.objects.get(pk=visit.pk).report_pdf
    worker = manage(settings, "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay")
    assert worker.returncode == 0, worker.stderr
    assert Visit.objects.get(pk=visit.pk).report_pdf
    result = manage(settings, "verify_records")
    assert result.returncode == 0, result.stderr
    assert "All 2 documents verified; no missing or unreferenced files." in result.stdout


def test_a_close_publishes_only_final_names_and_verify_records_is_clean(
    inspector, application_a, occupancy_type_a, general_template, settings, capsys
):
    outcome = close(new_visit(application_a, occupancy_type_a, inspector), inspector,
                    general_template)  # fmt: skip
    # The report is stored by its job after the close (run at once in tests): re-read it.
    report = Visit.objects.get(pk=outcome.visit.pk).report_pdf.name
    assert media(settings) == sorted([outcome.permit.pdf.name, report])
    assert not any(".pending-" in name for name in media(settings))
    call_command("verify_records")
    assert "All 2 documents verified; no missing or unreferenced files." in capsys.readouterr().out


def test_a_file_already_at_the_final_name_is_never_overwritten_nor_suffixed(
    inspector, application_a, occupancy_type_a, general_template, settings
):
    stray = Path(settings.MEDIA_ROOT) / f"occupancy/{YEAR}/alpha/{NUMBER}.pdf"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"another property's permit")
    visit = new_visit(application_a, occupancy_type_a, inspector)
    with pytest.raises(CloseError, match=f"Nothing was closed: A file named .*{NUMBER}.pdf is"):
        close(visit, inspector, general_template)
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.OPEN
    assert not OccupancyPermit.objects.exists()
    assert media(settings) == [f"occupancy/{YEAR}/alpha/{NUMBER}.pdf"]
    assert stray.read_bytes() == b"another property's permit"


def test_verify_records_reports_unreferenced_files_and_missing_photos(
    inspector, application_a, occupancy_type_a, general_template, settings, capsys
):
    outcome = close(new_visit(application_a, occupancy_type_a, inspector), inspector,
                    general_template)  # fmt: skip
    root = Path(settings.MEDIA_ROOT)
    leftover = root / f"reports/{YEAR}/B-2026-0001-XXXX-visit-1.pdf"
    leftover.write_bytes(b"%PDF-1.7 a report no visit has")
    with pytest.raises(CommandError, match=r"1 problem\(s\) found; 2 documents checked"):
        call_command("verify_records")
    err = capsys.readouterr().err
    assert (
        f"MISMATCH unreferenced file - (reports/{YEAR}/B-2026-0001-XXXX-visit-1.pdf): "
        "no record references this file" in err
    )
    leftover.unlink()
    Path(outcome.permit.pdf.path).unlink()
    with pytest.raises(CommandError, match=r"1 problem\(s\) found"):
        call_command("verify_records")
    assert f"occupancy permit alpha {NUMBER} ({outcome.permit.pdf.name}): file is missing" in (
        capsys.readouterr().err
    )


@pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="PostgreSQL's triggers refuse a revoked status without its revocation",
)
def test_verify_records_reports_a_revoked_permit_without_its_revocation(
    inspector, application_a, occupancy_type_a, general_template, capsys
):
    permit = close(new_visit(application_a, occupancy_type_a, inspector), inspector,
                   general_template).permit  # fmt: skip
    OccupancyPermit.objects.filter(pk=permit.pk).update(status=PermitStatus.REVOKED)
    with pytest.raises(CommandError, match=r"1 problem\(s\) found"):
        call_command("verify_records")
    assert (
        f"MISMATCH occupancy permit alpha {NUMBER} ({permit.pdf.name}): revoked without a "
        "revocation record" in capsys.readouterr().err
    )


@pytest.mark.django_db(transaction=True)
def test_the_applicant_gets_the_published_documents_after_a_real_commit(
    inspector, application_a, occupancy_type_a, general_template
):
    from django.core import mail

    application_a.applicant_email = "owner@example.org"
    application_a.save(update_fields=["applicant_email"])
    outcome = close(new_visit(application_a, occupancy_type_a, inspector), inspector,
                    general_template)  # fmt: skip
    [message] = mail.outbox
    attached = {name: content for name, content, _ in message.attachments}
    assert hashlib.sha256(attached[f"{NUMBER}.pdf"]).hexdigest() == outcome.permit.pdf_sha256
    report = attached["inspection-report-visit-1.pdf"]
    stored = Visit.objects.get(pk=outcome.visit.pk)  # the report is stored by its job
    assert hashlib.sha256(report).hexdigest() == stored.report_sha256

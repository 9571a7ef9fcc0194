"""Issue 16: the admin's CSV upload stores the file and queues an import run; a job imports
it outside the request and records what the import said on the run. A run whose worker was
lost is queued again from its page. The job queue is the database's here, as in production,
unless a test runs the job itself."""

import datetime
import hashlib
import logging

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.models import Activity
from exchange.importing import runs
from exchange.importing.mapping import load_mapping
from exchange.importing.services import applications_import
from exchange.models import RUN_STALE_AFTER, ImportRun, ImportRunStatus
from exchange.tasks import import_run_job
from permits.models import Application
from tests.conftest import client_for
from tests.exchange.test_import import burlington_csv, burlington_row
from tests.exchange.test_import_admin import check, committed, send

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
GOOD_AND_BAD = burlington_csv(
    burlington_row("24-000001"),
    burlington_row("24-000002", address="2022 ATKINSON DR.  UNIT 25"),
    burlington_row("24-000002", status="Final"),  # merged into the newest row of its permit
    burlington_row("24-000003", applied="yesterday"),
    burlington_row(""),
)


@pytest.fixture
def admin(admin_user):
    return client_for(admin_user)


def queued_run(client, municipality, data=GOOD_AND_BAD, *, settings, dry_run=False):
    """Upload through the admin with the database queue: the run, its job not yet run."""
    settings.TASKS = DATABASE_TASKS
    response = send(client, municipality, data, dry_run=dry_run)
    assert response.status_code == 302
    return ImportRun.objects.get(pk=response["Location"].split("/")[-3])


def run_page(client, run) -> str:
    return client.get(reverse("admin:exchange_importrun_change", args=[run.pk])).content.decode()


def test_an_upload_stores_the_file_queues_one_job_and_imports_nothing(
    admin, admin_user, municipality_a, settings
):
    run = queued_run(admin, municipality_a, settings=settings)

    assert run.status == ImportRunStatus.QUEUED
    assert (run.municipality, run.uploaded_by, run.original_name, run.mapping, run.dry_run) == (
        municipality_a,
        admin_user,
        "permits.csv",
        "burlington",
        False,
    )
    assert run.file.name.startswith("imports/") and run.file.name.endswith(".csv")
    assert run.size == len(GOOD_AND_BAD)
    assert run.sha256 == hashlib.sha256(GOOD_AND_BAD).hexdigest()
    with default_storage.open(run.file.name, "rb") as stored:
        assert stored.read() == GOOD_AND_BAD
    [job] = DBTaskResult.objects.all()
    assert (job.task_path, job.args_kwargs["args"], job.status) == (
        "exchange.tasks.import_run_job",
        [run.pk],
        "READY",
    )
    assert not Application.objects.exists()
    assert Activity.objects.get().verb == "import_queued"
    page = run_page(admin, run)
    assert '<td id="import-run-status">Queued</td>' in page
    assert "The import is waiting for a worker." in page
    assert '<meta http-equiv="refresh" content="5">' in page


def test_the_job_imports_the_rows_and_records_what_the_import_in_the_request_said(
    admin, municipality_a, municipality_b, settings
):
    run = queued_run(admin, municipality_a, settings=settings)
    # The import as the page used to run it, into another municipality, for comparison.
    expected = applications_import(
        municipality=municipality_b, data=GOOD_AND_BAD, mapping=load_mapping("burlington")
    )

    assert import_run_job.call(run.pk) is True

    run.refresh_from_db()
    assert run.status == ImportRunStatus.DONE
    assert run.started_at <= run.finished_at
    assert (
        (
            run.rows_read,
            run.applications_created,
            run.applications_updated,
            run.applications_unchanged,
            run.rows_skipped,
            run.rows_merged,
            run.rows_rejected,
        )
        == (
            expected.rows,
            expected.created,
            expected.updated,
            expected.unchanged,
            expected.skipped,
            expected.merged,
            len(expected.rejected),
        )
        == (5, 2, 0, 0, 0, 1, 2)
    )
    run.seconds = expected.seconds  # the one number two runs do not share
    assert run.summary() == expected.summary()
    assert run.shown_rejections() == expected.rejected
    assert sorted(
        Application.objects.filter(municipality=municipality_a).values_list("number", flat=True)
    ) == [
        "24-000001",
        "24-000002",
    ]
    page = run_page(admin, run)
    assert '<td id="import-run-status">Done</td>' in page
    assert "5 rows read: 2 applications created, 0 updated, 0 unchanged" in page
    assert "<tr><td>5</td><td>24-000003</td><td>INDATE &#x27;yesterday&#x27; is not a date" in page
    assert "http-equiv" not in page  # finished: the page stops looking again

    # A job run twice (enqueued twice, two workers) imports once.
    assert import_run_job.call(run.pk) is False
    assert (
        Activity.objects.filter(verb="imported", application__municipality=municipality_a).count()
        == 2
    )


def test_a_file_that_cannot_be_imported_fails_its_run_with_the_reason(
    admin, municipality_a, settings
):
    run = queued_run(admin, municipality_a, b"PermitNum,Description\n1,x\n", settings=settings)

    import_run_job.call(run.pk)

    run.refresh_from_db()
    assert run.status == ImportRunStatus.FAILED
    assert run.failure_reason.startswith("The file has no column FILENO, ADDRESS, INDATE")
    page = run_page(admin, run)
    assert '<li class="error" id="import-run-failure">The file has no column FILENO' in page
    assert not Application.objects.exists()


def test_an_unexpected_error_fails_the_run_with_a_readable_reason_and_logs_the_traceback(
    admin, municipality_a, settings, monkeypatch, caplog
):
    run = queued_run(admin, municipality_a, settings=settings)

    def broken(**kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(runs, "applications_import", broken)
    with caplog.at_level(logging.ERROR, logger="exchange.importing.runs"):
        import_run_job.call(run.pk)

    run.refresh_from_db()
    assert run.status == ImportRunStatus.FAILED
    assert run.failure_reason == (
        "The import stopped on an unexpected error; what the batches before it saved stays "
        f"saved. Tell the operator the run's number ({run.pk}): the details are in the "
        "server's log."
    )
    page = run_page(admin, run)
    assert "ZeroDivisionError" not in page and "Traceback" not in page
    assert "ZeroDivisionError" in caplog.text


def test_a_run_is_written_in_its_uploaders_language(admin, municipality_a, settings):
    settings.TASKS = DATABASE_TASKS
    send(admin, municipality_a, GOOD_AND_BAD, dry_run=False, HTTP_ACCEPT_LANGUAGE="fr-ca")
    run = ImportRun.objects.get()

    import_run_job.call(run.pk)

    run.refresh_from_db()
    assert run.language == "fr-ca"
    assert run.shown_rejections()[0].reason.startswith("INDATE : 'yesterday' n'est pas une date")


def test_another_municipalitys_administrator_gets_404_and_changes_nothing(
    admin, municipality_a, town_admin, town_admin_b, settings
):
    run = queued_run(admin, municipality_a, settings=settings)
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRunStatus.RUNNING, progress_at=timezone.now() - 2 * RUN_STALE_AFTER
    )
    before = list(ImportRun.objects.values())
    outsider = client_for(town_admin_b)

    for url in (
        reverse("admin:exchange_importrun_change", args=[run.pk]),
        reverse("admin:exchange_importrun_requeue", args=[run.pk]),
        reverse("admin:exchange_importrun_import", args=[run.pk]),
    ):
        assert outsider.get(url).status_code == 404
        assert committed(outsider.post, url).status_code == 404
    listing = outsider.get(reverse("admin:exchange_importrun_changelist")).content.decode()
    assert "permits.csv" not in listing

    assert list(ImportRun.objects.values()) == before
    assert DBTaskResult.objects.count() == 1

    # The administrator of the run's municipality sees it, and may not queue it again
    # (the import's own permission: adding applications).
    own = client_for(town_admin)
    listing = own.get(reverse("admin:exchange_importrun_changelist")).content.decode()
    assert "permits.csv" in listing
    page = run_page(own, run)
    assert 'id="import-run-stale"' in page and "Queue it again" not in page
    requeue = reverse("admin:exchange_importrun_requeue", args=[run.pk])
    assert committed(own.post, requeue).status_code == 403
    assert list(ImportRun.objects.values()) == before


def test_a_run_whose_worker_was_lost_is_queued_again_and_finishes_what_is_missing(
    admin, municipality_a, settings
):
    run = queued_run(admin, municipality_a, settings=settings)
    # A worker took it, saved the first application, and was killed.
    applications_import(
        municipality=municipality_a,
        data=burlington_csv(burlington_row("24-000001")),
        mapping=load_mapping("burlington"),
    )
    lost_at = timezone.now() - RUN_STALE_AFTER - datetime.timedelta(minutes=1)
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRunStatus.RUNNING, started_at=lost_at, progress_at=lost_at, attempt=1
    )
    page = run_page(admin, run)
    assert "no sign of progress for more than 10 minutes" in page
    assert "http-equiv" not in page

    response = committed(admin.post, reverse("admin:exchange_importrun_requeue", args=[run.pk]))

    assert "The import is queued again." in admin.get(response["Location"]).content.decode()
    run.refresh_from_db()
    assert (run.status, run.started_at) == (ImportRunStatus.QUEUED, None)
    jobs = DBTaskResult.objects.filter(task_path="exchange.tasks.import_run_job", status="READY")
    assert [job.args_kwargs["args"] for job in jobs] == [[run.pk], [run.pk]]
    assert Activity.objects.filter(verb="import_requeued").count() == 1

    import_run_job.call(run.pk)

    run.refresh_from_db()
    assert (run.status, run.applications_created, run.applications_unchanged) == (
        ImportRunStatus.DONE,
        1,
        1,
    )
    assert Application.objects.filter(municipality=municipality_a).count() == 2
    assert run.attempt == 2
    # The second pass counts what the first saved as unchanged, and says why.
    assert (
        "This import was resumed after its worker stopped: the applications saved before are "
        "counted as unchanged." in run_page(admin, run)
    )
    # Its first job, still in the queue, finds it done and does nothing.
    assert import_run_job.call(run.pk) is False


def test_a_run_still_making_progress_is_not_queued_again(admin, municipality_a, settings):
    run = queued_run(admin, municipality_a, settings=settings)
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRunStatus.RUNNING,
        started_at=timezone.now() - 2 * RUN_STALE_AFTER,
        progress_at=timezone.now() - datetime.timedelta(seconds=5),
    )
    before = list(ImportRun.objects.values())
    assert "Queue it again" not in run_page(admin, run)

    response = committed(
        admin.post, reverse("admin:exchange_importrun_requeue", args=[run.pk]), follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [
        "This import is not stopped (it finished, or is still running): left as it is."
    ]
    assert list(ImportRun.objects.values()) == before
    assert DBTaskResult.objects.count() == 1


def test_of_two_imports_of_one_check_racing_one_is_queued(admin, admin_user, municipality_a):
    check(admin, municipality_a, GOOD_AND_BAD)
    checked = ImportRun.objects.get()
    # Two requests read the check before either imported it: the second holds a stale copy.
    stale_copy = ImportRun.objects.get(pk=checked.pk)
    first = runs.import_run_import_checked(run=checked, actor=admin_user)

    with pytest.raises(runs.RunAlreadyImported) as raised:
        runs.import_run_import_checked(run=stale_copy, actor=admin_user)

    assert raised.value.imported_as == first
    assert list(ImportRun.objects.filter(dry_run=False)) == [first]
    assert ImportRun.objects.get(pk=checked.pk).imported_as == first
    assert Activity.objects.filter(verb="import_queued").count() == 2  # the check's, one import


def supersede(run):
    """What "Queue it again" and a second worker's claim do to a run while its first worker
    is stalled (not dead): the run is running again, as the next attempt."""
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRunStatus.RUNNING, attempt=run.attempt + 1, progress_at=timezone.now()
    )


@pytest.mark.parametrize("outcome", ["done", "failed"])
def test_a_superseded_attempts_outcome_changes_nothing(
    admin, municipality_a, settings, monkeypatch, outcome
):
    run = queued_run(admin, municipality_a, settings=settings, dry_run=True)
    real_import = runs.applications_import

    def stalled_then_finishing(**kwargs):
        supersede(ImportRun.objects.get(pk=run.pk))
        if outcome == "failed":
            raise ZeroDivisionError("division by zero")
        kwargs["progress"] = None  # its batches' progress is the next test's
        return real_import(**kwargs)

    monkeypatch.setattr(runs, "applications_import", stalled_then_finishing)
    import_run_job.call(run.pk)

    run.refresh_from_db()
    assert (run.status, run.attempt, run.finished_at, run.rows_read, run.failure_reason) == (
        ImportRunStatus.RUNNING,
        2,
        None,
        0,
        "",
    )


def test_a_superseded_attempt_stops_at_its_next_progress(
    admin, municipality_a, settings, monkeypatch
):
    run = queued_run(admin, municipality_a, settings=settings)
    batches = []

    def stalled_import(*, progress, **kwargs):
        progress(500, 1000)
        batches.append(1)
        supersede(ImportRun.objects.get(pk=run.pk))
        progress(1000, 1000)
        batches.append(2)  # never reached

    monkeypatch.setattr(runs, "applications_import", stalled_import)
    import_run_job.call(run.pk)

    assert batches == [1]
    run.refresh_from_db()
    assert (run.status, run.attempt, run.finished_at, run.failure_reason) == (
        ImportRunStatus.RUNNING,
        2,
        None,
        "",
    )


def test_a_run_queued_whose_job_was_lost_is_shown_stale_and_queued_again(
    admin, municipality_a, settings
):
    run = queued_run(admin, municipality_a, settings=settings)
    long_ago = timezone.now() - RUN_STALE_AFTER - datetime.timedelta(minutes=1)
    ImportRun.objects.filter(pk=run.pk).update(queued_at=long_ago)
    requeue = reverse("admin:exchange_importrun_requeue", args=[run.pk])
    listing = reverse("admin:exchange_importrun_changelist")

    # Waiting long, but its job is still in the queue (workers busy): not stale.
    assert "Queue it again" not in run_page(admin, run)
    assert "stopped, queue it again" not in admin.get(listing).content.decode()
    committed(admin.post, requeue)
    assert DBTaskResult.objects.count() == 1

    # Its job lost (a queue cleared, a database restored from before it).
    DBTaskResult.objects.all().delete()
    page = run_page(admin, run)
    assert "no job is queued for it" in page and "Queue it again" in page
    assert "http-equiv" not in page
    assert "Queued: stopped, queue it again from its page" in admin.get(listing).content.decode()

    response = committed(admin.post, requeue, follow=True)

    assert [str(m) for m in response.context["messages"]] == ["The import is queued again."]
    [job] = DBTaskResult.objects.all()
    assert (job.args_kwargs["args"], job.status) == ([run.pk], "READY")
    assert "Queue it again" not in run_page(admin, run)
    import_run_job.call(run.pk)
    run.refresh_from_db()
    assert (run.status, run.attempt, run.applications_created) == (ImportRunStatus.DONE, 1, 2)
    assert "resumed" not in run.summary()  # its first claim: nothing was saved before


def test_the_run_list_does_not_read_what_each_run_kept_to_show(admin, municipality_a, settings):
    run = queued_run(admin, municipality_a, settings=settings)
    import_run_job.call(run.pk)

    with CaptureQueriesContext(connection) as queries:
        listing = admin.get(reverse("admin:exchange_importrun_changelist")).content.decode()

    assert "permits.csv" in listing
    run_queries = [q["sql"] for q in queries if "exchange_importrun" in q["sql"]]
    assert run_queries
    for column in ("rejections", "warnings", "notes", "preview"):
        assert not any(f'"exchange_importrun"."{column}"' in sql for sql in run_queries)
    # The run's own page reads them.
    assert "<tr><td>5</td><td>24-000003</td><td>INDATE" in run_page(admin, run)

"""Import runs: an uploaded CSV file stored, queued, and imported by a job (exchange.tasks),
outside any web request (issue 16: a city's 20 MB history runs for 208 s, docs/performance.md).

Each state change is one function here: `import_run_queue` (the upload), `import_run_execute`
(the job), `import_run_requeue` (a run whose worker was lost, queued again by an
administrator), `import_run_import_checked` (a file checked by a dry run, now imported).
Running a run again is safe: the import is idempotent (an application already imported, as
the file has it, is "unchanged" and gets no second history entry).
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.audit import activity_record, excerpt
from core.jobs import enqueue_after_commit
from core.models import Municipality
from exchange.importing.mapping import MappingError, load_mapping
from exchange.importing.reading import ImportFileError
from exchange.importing.services import ImportReport, applications_import
from exchange.models import (
    SHOWN_ROWS,
    ImportRun,
    ImportRunStatus,
    preview_values,
)

logger = logging.getLogger(__name__)

RUN_DIR = "imports"
REASON_MAX_LENGTH = 500


class RunNotStale(Exception):
    """The run is not one whose worker was lost (it finished, or is still alive)."""


class RunNotCheckedFile(Exception):
    """The run is not a finished dry run with applications to import."""


class RunAlreadyImported(Exception):
    """The dry run's file was imported already, by the run `imported_as`."""

    def __init__(self, imported_as: ImportRun):
        super().__init__(imported_as.pk)
        self.imported_as = imported_as


class RunSuperseded(Exception):
    """The run was queued again and claimed by another attempt: this worker's is over."""


class StoredFileChanged(Exception):
    """The stored file is not the one uploaded (its size or SHA-256 differs from the run's):
    replaced in storage since, so importing it would import what nobody checked."""


def _store(upload) -> tuple[str, str]:
    """The uploaded file saved under imports/ with a random name; (name, SHA-256)."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = default_storage.save(f"{RUN_DIR}/{secrets.token_urlsafe(24)}.csv", upload)
    return name, digest.hexdigest()


def import_run_queue(
    *, municipality: Municipality, upload, mapping: str, dry_run: bool, actor
) -> ImportRun:
    """Store `upload` and queue its import into `municipality` (a dry run saves nothing).

    Side effects: the file written to the default storage under imports/; an ImportRun
    (queued) and an Activity on the municipality's trail; after the commit, the job
    exchange.tasks.import_run_job enqueued. Nothing is imported here.
    """
    name, sha256 = _store(upload)
    try:
        run = _queue_stored(name, sha256, municipality, upload, mapping, dry_run, actor)
    except BaseException:
        default_storage.delete(name)  # no run refers to it
        raise
    return run


def _queue_stored(name, sha256, municipality, upload, mapping, dry_run, actor) -> ImportRun:
    with transaction.atomic():
        run = ImportRun.objects.create(
            municipality=municipality,
            uploaded_by=actor,
            file=name,
            original_name=excerpt(upload.name, 255),
            size=upload.size,
            sha256=sha256,
            mapping=mapping,
            dry_run=dry_run,
            language=translation.get_language() or "en",
        )
        _record(run, actor, "import_queued", "queued")
        _enqueue(run)
    return run


def import_run_import_checked(*, run: ImportRun, actor) -> ImportRun:
    """Import for real the file that the dry run `run` checked: a new run of the same stored
    file (its SHA-256 unchanged), queued.

    Side effects: an ImportRun (queued), recorded on `run` as its `imported_as` (a
    conditional UPDATE in the same transaction: of two clicks, one imports), and an
    Activity; after the commit, its job enqueued.
    Raises RunAlreadyImported when the file was imported already (by this click's twin);
    RunNotCheckedFile unless `run` is a finished dry run with applications.
    """
    if run.imported_as_id is not None:
        raise RunAlreadyImported(run.imported_as)
    if not run.may_be_imported:
        raise RunNotCheckedFile
    try:
        return _import_checked(run, actor)
    except _LostTheRace:
        run.refresh_from_db(fields=["imported_as"])
        raise RunAlreadyImported(run.imported_as) from None


class _LostTheRace(Exception):
    """Another request recorded its import first: this one's run is rolled back."""


def _import_checked(run: ImportRun, actor) -> ImportRun:
    with transaction.atomic():
        new = ImportRun.objects.create(
            municipality=run.municipality,
            uploaded_by=actor,
            file=run.file.name,
            original_name=run.original_name,
            size=run.size,
            sha256=run.sha256,
            mapping=run.mapping,
            dry_run=False,
            language=translation.get_language() or "en",
        )
        recorded = ImportRun.objects.filter(pk=run.pk, imported_as__isnull=True).update(
            imported_as=new
        )
        if not recorded:
            raise _LostTheRace  # rolls `new` back, and its job is never enqueued
        _record(new, actor, "import_queued", "queued")
        _enqueue(new)
    return new


def import_run_requeue(*, run: ImportRun, actor) -> None:
    """Queue again a stale run (ImportRun.is_stale): left running by a lost worker, or
    queued with no live job. The import is idempotent, so what a lost worker saved is found
    unchanged and the rest is imported; a worker only stalled is fenced by the attempt.

    Side effects: the run back to queued (a conditional UPDATE: of two administrators, one
    requeues it) and an Activity; after the commit, its job enqueued.
    Raises RunNotStale when the run is not (any more) stale.
    """
    with transaction.atomic():
        claimed = (
            ImportRun.objects.filter(pk=run.pk)
            .stale()
            .update(status=ImportRunStatus.QUEUED, started_at=None, progress_at=None)
        )
        if not claimed:
            raise RunNotStale
        run.refresh_from_db()
        _record(run, actor, "import_requeued", "queued again: no worker was importing it")
        _enqueue(run)


def import_run_execute(run_id: int) -> bool:
    """Run the import of queued run `run_id` (the job's work); True when this call ran it.

    Claims the run (queued → running, a conditional UPDATE: a job run twice imports once;
    the claim counts an attempt, and this worker writes only while the run is its attempt),
    checks that the stored file is still the one uploaded (its size and SHA-256), imports it
    in the uploader's language, then records the summary, the first
    rejected rows and warnings, and done; or failed with a reason a person can act on when
    the file cannot be imported or anything else stops it (the traceback goes to the log).

    Side effects: what applications_import saves (applications and their history, batch by
    batch, each committed); the run's progress after each batch; its outcome.
    """
    now = timezone.now()
    claimed = ImportRun.objects.filter(pk=run_id, status=ImportRunStatus.QUEUED).update(
        status=ImportRunStatus.RUNNING, started_at=now, progress_at=now, attempt=F("attempt") + 1
    )
    if not claimed:
        return False
    run = ImportRun.objects.select_related("municipality", "uploaded_by").get(pk=run_id)
    with translation.override(run.language):
        try:
            report = _import(run)
        except RunSuperseded:
            logger.warning("Import run %s: attempt %s superseded, stopped", run_id, run.attempt)
        except (ImportFileError, MappingError) as exc:
            _fail(run, str(exc))
        except FileNotFoundError:
            _fail(run, gettext("The uploaded file is no longer in storage: upload it again."))
        except StoredFileChanged:
            _fail(run, gettext("The stored file is not the one checked: upload it again."))
        except Exception:
            logger.exception("Import run %s stopped on an unexpected error", run_id)
            _fail(
                run,
                gettext(
                    "The import stopped on an unexpected error; what the batches before it "
                    "saved stays saved. Tell the operator the run's number (%(number)s): the "
                    "details are in the server's log."
                )
                % {"number": run.pk},
            )
        else:
            _done(run, report)
    return True


def _import(run: ImportRun) -> ImportReport:
    def progress(done: int, total: int) -> None:
        if not _this_attempt(run).update(progress_at=timezone.now()):
            raise RunSuperseded  # stops the import after the batch it committed

    with default_storage.open(run.file.name, "rb") as handle:
        _check_stored(handle, run)
        return applications_import(
            municipality=run.municipality,
            data=getattr(handle, "file", handle),  # read line by line, never whole
            mapping=load_mapping(run.mapping),
            source_name=run.original_name,
            actor=run.uploaded_by,
            dry_run=run.dry_run,
            progress=progress,
        )


def _check_stored(handle, run: ImportRun) -> None:
    """Raise StoredFileChanged unless `handle` holds the bytes the run recorded (size and
    SHA-256): "Import now" imports the file its dry run checked, not whatever has been put
    under its name since. Read in chunks, never whole (a file of 25 MB); left at its start."""
    digest = hashlib.sha256()
    size = 0
    for chunk in handle.chunks():  # from the start
        digest.update(chunk)
        size += len(chunk)
    if size != run.size or digest.hexdigest() != run.sha256:
        raise StoredFileChanged
    handle.seek(0)


def _this_attempt(run: ImportRun):
    """The run, while it is still running as this worker's attempt: its writes go through
    this, so those of a worker superseded by "Queue it again" (stalled, not dead) change
    nothing."""
    return ImportRun.objects.filter(pk=run.pk, status=ImportRunStatus.RUNNING, attempt=run.attempt)


def _done(run: ImportRun, report: ImportReport) -> None:
    counts = report.counts()
    _this_attempt(run).update(
        status=ImportRunStatus.DONE,
        finished_at=timezone.now(),
        rows_read=counts.rows,
        applications_created=counts.created,
        applications_updated=counts.updated,
        applications_unchanged=counts.unchanged,
        rows_skipped=counts.skipped,
        rows_merged=counts.merged,
        rows_rejected=counts.rejected,
        warned_applications=counts.warned_applications,
        warnings_count=len(report.warnings),
        seconds=counts.seconds,
        rejections=[[r.line, r.number, r.reason] for r in report.rejected[:SHOWN_ROWS]],
        warnings=[[w.line, w.number, w.what] for w in report.warnings[:SHOWN_ROWS]],
        notes=report.notes,
        preview=[
            {
                "action": row.action,
                "line": row.line,
                "changed": row.changed,
                "values": preview_values(row.application),
            }
            for row in report.preview
        ],
        language_column=report.language_column,
        failure_reason="",
    )


def _fail(run: ImportRun, reason: str) -> None:
    _this_attempt(run).update(
        status=ImportRunStatus.FAILED,
        finished_at=timezone.now(),
        failure_reason=excerpt(reason, REASON_MAX_LENGTH),
    )


def _enqueue(run: ImportRun) -> None:
    # Imported here: the job's module imports this one for its work.
    from exchange.tasks import import_run_job

    enqueue_after_commit(import_run_job, run.pk)


def _record(run: ImportRun, actor, verb: str, what: str) -> None:
    kind = "check (dry run)" if run.dry_run else "import"
    activity_record(
        municipality_id=run.municipality_id,
        actor=actor,
        verb=verb,
        summary=f"CSV {kind} of {run.original_name} (mapping {run.mapping}, "
        f"SHA-256 {run.sha256[:12]}…), run {run.pk}: {what}",
    )

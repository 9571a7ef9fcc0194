"""Checking the stored documents against the SHA-256 recorded when they were issued, the
files against the rows that reference them, and finishing what a crash interrupted.

Documents are written as `<final name>.pending-<random>` and renamed once their transaction
commits (core.files). `recover_documents` finishes a rename a crash cut off (when the pending
file's SHA-256 is the row's) and removes pending files no row is waiting for;
`find_record_problems` lists everything that does not match, for `verify_records`.
"""

import dataclasses
import datetime
import hashlib

from django.core.files.storage import default_storage
from django.utils import timezone

from core.files import pending_target, publish
from inspections.models import Photo, Visit, VisitStatus
from inspections.services import visit_report_queue
from occupancy.models import OccupancyPermit, OccupancyPermitRevocation, PermitStatus

# The folders issued documents and photos are stored in (their fields' upload_to); any
# other file in them is either a pending write or a leftover no record references.
RECORD_FOLDERS = ("occupancy", "revocations", "reports", "photos")

# A pending file younger than this may belong to a close still running on another worker:
# it is neither removed nor reported. A close is bounded well below it (rendering has a
# time limit, docs/reliability.md).
PENDING_GRACE = datetime.timedelta(minutes=15)

# A closed visit's inspection report is stored by a job seconds after the close
# (inspections.tasks). Still missing after this long, its job was lost (no worker running,
# a crash, every retry failed): verify_records reports it and recover_documents queues it
# again. Younger, it is being prepared.
REPORT_OVERDUE = datetime.timedelta(hours=1)


@dataclasses.dataclass(frozen=True)
class RecordProblem:
    kind: str
    identifier: str
    path: str
    problem: str


def _digest(field_file) -> str:
    sha = hashlib.sha256()
    with field_file.storage.open(field_file.name, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            sha.update(chunk)
    return sha.hexdigest()


# Rows read per query while checking every document: server-side cursors are off
# (config.settings: PgBouncer in transaction mode), so .iterator() would receive a whole
# table in one result; keyset batches keep the command's memory bounded by this.
BATCH_SIZE = 2000


def _in_batches(queryset):
    """Every row of `queryset` in primary-key order, BATCH_SIZE rows per query (each batch
    starts after the last key read, so rows added meanwhile neither repeat nor shift)."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        batch = list(page[:BATCH_SIZE])
        yield from batch
        if len(batch) < BATCH_SIZE:
            return
        last = batch[-1].pk


def _documents():
    # The snapshot, a permit's largest column, is not needed to check its file.
    permits = OccupancyPermit.objects.select_related("municipality").defer("snapshot")
    for permit in _in_batches(permits):
        yield (
            "occupancy permit",
            f"{permit.municipality.slug} {permit.number}",
            permit.pdf,
            permit.pdf_sha256,
        )
    revocations = OccupancyPermitRevocation.objects.select_related("permit__municipality").defer(
        "permit__snapshot"
    )
    for revocation in _in_batches(revocations):
        permit = revocation.permit
        yield (
            "revocation notice",
            f"{permit.municipality.slug} {permit.number}",
            revocation.notice_pdf,
            revocation.notice_sha256,
        )
    reports = Visit.objects.exclude(report_pdf="").select_related(
        "inspection__application__municipality"
    )
    for visit in _in_batches(reports):
        application = visit.inspection.application
        yield (
            "inspection report",
            f"{application.municipality.slug} {application.number} "
            f"{visit.inspection.code} visit {visit.sequence}",
            visit.report_pdf,
            visit.report_sha256,
        )


def reports_not_stored():
    """The closed visits whose inspection report is not stored yet, oldest close first."""
    return (
        Visit.objects.filter(status=VisitStatus.CLOSED, report_pdf="")
        .select_related("inspection__application__municipality")
        .order_by("closed_at", "id")
    )


def _report_identifier(visit: Visit) -> str:
    application = visit.inspection.application
    return (
        f"{application.municipality.slug} {application.number} {visit.inspection.code} "
        f"visit {visit.sequence}"
    )


def reports_being_prepared(*, now: datetime.datetime | None = None) -> list[RecordProblem]:
    """The closed visits whose report is pending and not overdue (REPORT_OVERDUE): normal
    for a job queued moments ago; shown, not counted as problems."""
    now = now or timezone.now()
    return [
        RecordProblem(
            "inspection report",
            _report_identifier(visit),
            "",
            f"being prepared (closed {_minutes(now - visit.closed_at)} ago)",
        )
        for visit in reports_not_stored().filter(closed_at__gt=now - REPORT_OVERDUE)
    ]


def _minutes(delta: datetime.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def reports_requeue(*, grace: datetime.timedelta = PENDING_GRACE) -> list[str]:
    """Queue again the report job of every visit closed more than `grace` ago whose report
    is not stored (a lost job would otherwise leave it missing for good); the job is
    idempotent, so one still queued as well stores a single report. The identifiers of
    the visits queued."""
    visits = list(reports_not_stored().filter(closed_at__lte=timezone.now() - grace))
    numbers = dict(
        OccupancyPermit.objects.filter(visit_id__in=[visit.pk for visit in visits]).values_list(
            "visit_id", "number"
        )
    )
    for visit in visits:
        visit_report_queue(visit=visit, permit_number=numbers.get(visit.pk, ""))
    return [_report_identifier(visit) for visit in visits]


def _pending_copies(storage, final: str) -> list[str]:
    folder, _, _ = final.rpartition("/")
    try:
        _, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    return [f"{folder}/{name}" for name in files if pending_target(f"{folder}/{name}") == final]


def verify_documents() -> tuple[int, list[RecordProblem]]:
    """Every stored PDF read back and hashed: (documents checked, problems found)."""
    checked, problems = 0, []
    for kind, identifier, field_file, expected in _documents():
        checked += 1
        if not field_file.name:
            problems.append(RecordProblem(kind, identifier, "", "no document recorded"))
            continue
        try:
            actual = _digest(field_file)
        except FileNotFoundError:
            problem = "file is missing"
            if _pending_copies(field_file.storage, field_file.name):
                problem += " (its write was not finished: run recover_documents)"
            problems.append(RecordProblem(kind, identifier, field_file.name, problem))
            continue
        except OSError as exc:
            problems.append(RecordProblem(kind, identifier, field_file.name, f"unreadable: {exc}"))
            continue
        if actual != expected:
            problems.append(
                RecordProblem(
                    kind, identifier, field_file.name, f"SHA-256 {actual} != recorded {expected}"
                )
            )
    return checked, problems


def _sha256_of(storage, name: str) -> str:
    sha = hashlib.sha256()
    with storage.open(name, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            sha.update(chunk)
    return sha.hexdigest()


def _stored_files(storage, folder: str):
    """Every file under `folder` of the storage, as storage names."""
    try:
        # Not storage.exists(folder): a bucket has no folders, only names with a prefix.
        directories, files = storage.listdir(folder)
    except FileNotFoundError:  # local files: the folder was never created
        return
    for name in files:
        yield f"{folder}/{name}"
    for directory in directories:
        yield from _stored_files(storage, f"{folder}/{directory}")


def _referenced_names() -> set[str]:
    names = set(OccupancyPermit.objects.values_list("pdf", flat=True))
    names |= set(OccupancyPermitRevocation.objects.values_list("notice_pdf", flat=True))
    names |= set(Visit.objects.exclude(report_pdf="").values_list("report_pdf", flat=True))
    for image, thumbnail in Photo.objects.values_list("image", "thumbnail"):
        names |= {image, thumbnail}
    return names - {""}


def _is_recent(storage, name: str, now: datetime.datetime, grace: datetime.timedelta) -> bool:
    try:
        return now - storage.get_modified_time(name) < grace
    except FileNotFoundError:
        return True  # published or removed while we looked


@dataclasses.dataclass(frozen=True)
class Recovery:
    published: list[str]  # pending files given their final name (the row was committed)
    removed: list[str]  # pending files no row is waiting for
    requeued: list[str] = dataclasses.field(default_factory=list)  # reports queued again


def recover_documents(*, grace: datetime.timedelta = PENDING_GRACE) -> Recovery:
    """Finish what a killed worker left: a pending file whose row committed (its final file
    missing, the SHA-256 the row's) gets its final name; a pending file older than `grace`
    that no row is waiting for (its transaction rolled back or died) is removed; the report
    of a visit closed more than `grace` ago and still not stored is queued again
    (reports_requeue)."""
    storage = default_storage
    now = timezone.now()
    expected = {
        field_file.name: digest
        for _, _, field_file, digest in _documents()
        if field_file.name and not storage.exists(field_file.name)
    }
    published, removed = [], []
    for folder in RECORD_FOLDERS:
        for name in list(_stored_files(storage, folder)):
            final = pending_target(name)
            if final is None:
                continue
            if final in expected and _sha256_of(storage, name) == expected[final]:
                publish(storage, name, final)
                del expected[final]
                published.append(final)
            elif not _is_recent(storage, name, now, grace):
                storage.delete(name)
                removed.append(name)
    # Last: a job run at once (the tests') writes its own pending file meanwhile.
    requeued = reports_requeue(grace=grace)
    return Recovery(published=published, removed=removed, requeued=requeued)


def find_record_problems(
    *, grace: datetime.timedelta = PENDING_GRACE
) -> tuple[int, list[RecordProblem]]:
    """Everything `verify_records` reports: (documents checked, problems). A document whose
    file is missing or changed; a file under the records' folders that no record references
    (a pending write older than `grace` included); a photo whose file is missing; a revoked
    permit without its revocation; a revocation whose permit is not revoked, or without its
    notice (a document without its file is one of verify_documents' problems); a closed
    visit whose report is still not stored REPORT_OVERDUE after its close."""
    storage = default_storage
    checked, problems = verify_documents()
    now = timezone.now()
    for visit in reports_not_stored().filter(closed_at__lte=now - REPORT_OVERDUE):
        problems.append(
            RecordProblem(
                "inspection report",
                _report_identifier(visit),
                "",
                f"not stored {_minutes(now - visit.closed_at)} after the close: its job was "
                "lost (recover_documents queues it again)",
            )
        )
    for image, thumbnail, code in Photo.objects.values_list("image", "thumbnail", "code"):
        for name in (image, thumbnail):
            if not name or not storage.exists(name):
                problems.append(RecordProblem("photo", code, name, "file is missing"))
    referenced = _referenced_names()
    now = timezone.now()
    for folder in RECORD_FOLDERS:
        for name in _stored_files(storage, folder):
            if name in referenced:
                continue
            if pending_target(name) is not None:
                if _is_recent(storage, name, now, grace):
                    continue  # a write still in progress, or about to be published
                problem = "unfinished write no record references (recover_documents removes it)"
            else:
                problem = "no record references this file"
            problems.append(RecordProblem("unreferenced file", "-", name, problem))
    revoked_without_revocation = OccupancyPermit.objects.filter(
        status=PermitStatus.REVOKED, revocation__isnull=True
    ).select_related("municipality")
    for permit in revoked_without_revocation.order_by("id"):
        problems.append(
            RecordProblem(
                "occupancy permit",
                f"{permit.municipality.slug} {permit.number}",
                permit.pdf.name,
                "revoked without a revocation record",
            )
        )
    revocations = OccupancyPermitRevocation.objects.select_related("permit__municipality")
    for revocation in revocations.order_by("id"):
        permit = revocation.permit
        identifier = f"{permit.municipality.slug} {permit.number}"
        if permit.status != PermitStatus.REVOKED:
            problems.append(
                RecordProblem(
                    "revocation notice",
                    identifier,
                    revocation.notice_pdf.name,
                    f"the permit's status is {permit.status}, not revoked",
                )
            )
    return checked, problems

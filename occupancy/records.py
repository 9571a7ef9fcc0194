"""Checking the stored documents against the SHA-256 recorded when they were issued."""

import dataclasses
import hashlib

from inspections.models import Visit
from occupancy.models import OccupancyPermit, OccupancyPermitRevocation


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


def _documents():
    for permit in OccupancyPermit.objects.select_related("municipality").order_by("id").iterator():
        yield (
            "occupancy permit",
            f"{permit.municipality.slug} {permit.number}",
            permit.pdf,
            permit.pdf_sha256,
        )
    for revocation in (
        OccupancyPermitRevocation.objects.select_related("permit__municipality")
        .order_by("id")
        .iterator()
    ):
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
    for visit in reports.order_by("id").iterator():
        application = visit.inspection.application
        yield (
            "inspection report",
            f"{application.municipality.slug} {application.number} "
            f"{visit.inspection.code} visit {visit.sequence}",
            visit.report_pdf,
            visit.report_sha256,
        )


def verify_documents() -> tuple[int, list[RecordProblem]]:
    """Every stored PDF read back and hashed: (documents checked, problems found)."""
    checked, problems = 0, []
    for kind, identifier, field_file, expected in _documents():
        checked += 1
        try:
            actual = _digest(field_file)
        except FileNotFoundError:
            problems.append(RecordProblem(kind, identifier, field_file.name, "file is missing"))
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

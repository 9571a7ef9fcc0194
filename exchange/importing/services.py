"""The batch importer of applications: a municipality's permits from its old system."""

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.db import DatabaseError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext

from core.audit import SUMMARY_MAX_LENGTH, excerpt
from core.models import Activity, Municipality
from core.numbers import grouped
from exchange.importing.mapping import Mapping
from exchange.importing.reading import decode, read_rows
from exchange.importing.records import DataQualityWarning, Record, Rejection, RowReader, prepare
from permits.models import Application, ApplicationStatus

BATCH_SIZE = 500
PREVIEW_ROWS = 20
_STATUS_ORDER = {status: rank for rank, status in enumerate(ApplicationStatus.values)}
_DATE_FIELDS_FOR_ACTIVITY = ("applied_on", "permit_issued_on", "occupied_on", "completed_on")


@dataclass
class PreviewRow:
    action: str  # "create", "update" or "unchanged"
    line: int
    application: Application
    changed: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    mapping: str
    source: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    merged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[DataQualityWarning] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)
    language_column: str = ""  # the file's column giving the language of correspondence, if any
    seconds: float = 0.0

    @property
    def applications(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def counts(self) -> "ImportCounts":
        """The numbers its summary says, and an import run stores (exchange.importing.runs)."""
        return ImportCounts(
            dry_run=self.dry_run,
            rows=self.rows,
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
            skipped=self.skipped,
            rejected=len(self.rejected),
            merged=self.merged,
            warned_applications=len({w.number for w in self.warnings}),
            seconds=self.seconds,
        )

    def summary(self) -> str:
        """What the import did (or would do), in the active language: the admin's run page
        and the command's output (English)."""
        return import_summary(self.counts())


@dataclass(frozen=True)
class ImportCounts:
    """The numbers a summary says: a report's, or those an import run stored
    (exchange.models.ImportRun), which keeps only the first of its rejected rows."""

    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    rejected: int
    merged: int
    warned_applications: int
    seconds: float


def import_summary(counts: ImportCounts) -> str:
    """ "12 rows read: 10 applications created, …, 0.4 s, 30 rows/s." in the active language."""
    if counts.dry_run:
        created = ngettext(
            "%(count)s application would be created",
            "%(count)s applications would be created",
            counts.created,
        )
        updated = ngettext(
            "%(count)s would be updated", "%(count)s would be updated", counts.updated
        )
    else:
        created = ngettext(
            "%(count)s application created", "%(count)s applications created", counts.created
        )
        updated = ngettext("%(count)s updated", "%(count)s updated", counts.updated)
    outcomes = [
        created % {"count": grouped(counts.created)},
        updated % {"count": grouped(counts.updated)},
        ngettext("%(count)s unchanged", "%(count)s unchanged", counts.unchanged)
        % {"count": grouped(counts.unchanged)},
        ngettext("%(count)s row skipped (blank)", "%(count)s rows skipped (blank)", counts.skipped)
        % {"count": grouped(counts.skipped)},
        ngettext("%(count)s row rejected", "%(count)s rows rejected", counts.rejected)
        % {"count": grouped(counts.rejected)},
    ]
    text = gettext("%(rows)s: %(outcomes)s") % {
        "rows": ngettext("%(count)s row read", "%(count)s rows read", counts.rows)
        % {"count": grouped(counts.rows)},
        "outcomes": ", ".join(outcomes),
    }
    if counts.merged:
        text += "; " + ngettext(
            "%(count)s row merged into the newest row of their permit",
            "%(count)s rows merged into the newest row of their permit",
            counts.merged,
        ) % {"count": grouped(counts.merged)}
    if counts.warned_applications:
        text += "; " + ngettext(
            "%(count)s application with a data-quality warning (kept as the file has it)",
            "%(count)s applications with a data-quality warning (kept as the file has it)",
            counts.warned_applications,
        ) % {"count": grouped(counts.warned_applications)}
    speed = counts.rows / counts.seconds if counts.seconds else 0.0
    text += ". " + gettext("%(seconds)s s, %(speed)s rows/s.") % {
        "seconds": formats.number_format(counts.seconds, 1),
        "speed": grouped(speed, 0),
    }
    return (gettext("Dry run, nothing saved.") + " " if counts.dry_run else "") + text


@dataclass
class _Outcome:
    record: Record
    action: str
    application: Application
    changed: list[str]


def applications_import(
    *,
    municipality: Municipality,
    data: bytes | BinaryIO,
    mapping: Mapping,
    source_name: str = "",
    actor=None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    preview_limit: int = PREVIEW_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the applications of a CSV file into a municipality, keyed on the permit
    number: new numbers are created, known ones updated when a mapped value changed.
    `data` is the file's bytes or a seekable binary file, read line by line (twice: see
    reading.py), so a large file is never held whole; what is kept is one record per permit
    number, the least a merge of rows of one number needs.

    Rows of one number become one application (the newest row's values, the earliest
    applied date). Rows that cannot be imported are reported with their line and reason;
    the others still go in. Each batch of `batch_size` applications is one transaction.
    An update never moves an application's status back (work may have moved on in Threshold)
    and never touches the mapping's `on_create` fields.

    Side effects: Application rows created and updated, each with an Activity ("imported",
    "import_updated") by `actor`; with dry_run every batch is rolled back.
    Raises ImportFileError when the file as a whole cannot be read.
    """
    started = time.perf_counter()
    source = source_name or "a CSV file"
    report = ImportReport(mapping=mapping.name, source=source, dry_run=dry_run)
    decoded = decode(data)
    report.notes += decoded.notes
    header, rows = read_rows(decoded, delimiter=mapping.delimiter)
    on_create = {"city": municipality.city, "province": municipality.province}
    on_create.update(mapping.on_create)
    reader = RowReader(mapping, header, on_create)
    report.language_column = reader.language_column
    if reader.language_column:
        report.notes.append(
            gettext("The column %(column)s gives each application's language of correspondence.")
            % {"column": reader.language_column}
        )
    prepared = prepare(rows, reader=reader, on_create=on_create)
    report.rows, report.skipped, report.merged = prepared.rows, prepared.skipped, prepared.merged
    report.rejected = prepared.rejections

    records = prepared.records
    context = _BatchContext(
        municipality=municipality,
        on_create=on_create,
        actor=actor,
        label=f"{source} (mapping {mapping.name})",
        now=timezone.now(),
    )
    for start in range(0, len(records), batch_size):
        with transaction.atomic():
            outcomes, refused = _save_batch_or_each(context, records[start : start + batch_size])
            if dry_run:
                transaction.set_rollback(True)
        for outcome in outcomes:
            setattr(report, outcome.action, getattr(report, outcome.action) + 1)
            record = outcome.record
            report.warnings += [
                DataQualityWarning(record.line, record.number, what) for what in record.warnings
            ]
            if len(report.preview) < preview_limit:
                report.preview.append(
                    PreviewRow(
                        action={"created": "create", "updated": "update"}.get(
                            outcome.action, outcome.action
                        ),
                        line=outcome.record.line,
                        application=outcome.application,
                        changed=outcome.changed,
                    )
                )
        report.rejected += refused
        if progress is not None:
            progress(min(start + batch_size, len(records)), len(records))
    report.rejected.sort(key=lambda r: r.line)
    report.warnings.sort(key=lambda w: w.line)
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _BatchContext:
    municipality: Municipality
    on_create: dict[str, str]
    actor: Any
    label: str
    now: datetime.datetime


def _save_batch_or_each(
    context: _BatchContext, records: list[Record]
) -> tuple[list[_Outcome], list[Rejection]]:
    """The batch in bulk; if the database refuses it, each record on its own, so that one
    bad record costs only itself."""
    try:
        with transaction.atomic():
            return _save_batch(context, records), []
    except DatabaseError:
        pass
    outcomes, refused = [], []
    for record in records:
        try:
            with transaction.atomic():
                outcomes += _save_batch(context, [record])
        except DatabaseError as exc:
            reason = gettext("the database refused it: %(error)s") % {
                "error": " ".join(str(exc).split())[:200]
            }
            refused += [Rejection(line, record.number, reason) for line in record.lines]
    return outcomes, refused


def _save_batch(context: _BatchContext, records: list[Record]) -> list[_Outcome]:
    existing = {
        application.number: application
        for application in Application.objects.filter(
            municipality=context.municipality, number__in=[r.number for r in records]
        )
    }
    outcomes: list[_Outcome] = []
    update_fields: set[str] = set()
    for record in records:
        application = existing.get(record.number)
        if application is None:
            application = Application(
                municipality=context.municipality, **{**context.on_create, **record.values}
            )
            application.last_activity_at = _last_activity(record.values)
            application.search_text = application.build_search_text()
            outcomes.append(_Outcome(record, "created", application, []))
            continue
        changed = _apply(application, record.values)
        if changed:
            application.updated_at = context.now
            application.search_text = application.build_search_text()
            update_fields.update(changed)
        outcomes.append(
            _Outcome(record, "updated" if changed else "unchanged", application, changed)
        )

    created = [o.application for o in outcomes if o.action == "created"]
    updated = [o.application for o in outcomes if o.action == "updated"]
    Application.objects.bulk_create(created)
    if updated:
        Application.objects.bulk_update(
            updated, [*sorted(update_fields), "search_text", "updated_at"]
        )
    Activity.objects.bulk_create(
        [
            *(_activity(context, outcome) for outcome in outcomes if outcome.action != "unchanged"),
            *(_data_quality_activity(context, o) for o in outcomes if _notes_newly_set(o)),
        ]
    )
    return outcomes


def _apply(application: Application, values: dict[str, Any]) -> list[str]:
    """Set the values that differ on the application; the names of the fields changed."""
    changed = []
    for name, value in values.items():
        if getattr(application, name) == value:
            continue
        if name == "status" and _STATUS_ORDER[value] < _STATUS_ORDER[application.status]:
            continue
        setattr(application, name, value)
        changed.append(name)
    return changed


def _last_activity(values: dict[str, Any]) -> datetime.datetime:
    """Imported applications sort among the others by their latest date, not the import's."""
    latest = max(values[name] for name in _DATE_FIELDS_FOR_ACTIVITY if values.get(name))
    return timezone.make_aware(datetime.datetime.combine(latest, datetime.time.min))


def _where(record: Record) -> str:
    lines = record.lines
    return f"line {lines[0]}" if len(lines) == 1 else f"lines {', '.join(map(str, lines))}"


def _notes_newly_set(outcome: _Outcome) -> bool:
    """Whether this save gives the application data-quality notes it did not have."""
    if not outcome.application.data_quality_notes:
        return False
    return outcome.action == "created" or "data_quality_notes" in outcome.changed


def _data_quality_activity(context: _BatchContext, outcome: _Outcome) -> Activity:
    """The warning on the application's history, beside its "Imported from" entry."""
    summary = (
        f"Data-quality warning from {context.label}, {_where(outcome.record)}: "
        f"{outcome.application.data_quality_notes}; kept as the file has it"
    )
    return Activity(
        application=outcome.application,
        actor=context.actor,
        verb="import_data_quality",
        summary=excerpt(summary, SUMMARY_MAX_LENGTH),
        at=context.now,
    )


def _activity(context: _BatchContext, outcome: _Outcome) -> Activity:
    where = _where(outcome.record)
    if outcome.action == "created":
        verb, summary = "imported", f"Imported from {context.label}, {where}"
    else:
        fields = ", ".join(name.replace("_", " ") for name in outcome.changed)
        verb, summary = "import_updated", f"Updated from {context.label}, {where}: {fields}"
    return Activity(
        application=outcome.application,
        actor=context.actor,
        verb=verb,
        summary=excerpt(summary, SUMMARY_MAX_LENGTH),
        at=context.now,
    )

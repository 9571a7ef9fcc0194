"""An import run: one CSV file uploaded in the admin, imported by a job (exchange.tasks), and
what the import said (the same summary, rejected rows and warnings the import reports).

The upload only stores the file and queues the run: an import of 20 MB runs for about 3.5
minutes on PostgreSQL (docs/performance.md), longer than a web request may hold a server
worker (issue 16).
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.models import Municipality, live_jobs
from exchange.importing.records import DataQualityWarning, Rejection
from exchange.importing.services import ImportCounts, PreviewRow, import_summary
from permits.models import Application

# A running import writes its progress after every batch of 500 applications (well under a
# second) and reads its file for about a minute at most before the first (25 MB, measured
# in docs/performance.md): a run silent for this long lost its worker (killed, OOM, deploy).
RUN_STALE_AFTER = datetime.timedelta(minutes=10)
# The rejected rows and warnings a run keeps to show (the counts are all kept): a file of
# 25 MB with every row wrong would otherwise store 100,000 reasons.
SHOWN_ROWS = 200
# The preview's fields of an application, kept as values to show them as the import saw them.
PREVIEW_FIELDS = (
    "number",
    "street_address",
    "unit",
    "city",
    "province",
    "status",
    "work_type",
    "applied_on",
    "permit_issued_on",
    "description",
    "correspondence_language",
)
_PREVIEW_DATES = ("applied_on", "permit_issued_on")


class ImportRunStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("import status", "Queued")
    RUNNING = "running", pgettext_lazy("import status", "Running")
    DONE = "done", pgettext_lazy("import status", "Done")
    FAILED = "failed", pgettext_lazy("import status", "Failed")


# The job that imports a run (exchange.tasks.import_run_job), named: the tasks import this.
IMPORT_RUN_TASK = "exchange.tasks.import_run_job"


def _stale() -> models.Q:
    """The one rule of a stale run, whose import nothing will finish: running but silent for
    RUN_STALE_AFTER (its worker was lost), or queued that long with no live job for it (the
    job was never enqueued, or lost: a queue cleared, a database restored)."""
    since = timezone.now() - RUN_STALE_AFTER
    # A live job for it (core.models.live_jobs: READY, or RUNNING since a moment).
    live_job = live_jobs(IMPORT_RUN_TASK, running_since=since).filter(
        first_arg=Cast(models.OuterRef("pk"), models.TextField())
    )
    silent = models.Q(status=ImportRunStatus.RUNNING) & ~models.Q(progress_at__gte=since)
    lost = models.Q(status=ImportRunStatus.QUEUED, queued_at__lte=since) & ~models.Exists(live_job)
    return silent | lost


class ImportRunQuerySet(models.QuerySet):
    def stale(self):
        """Runs that nothing will finish: offered "Queue it again" (ImportRun.is_stale)."""
        return self.filter(_stale())

    def with_stale(self):
        """Each run with `stale_now` (the rule above, in the same query), which
        ImportRun.is_stale reads instead of asking the database run by run."""
        return self.annotate(stale_now=models.ExpressionWrapper(_stale(), models.BooleanField()))


class ImportRun(models.Model):
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="import_runs",
        verbose_name=_("municipality"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    # Private: under imports/ in the default storage, never served; a random name.
    file = models.FileField(_("file"), max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256 digest"), max_length=64)
    mapping = models.CharField(_("mapping"), max_length=100)
    dry_run = models.BooleanField(_("check only (dry run)"), default=False)
    # The uploader's language: the job writes the rejections' reasons and notes in it, as
    # the page that imported them in the request used to.
    language = models.CharField(_("language"), max_length=10)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportRunStatus, default=ImportRunStatus.QUEUED
    )
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # Written after every batch while it runs: long silent, the worker was lost (is_stale).
    progress_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    applications_created = models.PositiveIntegerField(_("applications created"), default=0)
    applications_updated = models.PositiveIntegerField(_("applications updated"), default=0)
    applications_unchanged = models.PositiveIntegerField(_("applications unchanged"), default=0)
    rows_skipped = models.PositiveIntegerField(_("rows skipped"), default=0)
    rows_merged = models.PositiveIntegerField(_("rows merged"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    warned_applications = models.PositiveIntegerField(
        _("applications with a data-quality warning"), default=0
    )
    warnings_count = models.PositiveIntegerField(_("data-quality warnings"), default=0)
    seconds = models.FloatField(_("seconds"), default=0.0)
    # The first SHOWN_ROWS of each: [line, number, reason] and [line, number, what].
    rejections = models.JSONField(_("rejected rows"), default=list, blank=True)
    warnings = models.JSONField(_("data-quality warnings shown"), default=list, blank=True)
    notes = models.JSONField(_("notes"), default=list, blank=True)
    preview = models.JSONField(_("preview"), default=list, blank=True)
    language_column = models.CharField(_("language column"), max_length=100, blank=True)
    # Why it failed, said so the person who uploaded can act; never a traceback (the log).
    failure_reason = models.CharField(_("failure reason"), max_length=500, blank=True)
    # Each claim by a job adds one: a worker writes its progress and outcome only while the
    # run is still its attempt, so one superseded by "Queue it again" changes nothing.
    attempt = models.PositiveIntegerField(_("attempt"), default=0)
    # On a dry run: the run that imported its file ("Import now"), set once by a conditional
    # UPDATE, so that a second click finds it instead of importing the file again.
    imported_as = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checked_by",
        verbose_name=_("imported as"),
    )

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-queued_at", "-id"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        indexes = [
            models.Index(fields=["municipality", "-queued_at"], name="importrun_municipality_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ImportRunStatus.values),
                name="importrun_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportRunStatus.DONE, ImportRunStatus.FAILED)

    @property
    def is_done(self) -> bool:
        return self.status == ImportRunStatus.DONE

    @property
    def is_failed(self) -> bool:
        return self.status == ImportRunStatus.FAILED

    @property
    def is_stale(self) -> bool:
        """Nothing will finish it (the rule _stale): running and silent for longer than a live
        import ever is, or queued that long with no live job. Read from `stale_now` when the
        run was loaded with_stale()."""
        if "stale_now" in self.__dict__:
            return bool(self.stale_now)
        if self.is_finished:
            return False
        return ImportRun.objects.filter(pk=self.pk).stale().exists()

    @property
    def is_running(self) -> bool:
        return self.status == ImportRunStatus.RUNNING

    @property
    def may_be_imported(self) -> bool:
        """A checked file (a dry run done, not imported yet) may be imported from its page."""
        return (
            self.dry_run and self.is_done and self.applications > 0 and self.imported_as_id is None
        )

    @property
    def applications(self) -> int:
        return self.applications_created + self.applications_updated + self.applications_unchanged

    @property
    def was_resumed(self) -> bool:
        """Imported by a second attempt, after its first worker was lost."""
        return self.attempt > 1

    def summary(self) -> str:
        """The summary the import gave, in the active language; a resumed import says that
        what its earlier attempt saved is counted as unchanged (its counts are the last
        pass's: the created applications of the first one are not added)."""
        summary = import_summary(
            ImportCounts(
                dry_run=self.dry_run,
                rows=self.rows_read,
                created=self.applications_created,
                updated=self.applications_updated,
                unchanged=self.applications_unchanged,
                skipped=self.rows_skipped,
                rejected=self.rows_rejected,
                merged=self.rows_merged,
                warned_applications=self.warned_applications,
                seconds=self.seconds,
            )
        )
        if self.was_resumed and not self.dry_run:
            summary += " " + gettext(
                "This import was resumed after its worker stopped: the applications saved "
                "before are counted as unchanged."
            )
        return summary

    def shown_rejections(self) -> list[Rejection]:
        return [Rejection(*row) for row in self.rejections]

    def shown_warnings(self) -> list[DataQualityWarning]:
        return [DataQualityWarning(*row) for row in self.warnings]

    def preview_rows(self) -> list[PreviewRow]:
        """The first applications as the import saved them (or would have), unsaved."""
        rows = []
        for row in self.preview:
            values = dict(row["values"])
            for name in _PREVIEW_DATES:
                if values.get(name):
                    values[name] = datetime.date.fromisoformat(values[name])
            rows.append(
                PreviewRow(
                    action=row["action"],
                    line=row["line"],
                    application=Application(**values),
                    changed=row["changed"],
                )
            )
        return rows


def preview_values(application: Application) -> dict:
    """The preview's fields of `application`, as JSON."""
    values = {name: getattr(application, name) for name in PREVIEW_FIELDS}
    for name in _PREVIEW_DATES:
        if values[name] is not None:
            values[name] = values[name].isoformat()
    return values

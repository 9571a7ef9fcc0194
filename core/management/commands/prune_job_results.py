from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import task_backends


class Command(BaseCommand):
    help = (
        "Delete the finished jobs (successful or failed) of the database job queue that "
        "finished more than JOB_RESULTS_KEEP_DAYS days ago, in every queue, so the job table "
        "does not grow for ever. A waiting (READY) or running job is never touched: the mail "
        "it will send stays live. Nightly, from threshold-verify."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--keep-days",
            type=int,
            default=settings.JOB_RESULTS_KEEP_DAYS,
            help="Finished jobs younger than this are kept (default JOB_RESULTS_KEEP_DAYS, "
            "%(default)s).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args, keep_days, dry_run, verbosity, **options):
        if keep_days < 1:
            raise CommandError("--keep-days must be at least 1.")
        # Another backend (TASKS_BACKEND, e.g. immediate in development) keeps no table.
        if not isinstance(task_backends["default"], DatabaseBackend):
            self.stdout.write("The job queue is not the database's: nothing to prune.")
            return
        # django-tasks' own command deletes only finished results (SUCCESSFUL, FAILED: its
        # DBTaskResultQuerySet.finished()), by finished_at; '*': every queue, as the worker
        # runs them (threshold-worker), not only the default one.
        call_command(
            "prune_db_task_results",
            queue_name="*",
            min_age_days=keep_days,
            dry_run=dry_run,
            verbosity=verbosity,
            stdout=self.stdout,
            stderr=self.stderr,
        )

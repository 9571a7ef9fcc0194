import datetime

from django.core.management.base import BaseCommand, CommandError

from occupancy.records import (
    PENDING_GRACE,
    find_record_problems,
    recover_documents,
    reports_being_prepared,
)


class Command(BaseCommand):
    help = (
        "Read every stored occupancy permit, revocation notice and inspection report PDF and "
        "compare it with the SHA-256 recorded when it was issued; report records whose file "
        "is missing, files under the records' folders that no record references, revoked "
        "permits without a revocation, revocations without a notice and closed visits whose "
        "inspection report is still not stored an hour after the close (younger ones are "
        "listed as PENDING). Exits non-zero on any finding, so it can run from cron and "
        "alert."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="First run recover_documents: finish interrupted writes, remove leftovers.",
        )
        parser.add_argument(
            "--grace-minutes",
            type=float,
            default=PENDING_GRACE.total_seconds() / 60,
            help="Unfinished writes younger than this may belong to a running close: "
            "not reported (default %(default)s).",
        )

    def handle(self, *args, grace_minutes, repair, **options):
        grace = datetime.timedelta(minutes=grace_minutes)
        if repair:
            recovery = recover_documents(grace=grace)
            for name in recovery.published:
                self.stdout.write(f"PUBLISHED {name} (its record was committed)")
            for name in recovery.removed:
                self.stdout.write(f"REMOVED {name} (an unfinished write no record references)")
            for identifier in recovery.requeued:
                self.stdout.write(f"QUEUED inspection report {identifier} (its job was lost)")
        checked, problems = find_record_problems(grace=grace)
        # Not problems: reports a job is rendering right now (overdue ones are problems).
        for pending in reports_being_prepared():
            self.stdout.write(f"PENDING {pending.kind} {pending.identifier}: {pending.problem}")
        for problem in problems:
            self.stderr.write(
                f"MISMATCH {problem.kind} {problem.identifier} ({problem.path}): {problem.problem}"
            )
        if problems:
            raise CommandError(
                f"{len(problems)} problem(s) found; {checked} documents checked. "
                "See docs/reliability.md (Files that match the database)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"All {checked} documents verified; no missing or unreferenced files."
            )
        )

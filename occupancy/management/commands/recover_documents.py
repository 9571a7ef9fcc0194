import datetime

from django.core.management.base import BaseCommand

from occupancy.records import PENDING_GRACE, recover_documents


class Command(BaseCommand):
    help = (
        "Finish what a killed worker left behind: a document whose record was committed but "
        "whose file still has its pending name is renamed (when its SHA-256 is the one "
        "recorded); pending files no record is waiting for are removed; the inspection "
        "report of a visit closed before the grace period and still not stored is queued "
        "again. Run before the server starts; safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace-minutes",
            type=float,
            default=PENDING_GRACE.total_seconds() / 60,
            help="Pending files younger than this may belong to a running close: kept "
            "(default %(default)s; 0 when no server is running).",
        )

    def handle(self, *args, grace_minutes, **options):
        recovery = recover_documents(grace=datetime.timedelta(minutes=grace_minutes))
        for name in recovery.published:
            self.stdout.write(f"PUBLISHED {name} (its record was committed)")
        for name in recovery.removed:
            self.stdout.write(f"REMOVED {name} (an unfinished write no record references)")
        for identifier in recovery.requeued:
            self.stdout.write(f"QUEUED inspection report {identifier} (its job was lost)")
        self.stdout.write(
            f"{len(recovery.published)} document(s) published, "
            f"{len(recovery.removed)} leftover(s) removed, "
            f"{len(recovery.requeued)} report(s) queued again."
        )

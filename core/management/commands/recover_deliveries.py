import datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from core.mail import deliveries_recover


class Command(BaseCommand):
    help = (
        "Take up the e-mail that no live job will send: left mid-attempt by a killed job "
        "worker (still queued, claimed and never finished), or whose job was lost (queued, "
        "unclaimed, and no job waiting or starting for its next attempt). Each is queued for "
        "its next attempt, or failed with the reason when its attempts are used up. Run "
        "before the workers start; safe at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace-minutes",
            type=float,
            default=settings.DELIVERY_ATTEMPT_STALE_MINUTES,
            help="Attempts claimed, and mail queued, more recently may belong to a running "
            "worker or a job about to be enqueued: left alone (default "
            "DELIVERY_ATTEMPT_STALE_MINUTES, %(default)s; 0 when no worker runs).",
        )

    def handle(self, *args, grace_minutes, **options):
        recovery = deliveries_recover(older_than=datetime.timedelta(minutes=grace_minutes))
        for delivery in recovery.requeued:
            self.stdout.write(f"QUEUED e-mail {delivery.pk} to {delivery.recipient} again")
        for delivery in recovery.failed:
            self.stdout.write(
                f"FAILED e-mail {delivery.pk} to {delivery.recipient} (attempts used up)"
            )
        self.stdout.write(
            f"{len(recovery.requeued)} e-mail(s) queued again, {len(recovery.failed)} failed."
        )

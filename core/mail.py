"""E-mail sent by a background job, never by a request: a request records the mail it asks
for (core.Delivery) and the job (core.tasks.delivery_send) sends it after the commit, retries
with backoff while the server is down and records the outcome, which the application's
history shows. Any app asks for a mail here; what it says is the asking app's business (the
documents of a close: occupancy.notifications)."""

from __future__ import annotations

import dataclasses
import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.audit import activity_record, excerpt
from core.jobs import enqueue_after_commit, retry_delay
from core.models import Delivery, DeliveryKind, DeliveryStatus, Municipality
from core.tasks import delivery_fail, delivery_send


class DeliveryError(Exception):
    """A delivery cannot be asked for as requested (e.g. a resend of one still queued)."""


@dataclasses.dataclass(frozen=True)
class Attachment:
    """A stored document to attach: its file name in storage, the name it has in the mail,
    and the SHA-256 recorded for it (the job refuses the file when it no longer matches)."""

    name: str
    filename: str
    sha256: str
    content_type: str = "application/pdf"


def delivery_queue(
    *,
    application,
    municipality: Municipality,
    to: str,
    subject: str,
    body: str,
    attachments: list[Attachment] | tuple[Attachment, ...] = (),
    actor,
    kind: DeliveryKind,
    resend_of: Delivery | None = None,
) -> Delivery:
    """Ask for an e-mail to `to`; it is sent by a job once the enclosing transaction commits
    (at once when none is open).

    Side effects: one Delivery (queued); the job core.tasks.delivery_send enqueued after
    commit.
    """
    delivery = Delivery.objects.create(
        municipality=municipality,
        application=application,
        kind=kind,
        recipient=to,
        # A subject line is no place for a whole address of any length.
        subject=excerpt(subject, Delivery._meta.get_field("subject").max_length),
        body=body,
        attachments=[dataclasses.asdict(attachment) for attachment in attachments],
        actor=actor,
        resend_of=resend_of,
    )
    enqueue_after_commit(delivery_send, delivery.pk)
    return delivery


@transaction.atomic
def delivery_resend(*, delivery: Delivery, actor) -> Delivery:
    """Resend: the same message (recipient, subject, body, the same stored documents) as a
    fresh delivery, sent by the job after commit. The original stays as it was (but for
    a stranded one, below).

    Refused with DeliveryError while the delivery is still queued (it may yet be sent: a
    resend then would mail the applicant twice), unless no live job will send it
    (Delivery.objects.stranded(): its attempt was cut off when its worker died, or its job
    was lost): the original is then first failed with that reason, so no job takes it up
    again.
    Side effects: one new Delivery; its job enqueued after commit; an Activity
    (delivery_resend) on the application's history, after a delivery_failed one for a
    stranded original.
    """
    delivery = (
        Delivery.objects.select_for_update(of=("self",)).with_stranded().get(pk=delivery.pk)
    )
    if delivery.is_stranded:
        delivery_fail(delivery, delivery.stranded_reason)
        delivery.refresh_from_db()
    if delivery.status == DeliveryStatus.QUEUED:
        raise DeliveryError(
            gettext(
                "The e-mail to %(recipient)s is still queued; it will be sent or its "
                "failure shown here."
            )
            % {"recipient": delivery.recipient}
        )
    fresh = delivery_queue(
        application=delivery.application,
        municipality=delivery.municipality,
        to=delivery.recipient,
        subject=delivery.subject,
        body=delivery.body,
        attachments=[Attachment(**attachment) for attachment in delivery.attachments],
        actor=actor,
        kind=delivery.kind,
        resend_of=delivery,
    )
    activity_record(
        municipality_id=delivery.municipality_id,
        application=delivery.application,
        actor=actor,
        verb="delivery_resend",
        summary=f"E-mail to {delivery.recipient} queued again: {delivery.subject}",
    )
    return fresh


@dataclasses.dataclass
class DeliveryRecovery:
    requeued: list[Delivery] = dataclasses.field(default_factory=list)
    failed: list[Delivery] = dataclasses.field(default_factory=list)


def deliveries_recover(*, older_than: datetime.timedelta | None = None) -> DeliveryRecovery:
    """Take up the mail that no live job will send (Delivery.objects.stranded(), with
    `older_than`: default DELIVERY_ATTEMPT_STALE_MINUTES; 0 when no worker runs):

    - an attempt cut off (its worker killed mid-attempt: the row stays queued and claimed)
      counts as failed, "interrupted"; the worker may have been killed after the SMTP
      server took the message: the applicant may then get it twice, the price of not
      losing it;
    - a delivery whose job was lost (never claimed, or lost between a failed attempt and
      its retry) keeps its attempts and last error: nothing was tried since.

    Each is queued for its next attempt, or failed for good when its attempts are used up,
    as core.tasks does for a failed send. Its new job makes it live again: a second run
    takes it up only if that job is lost too.
    Side effects, per delivery: its claim cleared (and the last error set, when
    interrupted), last_queued_at set, the next attempt's job enqueued after commit and an
    Activity (delivery_requeued); or failed with a delivery_failed Activity.
    """
    recovery = DeliveryRecovery()
    for stranded in Delivery.objects.stranded(older_than=older_than).order_by("id"):
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update(of=("self",))
                .select_related("application")
                .filter(pk=stranded.pk, attempts=stranded.attempts)
                .stranded(older_than=older_than)
                .first()
            )
            if delivery is None:  # an attempt claimed or ended it meanwhile, or a Resend
                continue
            reason = delivery.stranded_reason
            if retry_delay(delivery.attempts) is None:
                delivery_fail(delivery, reason)
                recovery.failed.append(delivery)
                continue
            requeued = {"attempt_started_at": None, "last_queued_at": timezone.now()}
            if delivery.attempt_started_at:
                requeued["last_error"] = reason
            Delivery.objects.filter(pk=delivery.pk).update(**requeued)
            enqueue_after_commit(delivery_send, delivery.pk, attempt=delivery.attempts + 1)
            activity_record(
                municipality_id=delivery.municipality_id,
                application=delivery.application,
                actor=None,
                verb="delivery_requeued",
                summary=f"E-mail to {delivery.recipient} queued again: {reason}",
            )
            recovery.requeued.append(delivery)
    return recovery

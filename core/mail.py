"""E-mail sent by a background job, never by a request: a request records the mail it asks
for (core.Delivery) and the job (core.tasks.delivery_send) sends it after the commit, retries
with backoff while the server is down and records the outcome, which the application's
history shows. Any app asks for a mail here; what it says is the asking app's business (the
documents of a close: occupancy.notifications)."""

from __future__ import annotations

import dataclasses

from django.db import transaction
from django.utils.translation import gettext

from core.audit import activity_record, excerpt
from core.jobs import enqueue_after_commit
from core.models import Delivery, DeliveryKind, DeliveryStatus, Municipality
from core.tasks import delivery_send


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
    fresh delivery, sent by the job after commit. The original stays as it was.

    Refused with DeliveryError while the delivery is still queued (it may yet be sent: a
    resend then would mail the applicant twice).
    Side effects: one new Delivery; its job enqueued after commit; an Activity
    (delivery_resend) on the application's history.
    """
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
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

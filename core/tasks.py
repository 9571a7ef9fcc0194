"""Background jobs of core (run by `manage.py db_worker`, see core.jobs): sending the e-mail
a core.Delivery records."""

from __future__ import annotations

import hashlib
import logging
import smtplib
import socket

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.utils import timezone
from django_tasks import task

from core.audit import activity_record, excerpt
from core.jobs import retry_delay, retry_later
from core.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 300


class AttachmentRefused(Exception):
    """A stored document cannot be attached as recorded (missing, or changed since)."""


def failure_reason(exc: BaseException) -> str:
    """What went wrong, said so that a clerk (or the operator) can act on it: the kind of
    failure and what the server answered, never a traceback (that goes to the log)."""
    # smtplib reports a read that timed out as "Connection unexpectedly closed", with the
    # TimeoutError as its context.
    cause = exc
    while cause is not None:
        if isinstance(cause, TimeoutError | socket.timeout):
            return f"SMTP server did not answer within {settings.EMAIL_TIMEOUT} s"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "the SMTP server's name could not be resolved"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the SMTP server refused the recipient's address"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "the SMTP server refused the login"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the SMTP server closed the connection"
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        return excerpt(f"the SMTP server answered {exc.smtp_code}: {message}", REASON_MAX_LENGTH)
    if isinstance(exc, smtplib.SMTPException):
        return excerpt(f"the SMTP server refused the message: {exc}", REASON_MAX_LENGTH)
    if isinstance(exc, OSError):
        return excerpt(f"network error: {exc.strerror or exc}", REASON_MAX_LENGTH)
    return excerpt(f"{type(exc).__name__}: {exc}", REASON_MAX_LENGTH)


def _message(delivery: Delivery) -> EmailMessage:
    """The e-mail as recorded, with each stored document read now and checked against the
    digest recorded for it when the mail was asked for."""
    message = EmailMessage(delivery.subject, delivery.body, to=[delivery.recipient])
    for attachment in delivery.attachments:
        filename = attachment["filename"]
        try:
            with default_storage.open(attachment["name"], "rb") as handle:
                content = handle.read()
        except FileNotFoundError as exc:
            raise AttachmentRefused(f"{filename} is missing from storage: not sent") from exc
        if hashlib.sha256(content).hexdigest() != attachment["sha256"]:
            raise AttachmentRefused(
                f"{filename} no longer matches the SHA-256 recorded for it: not sent "
                "(run verify_records)"
            )
        message.attach(filename, content, attachment.get("content_type", "application/pdf"))
    return message


def _record(delivery: Delivery, verb: str, summary: str) -> None:
    activity_record(
        municipality_id=delivery.municipality_id,
        application=delivery.application,
        actor=None,
        verb=verb,
        summary=summary,
    )


def delivery_fail(delivery: Delivery, reason: str) -> None:
    """The delivery failed for good at its attempt `delivery.attempts`: recorded on it and on
    the application's history. Nothing happens when a later attempt has claimed it since
    (an attempt taken as interrupted that ends after all must not fail its successor)."""
    failed = Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.QUEUED, attempts=delivery.attempts
    ).update(
        status=DeliveryStatus.FAILED,
        last_error=excerpt(reason, REASON_MAX_LENGTH),
        attempt_started_at=None,
    )
    if not failed:
        return
    attempts = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
    _record(
        delivery,
        "delivery_failed",
        f"E-mail to {delivery.recipient} failed after {attempts}: {reason}",
    )


@task()
def delivery_send(delivery_id: int, attempt: int = 1) -> str:
    """Send the e-mail of Delivery `delivery_id` (attempt `attempt`, 1-based).

    A delivery is sent at most once: each attempt first claims the row with a conditional
    UPDATE (still queued, and no other run took this attempt), so a job that runs again, or
    twice at once, for a delivery already sent or being tried does nothing. No lock is held
    while the SMTP server is talked to (settings.EMAIL_TIMEOUT bounds that). The claim
    records its time: an attempt whose worker was killed stays claimed, and once older than
    DELIVERY_ATTEMPT_STALE_MINUTES it is taken as interrupted (Delivery.objects.stranded(),
    core.mail: Resend, deliveries_recover); so is a delivery whose job is lost.
    Side effects: the Delivery's attempts, status, last error and sent time; on failure, the
    next attempt enqueued after core.jobs' backoff; an Activity on the application's history
    when it is sent and when it has failed for good.
    Returns what happened ("sent", "retrying", "failed", "skipped") for the job's record.
    """
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.QUEUED, attempts=attempt - 1
    ).update(attempts=attempt, attempt_started_at=timezone.now())
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("application").get(pk=delivery_id)
    try:
        message = _message(delivery)
    except AttachmentRefused as exc:
        # The stored file will not change back: retrying would only repeat the refusal.
        delivery_fail(delivery, str(exc))
        return "failed"
    # Claimed again just before talking to the SMTP server (EMAIL_TIMEOUT bounds that), so
    # that only that bounded step can outlive DELIVERY_ATTEMPT_STALE_MINUTES; reading the
    # attachments from storage may have taken long. Taken as interrupted meanwhile (a
    # Resend, recover_deliveries): this attempt sends nothing.
    if not Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.QUEUED, attempts=attempt
    ).update(attempt_started_at=timezone.now()):
        return "skipped"
    try:
        message.send()
    except Exception as exc:  # whatever the mail server or the network did
        reason = failure_reason(exc)
        logger.warning("E-mail delivery %s, attempt %s: %s", delivery_id, attempt, reason,
                       exc_info=True)  # fmt: skip
        if retry_delay(attempt) is None:
            delivery_fail(delivery, reason)
            return "failed"
        # Recorded before the retry is enqueued: a backend that cannot defer runs it now.
        # Only this attempt's claim: a later one's (recover_deliveries) is left alone.
        # last_queued_at: a worker killed before the enqueue leaves the delivery unclaimed
        # with no job; DELIVERY_ATTEMPT_STALE_MINUTES after this it is stranded.
        Delivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.QUEUED, attempts=attempt
        ).update(last_error=reason, attempt_started_at=None, last_queued_at=timezone.now())
        retry_later(delivery_send, delivery_id, attempt=attempt)
        return "retrying"
    outcome = {"status": DeliveryStatus.SENT, "sent_at": timezone.now(), "last_error": "",
               "attempt_started_at": None}  # fmt: skip
    this_attempt = Delivery.objects.filter(pk=delivery_id, attempts=attempt)
    if not this_attempt.filter(status=DeliveryStatus.QUEUED).update(**outcome):
        # It outlived DELIVERY_ATTEMPT_STALE_MINUTES and a Resend failed it as interrupted:
        # it was sent all the same, and the history must say so.
        if this_attempt.filter(status=DeliveryStatus.FAILED).update(**outcome):
            logger.warning("E-mail delivery %s was sent after it was taken as interrupted: "
                           "raise DELIVERY_ATTEMPT_STALE_MINUTES", delivery_id)  # fmt: skip
    _record(
        delivery,
        "delivery_sent",
        f"E-mail to {delivery.recipient} sent: {delivery.subject}",
    )
    return "sent"

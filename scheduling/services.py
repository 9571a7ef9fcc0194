"""State changes of inspection requests. Each function is the one place its rule lives;
views, commands and the demo call these and never change a request themselves. Every
change is written to the application's history, and the requester is told by e-mail
(scheduling.notifications, after the commit) when a request is confirmed, moved, declined
or cancelled and when its visit's result is recorded.
"""

import datetime
import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from core import access
from core.audit import excerpt, in_record_language
from core.people import person_name
from core.text_limits import too_long
from inspections.models import Inspection, InspectionStatus, Visit
from inspections.services import inspection_add
from permits.models import Application
from permits.services import application_record_activity
from scheduling import notifications, rules
from scheduling.exceptions import RequestNotOpen, RequestRefused, SchedulingError
from scheduling.models import (
    DEFAULT_INSPECTIONS_PER_DAY,
    OPEN_STATUSES,
    CalendarFeed,
    HalfDay,
    InspectionRequest,
    InspectorCapacity,
    RequestStatus,
)

DECLINE_REASON_MAX_LENGTH = InspectionRequest._meta.get_field("decline_reason").max_length
CANCEL_REASON_MAX_LENGTH = InspectionRequest._meta.get_field("cancel_reason").max_length
# Who can be sent on an inspection: the act of starting a visit.
INSPECTS = "inspections.add_visit"


def _record(request: InspectionRequest, *, actor, verb: str, summary: str) -> None:
    application_record_activity(
        application=request.application, actor=actor, verb=verb, summary=summary
    )


def _lock(request: InspectionRequest) -> InspectionRequest:
    """Lock the request row for the rest of the transaction; refuse if it is no longer open
    (a second dispatcher, or its visit closed meanwhile)."""
    locked = (
        InspectionRequest.objects.select_for_update(of=("self",))
        .select_related("application", "inspection_type", "municipality")
        .get(pk=request.pk)
    )
    if not locked.is_open:
        raise RequestNotOpen(locked)
    return locked


def _booking(request: InspectionRequest) -> dict:
    return {
        "day": request.confirmed_date,
        "half_day": request.half_day,
        "inspector": request.assigned_inspector,
    }


def booking_label(request: InspectionRequest) -> str:
    return rules.booking_label(**_booking(request))


@transaction.atomic
def request_create(
    *,
    application: Application,
    inspection_type,
    requested_date: datetime.date,
    half_day: str,
    site_contact_name: str,
    site_contact_phone: str,
    access_notes: str = "",
    notify_email: str = "",
    actor,
) -> InspectionRequest:
    """Request an inspection of the application on a day, morning or afternoon.

    Refused (RequestRefused, by field) by scheduling.rules.request_refusals: a past day, a
    weekend or holiday, less than the minimum notice, the type already requested and not yet
    done; and an inspection type of another municipality or no longer in use.
    Side effects: the application's inspection of that type not yet closed is the one
    visited, else one is added (inspections.services.inspection_add, with its Activity);
    one InspectionRequest (Requested); an Activity.
    """
    if inspection_type.municipality_id != application.municipality_id:
        raise RequestRefused(
            {"inspection_type": gettext("Choose an inspection type of this town.")}
        )
    if not inspection_type.is_active:
        raise RequestRefused(
            {
                "inspection_type": gettext("The inspection type %(type)s is no longer used.")
                % {"type": inspection_type.name}
            }
        )
    # Lock the application row: two people requesting the same type at once would each find
    # no open request (the partial unique constraint backs this up).
    Application.objects.select_for_update().only("pk").get(pk=application.pk)
    refusals = rules.request_refusals(
        municipality=application.municipality,
        application=application,
        inspection_type=inspection_type,
        requested_date=requested_date,
    )
    if refusals:
        raise RequestRefused(refusals)
    inspection = (
        Inspection.objects.filter(application=application, inspection_type=inspection_type)
        .exclude(status__in=(InspectionStatus.CLOSED, InspectionStatus.CANCELLED))
        .order_by("created_at")
        .first()
    )
    if inspection is None:
        inspection = inspection_add(
            application=application, inspection_type=inspection_type, actor=actor
        )
    try:
        with transaction.atomic():
            request = InspectionRequest.objects.create(
                municipality_id=application.municipality_id,
                application=application,
                inspection_type=inspection_type,
                inspection=inspection,
                requested_date=requested_date,
                half_day=half_day,
                site_contact_name=site_contact_name,
                site_contact_phone=site_contact_phone,
                access_notes=access_notes,
                notify_email=notify_email,
                requested_by=actor,
            )
    except IntegrityError:
        raise RequestRefused(
            {"inspection_type": gettext("This inspection type was requested at the same moment.")}
        ) from None
    with in_record_language():
        _record(
            request,
            actor=actor,
            verb="inspection_requested",
            summary=f"{inspection_type.name} inspection requested for "
            f"{rules.day_label(requested_date)}, {HalfDay(half_day).label.lower()}",
        )
    return request


def capacity(*, municipality, inspector) -> int:
    """The inspector's daily capacity in the municipality (the default unless set)."""
    found = InspectorCapacity.objects.filter(municipality=municipality, user=inspector).first()
    return found.inspections_per_day if found else DEFAULT_INSPECTIONS_PER_DAY


def _book(request: InspectionRequest, *, inspector, day, half_day: str) -> None:
    """Check the day and the inspector's capacity and book the locked request (unsaved)."""
    municipality = request.municipality
    if not access.can(inspector, municipality.pk, INSPECTS):
        raise RequestRefused(
            {
                "inspector": gettext("%(person)s is no inspector of %(municipality)s.")
                % {"person": person_name(inspector), "municipality": municipality.name}
            }
        )
    # Lock the inspector's capacity row: two dispatchers booking the same inspector's last
    # free place at once would each count one free and both book it.
    limit, _ = InspectorCapacity.objects.get_or_create(municipality=municipality, user=inspector)
    limit = InspectorCapacity.objects.select_for_update().get(pk=limit.pk)
    refusals = rules.assignment_refusals(
        municipality=municipality,
        inspector=inspector,
        day=day,
        capacity=limit.inspections_per_day,
        request=request,
    )
    if refusals:
        raise RequestRefused(refusals)
    if (request.assigned_inspector_id, request.confirmed_date) != (inspector.pk, day):
        last = InspectionRequest.objects.filter(
            assigned_inspector=inspector, confirmed_date=day, status__in=OPEN_STATUSES
        ).aggregate(last=Max("position"))["last"]
        request.position = (last or 0) + 1
    request.assigned_inspector = inspector
    request.confirmed_date = day
    request.half_day = half_day
    request.status = RequestStatus.CONFIRMED


@transaction.atomic
def request_assign(
    *, request: InspectionRequest, inspector, day: datetime.date, half_day: str, actor
) -> InspectionRequest:
    """Confirm a request: its day, morning or afternoon, and its inspector (dispatch).

    Refused (RequestRefused, by field) when the day is past, a weekend or a holiday, the
    inspector has no inspector's role in the municipality, or is fully booked that day
    (scheduling.rules.assignment_refusals, under the inspector's capacity row lock: the
    capacity is a limit for everyone, chief building officials included; raise it in the
    administration to book more). RequestNotOpen when it was declined or done meanwhile.
    Side effects: the request Confirmed, last in the inspector's day; an Activity; the
    requester e-mailed after the commit.
    """
    request = _lock(request)
    if request.is_confirmed:
        raise SchedulingError(gettext("This request is confirmed already: move it instead."))
    _book(request, inspector=inspector, day=day, half_day=half_day)
    request.save()
    with in_record_language():
        _record(
            request,
            actor=actor,
            verb="inspection_request_confirmed",
            summary=f"{request.inspection_type.name} inspection confirmed: "
            f"{booking_label(request)}",
        )
    notifications.request_confirmed(request=request, actor=actor)
    return request


@transaction.atomic
def request_move(
    *, request: InspectionRequest, inspector, day: datetime.date, half_day: str, actor
) -> InspectionRequest:
    """Move a confirmed request to another day, half day or inspector.

    Refused as request_assign; also when nothing would change.
    Side effects: the request's booking, last in the new day when the day or inspector
    changed; an Activity naming before and after; the requester e-mailed after the commit.
    """
    request = _lock(request)
    if not request.is_confirmed:
        raise SchedulingError(gettext("This request is not confirmed yet: assign it first."))
    previous = _booking(request)
    _book(request, inspector=inspector, day=day, half_day=half_day)
    with in_record_language():
        before, after = rules.booking_label(**previous), booking_label(request)
    if before == after:
        raise RequestRefused(
            {"day": gettext("That is the booking it has: choose another day or inspector.")}
        )
    request.save()
    _record(
        request,
        actor=actor,
        verb="inspection_request_moved",
        summary=f"{request.inspection_type.name} inspection moved: {before} → {after}",
    )
    notifications.request_moved(request=request, before=previous, actor=actor)
    return request


def _told_reason(reason: str, *, missing: str, limit: int) -> str:
    """The reason a requester is told (a decline's, a cancel's), trimmed; RequestRefused at
    "reason" when it is blank (`missing`) or longer than `limit`."""
    reason = reason.strip()
    if not reason:
        raise RequestRefused({"reason": missing})
    if len(reason) > limit:
        raise RequestRefused({"reason": too_long(limit, len(reason))})
    return reason


@transaction.atomic
def request_decline(*, request: InspectionRequest, reason: str, actor) -> InspectionRequest:
    """Decline a request (not confirmed, or confirmed and no longer possible) with a reason
    the requester is told.

    Refused when the reason is blank or too long, or the request is no longer open.
    Side effects: the request Declined with its reason; an Activity; the requester e-mailed
    after the commit.
    """
    reason = _told_reason(
        reason,
        missing=gettext("Give the reason for declining: the requester is told."),
        limit=DECLINE_REASON_MAX_LENGTH,
    )
    request = _lock(request)
    if request.visit_id is not None:
        raise SchedulingError(
            gettext("A visit was started for this request: it cannot be declined.")
        )
    request.status = RequestStatus.DECLINED
    request.decline_reason = reason
    request.save()
    _record(
        request,
        actor=actor,
        verb="inspection_request_declined",
        summary=f"{request.inspection_type.name} inspection request declined: "
        f"{excerpt(reason, 200)}",
    )
    notifications.request_declined(request=request, actor=actor)
    return request


@transaction.atomic
def request_cancel(*, request: InspectionRequest, reason: str, actor) -> InspectionRequest:
    """Cancel a request no longer needed (the work is not ready, the requester called), with
    a reason the requester is told. Kept, never deleted: the application's history and its
    Inspection requests section show it Cancelled with its reason.

    Refused (RequestRefused, at "reason") when the reason is blank or too long;
    RequestNotOpen when it was declined, done or cancelled meanwhile; SchedulingError when
    scheduling.rules.cancel_refusal refuses the actor or the request (its visit started),
    asked under the request's row lock: a visit started at the same moment links itself
    first (the cancel is then refused) or finds no open request.
    Side effects: the request Cancelled with the reason, the canceller and the time (its
    place in the inspector's day and capacity freed; the type may be requested again); an
    Activity; the requester e-mailed after the commit. The inspection it named stays: a new
    request of the type visits it.
    """
    reason = _told_reason(
        reason,
        missing=gettext("Give the reason for cancelling: the requester is told."),
        limit=CANCEL_REASON_MAX_LENGTH,
    )
    request = _lock(request)
    if (refusal := rules.cancel_refusal(request=request, user=actor)) is not None:
        raise SchedulingError(refusal)
    request.status = RequestStatus.CANCELLED
    request.cancel_reason = reason
    request.cancelled_by = actor
    request.cancelled_at = timezone.now()
    request.save()
    with in_record_language():
        _record(
            request,
            actor=actor,
            verb="inspection_request_cancelled",
            summary=f"{request.inspection_type.name} inspection request of "
            f"{rules.day_label(request.day)} cancelled: {excerpt(reason, 200)}",
        )
    notifications.request_cancelled(request=request, actor=actor)
    return request


def day_requests(*, inspector, day: datetime.date):
    """The inspector's open confirmed requests of the day, in their order."""
    return InspectionRequest.objects.filter(
        assigned_inspector=inspector, confirmed_date=day, status__in=OPEN_STATUSES
    ).order_by("position", "half_day", "created_at")


@transaction.atomic
def request_reorder(*, request: InspectionRequest, up: bool, actor) -> None:
    """Move one of the inspector's own requests one place up or down their day.

    Refused when the request is not the actor's or no longer open. At the top (or bottom)
    it stays where it is.
    Side effects: the positions of the day's requests numbered 1, 2, … in the new order.
    No Activity: the order of one's own day is not a change of the request.
    """
    request = _lock(request)
    if request.assigned_inspector_id != actor.pk:
        raise SchedulingError(gettext("Only the inspector of a request orders it in their day."))
    # The inspector's day, locked in one order: two tabs reordering at once take turns.
    day = list(
        day_requests(inspector=actor, day=request.confirmed_date).select_for_update(of=("self",))
    )
    index = next(i for i, r in enumerate(day) if r.pk == request.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(day):
        day[index], day[other] = day[other], day[index]
    for position, item in enumerate(day, start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position", "updated_at"])


@transaction.atomic  # its own when a visit is created outside one (builders, the shell)
def request_link_visit(*, visit: Visit) -> InspectionRequest | None:
    """A visit started on an inspection that was requested: the request is the visit's.

    Side effects: the inspection's open request without a visit (the confirmed one first)
    gets the visit; an Activity. Called when a visit is created (scheduling.signals), inside
    the transaction that starts it.
    """
    request = (
        InspectionRequest.objects.select_for_update(of=("self",))
        .select_related("application", "inspection_type")
        .filter(inspection_id=visit.inspection_id, status__in=OPEN_STATUSES, visit=None)
        .order_by("status", "confirmed_date", "created_at")  # confirmed before requested
        .first()
    )
    if request is None:
        return None
    request.visit = visit
    request.save(update_fields=["visit", "updated_at"])
    with in_record_language():
        _record(
            request,
            actor=visit.started_by,
            verb="inspection_request_visited",
            summary=f"{request.inspection_type.name}: visit {visit.sequence} started for the "
            f"request of {rules.day_label(request.day)}",
        )
    return request


@transaction.atomic
def request_complete(*, visit: Visit) -> InspectionRequest | None:
    """The visit of a request closed: the request is Done, whatever the result (a failing
    result asks for a new visit, which is booked with a new request).

    Side effects: the request Done with the time; an Activity; the requester e-mailed the
    result after the commit. Called when the visit is saved closed (scheduling.signals),
    inside the closing transaction: the close and the request's completion are one.
    """
    request = (
        InspectionRequest.objects.select_for_update(of=("self",))
        .select_related("application", "inspection_type")
        .filter(visit=visit, status__in=OPEN_STATUSES)
        .first()
    )
    if request is None:
        return None
    request.status = RequestStatus.DONE
    request.done_at = timezone.now()
    request.save(update_fields=["status", "done_at", "updated_at"])
    with in_record_language():
        _record(
            request,
            actor=visit.closed_by,
            verb="inspection_request_done",
            summary=f"{request.inspection_type.name} inspection request done: visit "
            f"{visit.sequence} closed, {visit.get_result_display()}",
        )
    notifications.request_result(request=request, visit=visit, actor=visit.closed_by)
    return request


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_reset(*, user) -> str:
    """Make (or replace) the user's private calendar address and return its secret, which
    is not stored: only its SHA-256 is. The previous address stops working at once.

    Side effects: the user's CalendarFeed with the new digest.
    """
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        user=user,
        defaults={"token_sha256": _token_digest(token), "created_at": timezone.now()},
    )
    return token


def calendar_feed_user(token: str):
    """The user whose calendar address this is, or None (an old or made-up address)."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_sha256=_token_digest(token))
        .first()
    )
    if feed is None or not feed.user.is_active:
        return None
    return feed.user

"""What the requester is told by e-mail about their inspection request: a plain text
message asked for through core.mail (a core.Delivery sent by a job after the commit, listed
in the application's history with its outcome). Nobody is e-mailed when the request has no
e-mail for confirmations. Each message, subject and body, is written in the application's
language of correspondence, whoever's action sends it."""

from django.template.loader import render_to_string
from django.utils import dateformat, translation
from django.utils.translation import gettext

from core.mail import delivery_queue
from core.models import Delivery, DeliveryKind
from core.people import person_name
from inspections.models import FAILING_RESULTS
from scheduling import rules
from scheduling.models import HalfDay


def _in_language(request):
    """The application's language of correspondence, active while a message is written."""
    return translation.override(request.application.correspondence_language)


def _booking(request) -> dict:
    half_day = HalfDay(request.half_day)
    start, end = half_day.hours
    # "13:00" in English, "13 h 00" in French.
    time_format = gettext("H:i")
    return {
        "day": rules.day_label(request.confirmed_date, year=True),
        "half_day": half_day.label,
        "start": dateformat.time_format(start, time_format),
        "end": dateformat.time_format(end, time_format),
        "inspector": person_name(request.assigned_inspector),
    }


def _queue(request, *, kind, subject: str, template: str, actor, **context) -> Delivery | None:
    if not request.notify_email:
        return None
    application = request.application
    municipality = application.municipality
    body = render_to_string(
        f"scheduling/email/{template}.txt",
        {"request": request, "application": application, "municipality": municipality, **context},
    )
    return delivery_queue(
        application=application,
        municipality=municipality,
        to=request.notify_email,
        subject=gettext("%(subject)s: %(type)s, %(address)s")
        % {
            "subject": subject,
            "type": request.inspection_type.name,
            "address": application.full_address,
        },
        body=body,
        actor=actor,
        kind=kind,
    )


def request_confirmed(*, request, actor) -> Delivery | None:
    """The request is confirmed: the day, morning or afternoon, the inspector."""
    with _in_language(request):
        return _queue(
            request,
            kind=DeliveryKind.REQUEST_CONFIRMED,
            subject=gettext("Inspection confirmed for %(day)s")
            % {"day": rules.day_label(request.confirmed_date)},
            template="request_confirmed",
            actor=actor,
            **_booking(request),
        )


def request_moved(*, request, before: dict, actor) -> Delivery | None:
    """The confirmed request moved to another day, half day or inspector (`before`: the
    day, half_day and inspector it had)."""
    with _in_language(request):
        return _queue(
            request,
            kind=DeliveryKind.REQUEST_MOVED,
            subject=gettext("Inspection moved to %(day)s")
            % {"day": rules.day_label(request.confirmed_date)},
            template="request_moved",
            actor=actor,
            before=rules.booking_label(**before),
            **_booking(request),
        )


def request_declined(*, request, actor) -> Delivery | None:
    """The request was declined, with the reason."""
    with _in_language(request):
        return _queue(
            request,
            kind=DeliveryKind.REQUEST_DECLINED,
            subject=gettext("Inspection request declined"),
            template="request_declined",
            actor=actor,
            requested_day=rules.day_label(request.requested_date, year=True),
        )


def request_cancelled(*, request, actor) -> Delivery | None:
    """The request was cancelled, with the reason."""
    with _in_language(request):
        return _queue(
            request,
            kind=DeliveryKind.REQUEST_CANCELLED,
            subject=gettext("Inspection cancelled"),
            template="request_cancelled",
            actor=actor,
            day=rules.day_label(request.day, year=True),
        )


def request_result(*, request, visit, actor) -> Delivery | None:
    """The requested visit closed: its result."""
    failed = visit.result in FAILING_RESULTS
    with _in_language(request):
        return _queue(
            request,
            kind=DeliveryKind.REQUEST_RESULT,
            subject=gettext("Inspection result: %(result)s")
            % {"result": visit.get_result_display()},
            template="request_result",
            actor=actor,
            result=visit.get_result_display(),
            failure_reason=visit.get_failure_reason_display() if failed else "",
            failed=failed,
            inspector=person_name(visit.closed_by),
        )

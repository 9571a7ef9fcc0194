"""When an inspection may be booked: one function per rule set, called by the form (each
refusal at its field) and again by the service under its lock.

Business days are weekdays that are neither a statutory holiday of the municipality's
province (the `holidays` package: Ontario's by default) nor a day the municipality added
(scheduling.Holiday).

Who may cancel which request is here too (cancel_refusal): the pages that offer Cancel and
the service that cancels ask the same function.
"""

import datetime
from functools import lru_cache

import holidays as statutory
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext, ngettext, pgettext

from core import access
from core.models import Municipality
from core.people import person_name
from scheduling.models import (
    DEFAULT_MINIMUM_NOTICE_DAYS,
    OPEN_STATUSES,
    HalfDay,
    Holiday,
    InspectionRequest,
    SchedulingSettings,
)

# How far ahead a request may be made: a year is more than any department books.
LONGEST_NOTICE = datetime.timedelta(days=366)
# The act of cancelling a request (granted to the dispatchers' roles, as declining is).
CANCEL = "scheduling.cancel_inspection_request"


def today() -> datetime.date:
    """The department's today (local time). Every rule and page of this app asks here, so a
    test can move the whole app to another day."""
    return timezone.localdate()


@lru_cache(maxsize=32)
def _statutory(province: str, year: int, french: bool = False) -> dict[datetime.date, str]:
    # The package's own French names ("Jour de Noël"); its English ones unchanged otherwise.
    if french:
        return dict(statutory.Canada(subdiv=province, years=year, language="fr"))
    return dict(statutory.Canada(subdiv=province, years=year))


def _french() -> bool:
    return (translation.get_language() or "").startswith("fr")


class Calendar:
    """The closed days of one municipality, read once (its own days from the database)."""

    def __init__(self, municipality: Municipality):
        self.municipality = municipality
        self.own = dict(
            Holiday.objects.filter(municipality=municipality).values_list("date", "name")
        )

    def holiday_name(self, day: datetime.date) -> str | None:
        return (
            self.own.get(day)
            or _statutory(self.municipality.province, day.year, _french()).get(day)
        )

    def is_business_day(self, day: datetime.date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def add_business_days(self, start: datetime.date, count: int) -> datetime.date:
        """The `count`-th business day after `start` (`start` itself when count is 0 and it
        is a business day)."""
        day = start
        while not self.is_business_day(day):
            day += datetime.timedelta(days=1)
        for _ in range(count):
            day += datetime.timedelta(days=1)
            while not self.is_business_day(day):
                day += datetime.timedelta(days=1)
        return day

    def next_business_day(self, after: datetime.date) -> datetime.date:
        return self.add_business_days(after + datetime.timedelta(days=1), 0)


def next_working_day(*, municipalities, after: datetime.date) -> datetime.date:
    """The first business day after `after` (My today's next list: on a Friday, Monday; before
    a holiday Monday, Tuesday). An inspector of several municipalities works on the first day
    any of them is open: the earliest of their next business days. Without a municipality
    (a superuser without bookings), the calendar's next day."""
    return min(
        (Calendar(municipality).next_business_day(after) for municipality in municipalities),
        default=after + datetime.timedelta(days=1),
    )


def minimum_notice_days(municipality: Municipality) -> int:
    found = SchedulingSettings.objects.filter(municipality=municipality).first()
    return found.minimum_notice_days if found else DEFAULT_MINIMUM_NOTICE_DAYS


def earliest_request_date(municipality: Municipality, calendar: Calendar | None = None):
    """The first day a request made today may ask for: the minimum notice's business days
    after today (a notice of 2 made on a Monday: Wednesday)."""
    calendar = calendar or Calendar(municipality)
    day = today()
    for _ in range(minimum_notice_days(municipality)):
        day = calendar.next_business_day(day)
    return calendar.add_business_days(day, 0)


def day_label(day: datetime.date, *, year: bool = False) -> str:
    """"Friday December 25" (", 2026" with `year`), as people say a day, in the active
    language ("vendredi 25 décembre 2026")."""
    # Django date formats: the day and month names are the active language's. The first of
    # a month has its own format: French writes it "1er".
    if day.day == 1:
        pattern = (
            pgettext("first of a month", "l F j, Y")
            if year
            else pgettext("first of a month", "l F j")
        )
    else:
        pattern = gettext("l F j, Y") if year else gettext("l F j")
    return dateformat.format(day, pattern)


def booking_label(*, day: datetime.date, half_day: str, inspector) -> str:
    """"Wednesday December 16, afternoon, Pat Inspector": a booking as the messages name it."""
    return f"{day_label(day)}, {HalfDay(half_day).label.lower()}, {person_name(inspector)}"


def day_refusals(
    *, municipality: Municipality, day: datetime.date, calendar: Calendar | None = None
) -> str | None:
    """Why no inspection can be booked on `day` (past, weekend, holiday), or None."""
    calendar = calendar or Calendar(municipality)
    if day < today():
        return gettext("%(day)s is in the past.") % {"day": day_label(day, year=True)}
    if day - today() > LONGEST_NOTICE:
        return gettext("Choose a day within the next year.")
    if day.weekday() >= 5:
        return gettext("%(day)s is a weekend day: choose a weekday.") % {"day": day_label(day)}
    if (name := calendar.holiday_name(day)) is not None:
        return gettext("%(day)s is %(holiday)s, a holiday: choose another day.") % {
            "day": day_label(day),
            "holiday": name,
        }
    return None


def request_refusals(
    *,
    municipality: Municipality,
    application,
    inspection_type,
    requested_date: datetime.date,
    exclude_request=None,
) -> dict[str, str]:
    """Why this request cannot be made, by field ({} when it can): the day is past, a
    weekend, a holiday or earlier than the minimum notice allows; the inspection type is
    already requested and not yet done."""
    refusals = {}
    calendar = Calendar(municipality)
    if (refusal := day_refusals(municipality=municipality, day=requested_date, calendar=calendar)):
        refusals["requested_date"] = refusal
    else:
        earliest = earliest_request_date(municipality, calendar)
        if requested_date < earliest:
            notice = minimum_notice_days(municipality)
            refusals["requested_date"] = ngettext(
                "Inspections are booked %(count)s business day ahead: the first day you can "
                "request is %(day)s.",
                "Inspections are booked %(count)s business days ahead: the first day you can "
                "request is %(day)s.",
                notice,
            ) % {"count": notice, "day": day_label(earliest, year=True)}
    if inspection_type is not None:
        open_requests = InspectionRequest.objects.filter(
            application=application, inspection_type=inspection_type, status__in=OPEN_STATUSES
        )
        if exclude_request is not None:
            open_requests = open_requests.exclude(pk=exclude_request.pk)
        if (existing := open_requests.first()) is not None:
            refusals["inspection_type"] = gettext(
                "The %(type)s inspection is already requested for %(day)s and not yet done."
            ) % {"type": inspection_type.name, "day": day_label(existing.day)}
    return refusals


def booked_count(*, inspector, day: datetime.date, exclude_request=None) -> int:
    """The inspector's confirmed requests on that day."""
    booked = InspectionRequest.objects.filter(
        assigned_inspector=inspector, confirmed_date=day, status__in=OPEN_STATUSES
    )
    if exclude_request is not None:
        booked = booked.exclude(pk=exclude_request.pk)
    return booked.count()


def assignment_refusals(
    *, municipality: Municipality, inspector, day: datetime.date, capacity: int, request=None
) -> dict[str, str]:
    """Why the request cannot be confirmed for this inspector on this day, by field: the day
    (past, weekend, holiday; the minimum notice is the requester's rule, not the
    department's) and the inspector's capacity for the day."""
    refusals = {}
    if (refusal := day_refusals(municipality=municipality, day=day)) is not None:
        refusals["day"] = refusal
    booked = booked_count(inspector=inspector, day=day, exclude_request=request)
    if booked >= capacity:
        refusals["inspector"] = gettext(
            "%(inspector)s is fully booked on %(day)s (%(booked)s of %(capacity)s "
            "inspections): choose another inspector or day."
        ) % {
            "inspector": person_name(inspector),
            "day": day_label(day),
            "booked": booked,
            "capacity": capacity,
        }
    return refusals


def cancel_refusal(*, request: InspectionRequest, user) -> str | None:
    """Why `user` may not cancel `request`, or None when they may. Cancelling is an act of
    the user's role in the request's municipality (CANCEL), and only a request still waiting
    for its visit can be cancelled: not one declined, done or cancelled already, nor one
    whose visit has started (closing that visit completes it)."""
    if not access.can(user, request.municipality_id, CANCEL):
        return gettext("Your role does not cancel inspection requests.")
    if not request.is_open:
        return gettext("This request is %(status)s already: it cannot be cancelled.") % {
            "status": request.get_status_display().lower()
        }
    if request.visit_id is not None:
        return gettext("A visit was started for this request: it cannot be cancelled.")
    return None

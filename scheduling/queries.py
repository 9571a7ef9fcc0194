"""Read functions for the pages of inspection requests, and the access helper that loads a
request for a user: another municipality's request is a 404, a role without the
permission gets a 403. Other apps' views read requests only through this module."""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404

from core import access
from core.models import Municipality, RoleGroup
from scheduling import rules
from scheduling.models import (
    DEFAULT_INSPECTIONS_PER_DAY,
    OPEN_STATUSES,
    CalendarFeed,
    InspectionRequest,
    InspectorCapacity,
    RequestStatus,
)

REQUEST = "scheduling.request_inspection"
DISPATCH = "scheduling.dispatch"
INSPECTS = "inspections.add_visit"
CANCEL = rules.CANCEL


def _with_details(requests: QuerySet) -> QuerySet:
    return requests.select_related(
        "application__municipality",
        "inspection_type",
        "inspection",
        "assigned_inspector",
        "requested_by",
    )


def get_request(user, code: str, *, perm: str | None = None) -> InspectionRequest:
    request = _with_details(InspectionRequest.objects.filter(code=code)).first()
    if request is None:
        raise Http404("No such inspection request.")
    access.check(user, request.municipality_id, perm)
    return request


def application_requests(*, application, limit: int = 20) -> list[InspectionRequest]:
    """The application's requests, open ones first, then the latest.

    Only what the Work view's section prints is joined (its type and inspector); the
    application is the page's own (issue 16: the five joins of _with_details cost more to
    plan than the query takes to run, on every Work view, most of which have no request)."""
    requests = (
        InspectionRequest.objects.filter(application=application)
        .select_related("inspection_type", "assigned_inspector")
        .order_by("-created_at")[:limit]
    )
    for item in requests:
        item.application = application
    return sorted(
        requests, key=lambda r: (not r.is_open, r.day if r.is_open else datetime.date.min)
    )


def _inspecting_roles() -> QuerySet:
    """The roles whose group may start a visit (inspector and chief building official, as
    shipped)."""
    app_label, codename = INSPECTS.split(".")
    return RoleGroup.objects.filter(
        group__permissions__content_type__app_label=app_label,
        group__permissions__codename=codename,
    ).values("role")


def inspectors(municipality_ids) -> list:
    """The users who inspect in these municipalities (their role may start a visit)."""
    return list(
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__municipality_id__in=municipality_ids,
            memberships__role__in=_inspecting_roles(),
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


@dataclass
class InspectorLoad:
    inspector: object
    booked: int
    capacity: int

    @property
    def is_full(self) -> bool:
        return self.booked >= self.capacity


@dataclass
class DispatchDay:
    day: datetime.date
    holiday: str | None
    requests: list = field(default_factory=list)
    loads: list[InspectorLoad] = field(default_factory=list)


def dispatch_requests(user) -> QuerySet[InspectionRequest]:
    """Open requests the user may dispatch, by day, unassigned (Requested) first."""
    requests = access.scope(
        InspectionRequest.objects.filter(status__in=OPEN_STATUSES), user, perm=DISPATCH
    )
    return _with_details(requests).order_by(
        Coalesce("confirmed_date", "requested_date"),  # the day: confirmed, else asked for
        "-status",  # requested before confirmed
        "half_day",
        "position",
        "created_at",
    )


def dispatch_days(requests: list[InspectionRequest]) -> list[DispatchDay]:
    """The page's requests grouped by day, each day with every inspector's load against
    their capacity (two queries for the page, whatever its size)."""
    by_day: dict[datetime.date, DispatchDay] = {}
    calendars = {}
    for request in requests:
        municipality = request.application.municipality
        if municipality.pk not in calendars:  # its own holidays: one query a municipality
            calendars[municipality.pk] = rules.Calendar(municipality)
        calendar = calendars[municipality.pk]
        day = by_day.setdefault(
            request.day, DispatchDay(day=request.day, holiday=calendar.holiday_name(request.day))
        )
        day.requests.append(request)
    for day in by_day.values():
        day.requests.sort(key=lambda r: (r.is_confirmed, r.half_day, r.position, r.created_at))
    municipality_ids = {r.municipality_id for r in requests}
    if not by_day:
        return []
    booked = (
        InspectionRequest.objects.filter(
            municipality_id__in=municipality_ids,
            status__in=OPEN_STATUSES,
            confirmed_date__in=list(by_day),
            assigned_inspector__isnull=False,
        )
        .values("confirmed_date", "assigned_inspector")
        .annotate(n=Count("id"))
    )
    counts = {(row["confirmed_date"], row["assigned_inspector"]): row["n"] for row in booked}
    people = inspectors(municipality_ids)
    limits = dict(
        InspectorCapacity.objects.filter(municipality_id__in=municipality_ids).values_list(
            "user_id", "inspections_per_day"
        )
    )
    for day in sorted(by_day.values(), key=lambda d: d.day):
        day.loads = [
            InspectorLoad(
                inspector=person,
                booked=counts.get((day.day, person.pk), 0),
                capacity=limits.get(person.pk, DEFAULT_INSPECTIONS_PER_DAY),
            )
            for person in people
        ]
    return sorted(by_day.values(), key=lambda d: d.day)


def my_day(user, day: datetime.date) -> list[InspectionRequest]:
    """The user's confirmed requests of the day in their order (in municipalities where the
    user still inspects)."""
    requests = InspectionRequest.objects.filter(
        assigned_inspector=user, confirmed_date=day, status__in=OPEN_STATUSES
    )
    requests = access.scope(requests, user, perm=INSPECTS)
    return list(_with_details(requests).order_by("position", "half_day", "created_at"))


@dataclass
class BookedDay:
    """One day of My today's lists after today. `closed` says the day is not a working day
    where its bookings are: the holiday's name, or "" for a weekend; None on a working day."""

    day: datetime.date
    closed: str | None
    requests: list = field(default_factory=list)


def my_days_ahead(user, *, today: datetime.date, next_day: datetime.date) -> list[BookedDay]:
    """The user's open bookings after `today` up to and including `next_day` (their next
    working day), by day: `next_day` always, and each day between that has bookings.

    A day between is closed where the user inspects (else it would be the next working day),
    yet may have bookings: the municipality added a Holiday after they were confirmed, and
    nothing moves them. Leaving them off both lists would hide them until they are overdue;
    they are listed under their day, said to be closed, to be moved. A booking on `next_day`
    in a municipality closed that day (an inspector of several towns) is marked
    `closed_here`."""
    requests = InspectionRequest.objects.filter(
        assigned_inspector=user,
        confirmed_date__gt=today,
        confirmed_date__lte=next_day,
        status__in=OPEN_STATUSES,
    )
    requests = access.scope(requests, user, perm=INSPECTS)
    requests = list(
        _with_details(requests).order_by("confirmed_date", "position", "half_day", "created_at")
    )
    by_day = {next_day: BookedDay(day=next_day, closed=None)}
    for request in requests:
        by_day.setdefault(request.confirmed_date, BookedDay(request.confirmed_date, None))
        by_day[request.confirmed_date].requests.append(request)
    calendars = {}  # one query a municipality of the bookings (its own holidays)

    def calendar(request) -> rules.Calendar:
        municipality = request.application.municipality
        if municipality.pk not in calendars:
            calendars[municipality.pk] = rules.Calendar(municipality)
        return calendars[municipality.pk]

    for booked in by_day.values():
        if booked.day == next_day:
            for request in booked.requests:
                request.closed_here = not calendar(request).is_business_day(next_day)
        else:  # closed in every municipality where the user inspects: its holiday, if any
            names = (calendar(request).holiday_name(booked.day) for request in booked.requests)
            booked.closed = next((name for name in names if name), "")
    return sorted(by_day.values(), key=lambda booked: booked.day)


def inspecting_municipalities(user) -> list[Municipality]:
    """The municipalities whose business days make the user's next working day on My today:
    those where the user inspects, whose bookings my_day lists. A superuser inspects
    everywhere: the municipalities of their own open bookings (usually none)."""
    ids = access.municipality_ids(user, INSPECTS)
    if ids is None:
        ids = InspectionRequest.objects.filter(
            assigned_inspector=user, status__in=OPEN_STATUSES
        ).values("municipality_id")
    return list(Municipality.objects.filter(pk__in=ids))


def my_overdue(user, before: datetime.date) -> list[InspectionRequest]:
    """The user's confirmed requests of days gone by whose visit never closed."""
    requests = InspectionRequest.objects.filter(
        assigned_inspector=user, confirmed_date__lt=before, status=RequestStatus.CONFIRMED
    )
    requests = access.scope(requests, user, perm=INSPECTS)
    return list(_with_details(requests).order_by("confirmed_date", "position")[:50])


def calendar_requests(user, since: datetime.date) -> list[InspectionRequest]:
    """The confirmed requests of the user's calendar feed: from `since` on, in the
    municipalities where the user still inspects (no request object: no user session)."""
    ids = access.municipality_ids(user, INSPECTS)
    requests = InspectionRequest.objects.filter(
        Q(status=RequestStatus.CONFIRMED) | Q(status=RequestStatus.DONE),
        assigned_inspector=user,
        confirmed_date__gte=since,
    )
    if ids is not None:
        requests = requests.filter(municipality_id__in=ids)
    return list(_with_details(requests).order_by("confirmed_date", "position")[:500])


def has_calendar_feed(user) -> bool:
    return CalendarFeed.objects.filter(user=user).exists()

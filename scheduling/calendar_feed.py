"""An inspector's confirmed inspections as an iCalendar feed (RFC 5545), for a phone's
calendar app: one event per request, morning 08:00-12:00 or afternoon 13:00-17:00 local
time, with the address, the contact and the access notes. Its texts are in the active
language (the view's: the inspector's own choice, else English)."""

import datetime
import zoneinfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from icalendar import Calendar, Event

from core.people import person_name
from scheduling.models import HalfDay


def render(*, user, requests, base_url: str) -> bytes:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    calendar = Calendar()
    calendar.add("prodid", "-//Threshold//Inspections//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", gettext("Inspections of %(name)s") % {"name": person_name(user)})
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    stamp = timezone.now()
    base = base_url.rstrip("/")
    for request in requests:
        start, end = HalfDay(request.half_day).hours
        application = request.application
        event = Event()
        event.add("uid", f"{request.code}@threshold")
        event.add("dtstamp", stamp)
        event.add("dtstart", datetime.datetime.combine(request.confirmed_date, start, zone))
        event.add("dtend", datetime.datetime.combine(request.confirmed_date, end, zone))
        event.add("summary", f"{request.inspection_type.name}: {application.full_address}")
        event.add("location", f"{application.full_address}, {application.province}")
        lines = [
            gettext("Application %(number)s") % {"number": application.number},
            gettext("Site contact: %(name)s, %(phone)s")
            % {"name": request.site_contact_name, "phone": request.site_contact_phone},
        ]
        if request.access_notes:
            lines.append(gettext("Access: %(notes)s") % {"notes": request.access_notes})
        url = base + reverse("inspections:inspection_detail", args=[request.inspection.code])
        lines.append(url)
        event.add("description", "\n".join(lines))
        event.add("url", url)
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()

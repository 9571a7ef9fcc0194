"""The pages: Request inspection, Dispatch, My today, the calendar feed; who may see and do
what (404 for another municipality, 403 without the act's permission)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation
from icalendar import Calendar

from core.models import Profile
from scheduling import services
from scheduling.models import InspectionRequest, RequestStatus
from tests.conftest import client_for
from tests.db_rows import tables_digest
from tests.scheduling.conftest import THURSDAY, WEDNESDAY, make_request


def request_url(application):
    return reverse(
        "scheduling:request_inspection",
        args=[application.municipality.slug, application.number],
    )


FORM = {
    "requested_date": WEDNESDAY.isoformat(),
    "half_day": "afternoon",
    "site_contact_name": "Sam Builder",
    "site_contact_phone": "905-555-0142",
    "access_notes": "Dog in the yard",
}


def test_work_view_offers_request_inspection_to_a_clerk(application_a, clerk, viewer):
    page = client_for(clerk).get(application_a.get_absolute_url())
    assert request_url(application_a) in page.content.decode()
    assert "Inspection requests" in page.content.decode()
    page = client_for(viewer).get(application_a.get_absolute_url())
    assert request_url(application_a) not in page.content.decode()


def test_request_inspection_saves_the_request(application_a, occupancy_type_a, clerk):
    client = client_for(clerk)
    response = client.post(
        request_url(application_a), {**FORM, "inspection_type": occupancy_type_a.pk}
    )
    assert response.status_code == 302
    request = InspectionRequest.objects.get()
    assert (request.requested_date, request.half_day, request.access_notes) == (
        WEDNESDAY,
        "afternoon",
        "Dog in the yard",
    )
    page = client.get(response["Location"])
    assert "Occupancy inspection requested for Wednesday December 16, afternoon." in (
        page.content.decode()
    )


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2026-12-25", "Friday December 25 is Christmas Day, a holiday: choose another day."),
        ("2026-12-20", "Sunday December 20 is a weekend day: choose a weekday."),
        ("2026-12-15", "the first day you can request is Wednesday December 16, 2026."),
        ("2026-12-01", "Tuesday December 1, 2026 is in the past."),
    ],
)
def test_request_inspection_refusal_shown_at_the_field_and_nothing_saved(
    application_a, occupancy_type_a, clerk, day, message
):
    client = client_for(clerk)
    before = tables_digest()
    response = client.post(
        request_url(application_a),
        {**FORM, "inspection_type": occupancy_type_a.pk, "requested_date": day},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["requested_date"][0].endswith(message)
    assert message in response.content.decode()
    assert tables_digest() == before


def test_request_inspection_scoped(application_a, occupancy_type_a, viewer, inspector_b):
    clients = [client_for(viewer), client_for(inspector_b)]
    assert clients[0].get(request_url(application_a)).status_code == 403
    assert clients[1].get(request_url(application_a)).status_code == 404
    before = tables_digest()
    for client in clients:
        client.post(
            request_url(application_a), {**FORM, "inspection_type": occupancy_type_a.pk}
        )
    assert tables_digest() == before


def test_dispatch_lists_unassigned_first_with_each_inspectors_load(
    occupancy_request, application_a, framing_type_a, inspector, clerk
):
    framing = make_request(application_a, framing_type_a, clerk)
    services.request_assign(
        request=framing, inspector=inspector, day=WEDNESDAY, half_day="morning", actor=clerk
    )
    page = client_for(clerk).get(reverse("scheduling:dispatch"))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("Occupancy ·") < html.index("Framing ·")  # to assign first
    assert "Inspector: 1 of 8" in html
    assert 'href="/dispatch/"' in client_for(clerk).get("/").content.decode()


def test_dispatch_forbidden_without_the_permission(inspector, viewer, clerk):
    assert client_for(inspector).get(reverse("scheduling:dispatch")).status_code == 403
    assert client_for(viewer).get(reverse("scheduling:dispatch")).status_code == 403
    assert 'href="/dispatch/"' not in client_for(inspector).get("/").content.decode()


def test_assign_through_the_page_and_a_refusal_at_its_field(
    occupancy_request, inspector, clerk
):
    url = reverse("scheduling:request_assign", args=[occupancy_request.code])
    response = client_for(clerk).post(
        url, {"inspector": inspector.pk, "day": "2026-12-19", "half_day": "morning"}
    )
    assert response.status_code == 400
    assert "Saturday December 19 is a weekend day: choose a weekday." in response.content.decode()
    response = client_for(clerk).post(
        url, {"inspector": inspector.pk, "day": THURSDAY.isoformat(), "half_day": "morning"}
    )
    assert response.status_code == 302
    occupancy_request.refresh_from_db()
    assert (occupancy_request.status, occupancy_request.confirmed_date) == (
        RequestStatus.CONFIRMED,
        THURSDAY,
    )


def test_dispatch_acts_scoped(occupancy_request, inspector, inspector_b, viewer):
    outsider, own_inspector, own_viewer = map(client_for, (inspector_b, inspector, viewer))
    before = tables_digest()
    data = {"inspector": inspector.pk, "day": THURSDAY.isoformat(), "half_day": "morning"}
    for name in ("request_assign", "request_move", "request_decline"):
        url = reverse(f"scheduling:{name}", args=[occupancy_request.code])
        assert outsider.post(url, {**data, "reason": "x"}).status_code == 404
        assert own_inspector.post(url, {**data, "reason": "x"}).status_code == 403
        assert own_viewer.post(url, {**data, "reason": "x"}).status_code == 403
        assert own_inspector.get(url).status_code == 405
    assert tables_digest() == before


def test_decline_without_a_reason_is_refused_at_the_field(occupancy_request, clerk):
    url = reverse("scheduling:request_decline", args=[occupancy_request.code])
    response = client_for(clerk).post(url, {"reason": ""})
    assert response.status_code == 400
    assert "Give the reason for declining: the requester is told." in response.content.decode()
    client_for(clerk).post(url, {"reason": "No permit issued yet"})
    occupancy_request.refresh_from_db()
    assert occupancy_request.status == RequestStatus.DECLINED


def test_a_too_long_decline_reason_is_refused_at_the_field_with_the_limit(
    occupancy_request, clerk
):
    client = client_for(clerk)
    help_id = f"decline_{occupancy_request.code}_reason_help"
    assert (
        f'<div class="form-text" id="{help_id}">The requester is told, e.g. “The permit is not '
        "issued yet”. Up to 1,000 characters.</div>"
    ) in client.get(reverse("scheduling:dispatch")).content.decode()
    url = reverse("scheduling:request_decline", args=[occupancy_request.code])
    before = tables_digest()
    response = client.post(url, {"reason": "x" * 1001})
    assert response.status_code == 400
    assert (
        f'<div class="invalid-feedback" id="decline_{occupancy_request.code}_reason_error">'
        "Keep this to at most 1,000 characters (it has 1,001).</div>"
    ) in response.content.decode()
    assert tables_digest() == before


def test_login_lands_an_inspector_on_my_today_and_a_clerk_on_the_list(inspector, clerk):
    assert client_for(inspector).get("/start").url == reverse("scheduling:my_today")
    assert client_for(clerk).get("/start").url == reverse("permits:application_list")


def test_signing_in_from_the_bare_address_lands_an_inspector_on_my_today(client, inspector):
    """Logged out, the site's address sends to the login page with next=/; signing in then
    lands where the role starts, while a real page asked for is kept."""
    from tests.conftest import PASSWORD

    login = client.get("/")
    assert login.status_code == 302 and login.url.endswith("?next=/")
    signed_in = client.post(login.url, {"username": inspector.username, "password": PASSWORD})
    assert signed_in.url == reverse("scheduling:landing")
    assert client.get(signed_in.url).url == reverse("scheduling:my_today")
    client.logout()
    asked = reverse("scheduling:my_today") + "?day=tomorrow"
    page = client.post(
        reverse("login") + "?next=" + asked,
        {"username": inspector.username, "password": PASSWORD, "next": asked},
    )
    assert page.url == asked


def test_my_today_lists_the_day_in_order_with_tomorrow_and_overdue(
    application_a, occupancy_type_a, framing_type_a, inspector, clerk, monkeypatch
):
    from scheduling import rules

    occupancy = make_request(application_a, occupancy_type_a, clerk)
    framing = make_request(application_a, framing_type_a, clerk)
    for request, day in ((occupancy, WEDNESDAY), (framing, THURSDAY)):
        services.request_assign(
            request=request, inspector=inspector, day=day, half_day="morning", actor=clerk
        )
    monkeypatch.setattr(rules, "today", lambda: WEDNESDAY)
    page = client_for(inspector).get(reverse("scheduling:my_today"))
    assert [r.code for r in page.context["today_requests"]] == [occupancy.code]
    assert [r.code for r in page.context["next_day_requests"]] == [framing.code]
    html = page.content.decode()
    assert occupancy.inspection.get_absolute_url() in html
    assert "https://www.openstreetmap.org/search?query=" in html
    assert "Lockbox 4321 at the side door" in html
    monkeypatch.setattr(rules, "today", lambda: datetime.date(2026, 12, 21))
    page = client_for(inspector).get(reverse("scheduling:my_today"))
    assert {r.code for r in page.context["overdue_requests"]} == {occupancy.code, framing.code}
    assert client_for(clerk).get(reverse("scheduling:my_today")).status_code == 403


def test_calendar_feed_is_valid_icalendar_and_private(
    occupancy_request, inspector, chief, clerk
):
    services.request_assign(
        request=occupancy_request, inspector=inspector, day=THURSDAY, half_day="afternoon",
        actor=clerk,
    )
    client = client_for(inspector)
    client.post(reverse("scheduling:calendar_reset"))
    page = client.get(reverse("scheduling:my_today"))
    url = page.context["new_calendar_url"]
    assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")
    # Shown once: the address is not stored, only its digest.
    assert client.get(reverse("scheduling:my_today")).context["new_calendar_url"] == ""
    path = url.removeprefix("http://testserver")
    feed = client_for(None).get(path)  # no session: a phone's calendar app
    assert feed.status_code == 200
    assert feed["Content-Type"] == "text/calendar; charset=utf-8"
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["summary"]) == "Occupancy: 47 Maple Crescent, Alpha"
    start = event.decoded("dtstart")
    assert (start.date(), start.hour, event.decoded("dtend").hour) == (THURSDAY, 13, 17)
    assert "Lockbox 4321" in str(event["description"])

    # Another inspector's feed has none of it; a reset address stops the old one.
    chief_client = client_for(chief)
    chief_client.post(reverse("scheduling:calendar_reset"))
    chief_url = chief_client.get(reverse("scheduling:my_today")).context["new_calendar_url"]
    chief_feed = client_for(None).get(chief_url.removeprefix("http://testserver"))
    assert Calendar.from_ical(chief_feed.content).walk("VEVENT") == []
    client.post(reverse("scheduling:calendar_reset"))
    assert client_for(None).get(path).status_code == 404
    assert client_for(None).get("/calendar/made-up-token.ics").status_code == 404


def test_calendar_feed_speaks_the_inspectors_own_language_else_english(
    french, occupancy_request, inspector, clerk
):
    services.request_assign(
        request=occupancy_request,
        inspector=inspector,
        day=THURSDAY,
        half_day="afternoon",
        actor=clerk,
    )
    path = f"/calendar/{services.calendar_feed_reset(user=inspector)}.ics"

    def description(**headers):
        [event] = Calendar.from_ical(client_for(None).get(path, **headers).content).walk("VEVENT")
        return str(event["description"])

    # A calendar app's own Accept-Language says nothing of the inspector.
    assert description(HTTP_ACCEPT_LANGUAGE="fr-CA").startswith(
        "Application B-2026-0001\nSite contact: Sam Builder, 905-555-0142\nAccess: Lockbox"
    )
    Profile.objects.create(user=inspector, language="fr-ca")
    assert description().startswith(
        "Demande B-2026-0001\nPersonne-ressource sur le chantier : Sam Builder, 905-555-0142\n"
        "Accès : Lockbox"
    )


FRIDAY = datetime.date(2026, 12, 18)


def book(application, inspection_type, inspector, clerk, day):
    request = make_request(application, inspection_type, clerk, day=day)
    services.request_assign(
        request=request, inspector=inspector, day=day, half_day="morning", actor=clerk
    )
    return request


def next_day_heading(page) -> str:
    html = page.content.decode()
    start = html.index('id="tomorrow-heading">') + len('id="tomorrow-heading">')
    return html[start : html.index("</h2>", start)]


def test_my_today_on_a_friday_lists_mondays_bookings_as_the_next_working_day(
    application_a, occupancy_type_a, inspector, clerk, monkeypatch
):
    from scheduling import rules

    monday = book(application_a, occupancy_type_a, inspector, clerk, datetime.date(2026, 12, 21))
    monkeypatch.setattr(rules, "today", lambda: FRIDAY)
    page = client_for(inspector).get(reverse("scheduling:my_today"))
    assert page.context["next_day"] == datetime.date(2026, 12, 21)
    assert [r.code for r in page.context["next_day_requests"]] == [monday.code]
    assert next_day_heading(page) == "Next working day, Monday December 21 (1)"


def test_my_today_keeps_tomorrow_when_it_is_a_working_day(
    application_a, occupancy_type_a, inspector, clerk, monkeypatch
):
    from scheduling import rules

    book(application_a, occupancy_type_a, inspector, clerk, THURSDAY)
    monkeypatch.setattr(rules, "today", lambda: WEDNESDAY)
    page = client_for(inspector).get(reverse("scheduling:my_today"))
    assert next_day_heading(page) == "Tomorrow, Thursday December 17 (1)"
    monkeypatch.setattr(rules, "today", lambda: THURSDAY)
    page = client_for(inspector).get(reverse("scheduling:my_today"))
    assert next_day_heading(page) == "Tomorrow, Friday December 18 (0)"
    assert "No inspection is booked for you tomorrow." in page.content.decode()


@pytest.mark.parametrize(
    ("friday", "tuesday", "own_holiday"),
    [
        # Family Day, Ontario's statutory holiday of the third Monday of February.
        (datetime.date(2027, 2, 12), datetime.date(2027, 2, 16), None),
        # A day the municipality closes (scheduling.Holiday).
        (FRIDAY, datetime.date(2026, 12, 22), datetime.date(2026, 12, 21)),
    ],
)
def test_my_today_on_a_friday_before_a_holiday_monday_lists_tuesdays_bookings(
    application_a, occupancy_type_a, framing_type_a, inspector, clerk, monkeypatch,
    friday, tuesday, own_holiday,
):
    from scheduling import rules
    from scheduling.models import Holiday

    booked = book(application_a, occupancy_type_a, inspector, clerk, tuesday)
    if own_holiday is not None:
        Holiday.objects.create(
            municipality=application_a.municipality, date=own_holiday, name="Civic closure"
        )
    monkeypatch.setattr(rules, "today", lambda: friday)
    page = client_for(inspector).get(reverse("scheduling:my_today"))
    assert [r.code for r in page.context["next_day_requests"]] == [booked.code]
    assert next_day_heading(page) == (
        f"Next working day, Tuesday {tuesday:%B} {tuesday.day} (1)"
    )


def test_my_today_names_the_next_working_day_in_french(
    french, application_a, occupancy_type_a, inspector, clerk, monkeypatch
):
    from scheduling import rules

    book(application_a, occupancy_type_a, inspector, clerk, datetime.date(2026, 12, 21))
    Profile.objects.create(user=inspector, language="fr-ca")
    monkeypatch.setattr(rules, "today", lambda: FRIDAY)
    # Signing in activates the user's language in this thread: the test's own is restored.
    with translation.override(translation.get_language()):
        page = client_for(inspector).get(reverse("scheduling:my_today"))
    assert next_day_heading(page) == "Prochain jour ouvrable, lundi 21 décembre (1)"


def section_of(page, section_id: str) -> str:
    html = page.content.decode()
    start = html.index(f'<section class="mb-4" id="{section_id}"')
    return html[start : html.index("</section>", start)]


def test_my_today_lists_bookings_on_a_day_closed_after_they_were_confirmed(
    application_a, occupancy_type_a, framing_type_a, inspector, clerk, monkeypatch
):
    from scheduling import rules
    from scheduling.models import Holiday

    # Confirmed for Friday; then the town closes Friday (nothing refuses or moves them).
    friday = [
        book(application_a, kind, inspector, clerk, FRIDAY)
        for kind in (occupancy_type_a, framing_type_a)
    ]
    Holiday.objects.create(
        municipality=application_a.municipality, date=FRIDAY, name="Civic closure"
    )
    monkeypatch.setattr(rules, "today", lambda: THURSDAY)
    page = client_for(inspector).get(reverse("scheduling:my_today"))
    # Before: the next list became Monday's and Friday's bookings were on no list until
    # they were overdue.
    html = page.content.decode()
    assert [f'id="request-{r.code}"' in html for r in friday] == [True, True]
    assert page.context["next_day"] == datetime.date(2026, 12, 21)
    [closed] = page.context["closed_days"]
    assert (closed.day, closed.closed) == (FRIDAY, "Civic closure")
    assert {r.code for r in closed.requests} == {r.code for r in friday}
    section = section_of(page, "closed-2026-12-18")
    assert (
        '<h2 class="h4 text-danger" id="closed-2026-12-18-heading">'
        "Friday December 18 — Civic closure, a holiday: move these bookings (2)</h2>"
    ) in section
    for request in friday:
        assert f'id="request-{request.code}"' in section
        assert request.inspection.get_absolute_url() in section
    # Monday keeps its own heading.
    assert next_day_heading(page) == "Next working day, Monday December 21 (0)"
    assert page.context["next_day_requests"] == []


def test_my_today_names_a_closed_day_in_french(
    french, application_a, occupancy_type_a, inspector, clerk, monkeypatch
):
    from scheduling import rules
    from scheduling.models import Holiday

    book(application_a, occupancy_type_a, inspector, clerk, FRIDAY)
    Holiday.objects.create(
        municipality=application_a.municipality, date=FRIDAY, name="Fermeture municipale"
    )
    Profile.objects.create(user=inspector, language="fr-ca")
    monkeypatch.setattr(rules, "today", lambda: THURSDAY)
    with translation.override(translation.get_language()):
        page = client_for(inspector).get(reverse("scheduling:my_today"))
    assert (
        "vendredi 18 décembre — Fermeture municipale, jour férié : déplacez ces réservations (1)"
    ) in section_of(page, "closed-2026-12-18")


def test_my_today_without_closed_days_lists_none(
    application_a, occupancy_type_a, inspector, clerk, monkeypatch
):
    from scheduling import rules

    booked = book(application_a, occupancy_type_a, inspector, clerk, THURSDAY)
    monkeypatch.setattr(rules, "today", lambda: WEDNESDAY)
    page = client_for(inspector).get(reverse("scheduling:my_today"))
    assert page.context["closed_days"] == []
    assert [r.code for r in page.context["next_day_requests"]] == [booked.code]
    assert "move these bookings" not in page.content.decode()
    assert "move this booking" not in page.content.decode()


def test_my_today_marks_a_next_day_booking_in_a_town_closed_that_day(
    application_a, application_b, occupancy_type_a, inspector, clerk, monkeypatch
):
    from core.models import Membership, Role
    from demo import builders
    from scheduling import rules
    from scheduling.models import Holiday
    from tests.conftest import make_user

    # An inspector of Alpha and Beta: Beta closes Friday, Alpha works, so Friday is their
    # next working day; the Beta booking is on it, marked to be moved.
    Membership.objects.create(
        user=inspector, municipality=application_b.municipality, role=Role.INSPECTOR
    )
    clerk_b = make_user("clerk_b", application_b.municipality, Role.CLERK)
    type_b = builders.inspection_type(municipality=application_b.municipality, name="Final")
    in_alpha = book(application_a, occupancy_type_a, inspector, clerk, FRIDAY)
    in_beta = book(application_b, type_b, inspector, clerk_b, FRIDAY)
    Holiday.objects.create(
        municipality=application_b.municipality, date=FRIDAY, name="Civic closure"
    )
    monkeypatch.setattr(rules, "today", lambda: THURSDAY)
    page = client_for(inspector).get(reverse("scheduling:my_today"))
    assert page.context["closed_days"] == []
    assert {r.code for r in page.context["next_day_requests"]} == {in_alpha.code, in_beta.code}
    assert next_day_heading(page) == "Tomorrow, Friday December 18 (2)"
    html = page.content.decode()
    note = "Its municipality is closed that day: move this booking."
    beta_card = html[html.index(f'id="request-{in_beta.code}"') :]
    alpha_card = html[html.index(f'id="request-{in_alpha.code}"') :]
    assert note in beta_card[: beta_card.index("</article>")]
    assert note not in alpha_card[: alpha_card.index("</article>")]


def test_my_today_lists_a_weekend_booking_before_the_next_working_day(
    application_a, occupancy_type_a, inspector, clerk, monkeypatch
):
    from scheduling import rules

    # Booking refuses weekends; a row changed by hand (or before that rule) may still be on one.
    booked = book(application_a, occupancy_type_a, inspector, clerk, FRIDAY)
    saturday = datetime.date(2026, 12, 19)
    InspectionRequest.objects.filter(pk=booked.pk).update(confirmed_date=saturday)
    monkeypatch.setattr(rules, "today", lambda: FRIDAY)
    page = client_for(inspector).get(reverse("scheduling:my_today"))
    section = section_of(page, "closed-2026-12-19")
    assert (
        "Saturday December 19 — not a working day: move these bookings (1)</h2>" in section
    )
    assert f'id="request-{booked.code}"' in section
    assert next_day_heading(page) == "Next working day, Monday December 21 (0)"

"""Issue 17's acceptance in a real browser: a clerk requests an Occupancy inspection and
dispatches it to `inspector` for the next business day; on that day the inspector signs in
to My today, opens it, starts a visit and closes it, and the request shows Done. Every page
on the way is checked by axe at desktop and phone widths.

The date is frozen through scheduling.rules.today (the live server runs in this process):
Monday December 14, 2026 for the clerk, Tuesday the 15th for the inspector."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from scheduling import rules
from scheduling.models import InspectionRequest, RequestStatus
from tests.browser.conftest import assert_errors_described, log_in_with_cookie
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

MONDAY = datetime.date(2026, 12, 14)
TUESDAY = datetime.date(2026, 12, 15)
WEDNESDAY = datetime.date(2026, 12, 16)


def test_clerk_requests_and_dispatches_inspector_works_it_from_my_today(
    context,
    page,
    pages,
    live_server,
    clerk,
    inspector,
    application_a,
    occupancy_type_a,
    permit_templates,
    monkeypatch,
):
    monkeypatch.setattr(rules, "today", lambda: MONDAY)

    # The clerk requests an Occupancy inspection from the Work view.
    log_in_with_cookie(context, live_server, clerk)
    page.goto(application_a.get_absolute_url())
    page.get_by_role("link", name="Request inspection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request inspection")
    pages.check("request-form")
    page.locator("#id_inspection_type").select_option(label="Occupancy")
    page.locator("#id_requested_date").fill("2026-12-25")
    page.locator("#id_site_contact_name").fill("Sam Builder")
    page.locator("#id_site_contact_phone").fill("905-555-0142")
    page.locator("#id_access_notes").fill("Lockbox 4321 at the side door")
    page.get_by_role("button", name="Request inspection").click()
    expect(page.locator("main")).to_contain_text(
        "Friday December 25 is Christmas Day, a holiday: choose another day."
    )
    assert_errors_described(page, expected=1)
    pages.check("request-refused")
    page.locator("#id_requested_date").fill(WEDNESDAY.isoformat())
    page.get_by_label("Afternoon").check()
    page.get_by_role("button", name="Request inspection").click()
    expect(page.locator("#messages")).to_contain_text(
        "Occupancy inspection requested for Wednesday December 16, afternoon."
    )
    expect(page.locator("#requests")).to_contain_text("Requested")
    pages.check("work-view-requested")

    # Dispatch: to `inspector`, the next business day.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dispatch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dispatch")
    card = page.locator("article", has_text="Occupancy")
    expect(card).to_contain_text("To assign")
    pages.check("dispatch")
    card.get_by_label("Inspector").select_option(label="Inspector")
    card.get_by_label("Day").fill("2026-12-19")  # a Saturday: refused at the field
    card.get_by_role("button", name=re.compile("^Assign")).click()
    expect(page.locator("main")).to_contain_text("Saturday December 19 is a weekend day")
    assert_errors_described(page, expected=1)
    pages.check("assign-refused")
    page.get_by_label("Day").fill(TUESDAY.isoformat())
    page.get_by_label("Morning or afternoon").select_option(label="Morning")
    page.get_by_role("button", name=re.compile("^Assign")).click()
    expect(page.locator("#messages")).to_contain_text(
        "booked: Tuesday December 15, morning, Inspector."
    )
    expect(page.locator("article", has_text="Occupancy")).to_contain_text("Confirmed")
    pages.check("dispatch-assigned")

    # Tuesday: the inspector signs in and lands on My today.
    monkeypatch.setattr(rules, "today", lambda: TUESDAY)
    context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("inspector")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My today")
    today = page.locator("#today")
    expect(today.locator("article")).to_have_count(1)
    expect(today).to_contain_text("47 Maple Crescent, Alpha")
    expect(today).to_contain_text("Occupancy")
    expect(today).to_contain_text("Lockbox 4321 at the side door")
    pages.check("my-today")

    # Open, Start new visit, close.
    today.get_by_role("link", name=re.compile("^Open")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Occupancy inspection")
    page.get_by_role("button", name="Start new visit").click()
    expect(page.locator("#messages")).to_contain_text("Visit 1 started.")
    result = page.locator("#result")
    result.get_by_label("Not granted").check()
    result.get_by_label("Reason").select_option(label="Information required")
    result.get_by_role("button", name="Finish and Close Inspection").click()
    page.get_by_role("button", name="Yes, close the inspection").click()
    expect(page.locator("#messages")).to_contain_text("Visit 1 closed: Not granted.")

    # The request is done, on the Work view.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name=application_a.number
    ).click()
    expect(page.locator("#requests .request-status")).to_have_text("Done")
    pages.check("work-view-done")
    request = InspectionRequest.objects.get()
    assert (request.status, request.visit.sequence) == (RequestStatus.DONE, 1)

    # My today has nothing left.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My today").click()
    expect(page.locator("#today")).to_contain_text("No inspection is booked for you today.")

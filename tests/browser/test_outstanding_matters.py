"""Issue 13 in a real browser: an outstanding matter of an occupancy permit is resolved on a
follow-up visit, after which a full grant on a new Occupancy inspection is accepted (and
refused before). Every page is checked by axe, screenshotted and checked at 390 px."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inspections.models import InspectionStatus, VisitType
from occupancy.models import OccupancyPermit
from permits.models import ApplicationStatus
from tests.browser.conftest import log_in_with_cookie
from tests.factories import make_inspection
from tests.inspections.test_follow_up import issue_with_outstanding_matters

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()
PERMIT_TEXT = "Single detached dwelling, two storeys, with attached garage."


def fill_full_grant(page) -> None:
    result = page.locator("#result")
    result.get_by_label("Granted and fully completed").check()
    result.get_by_label("Template for occupancy permit PDF").select_option(
        label="General occupancy permit"
    )
    result.get_by_label("Occupancy permit description").fill(PERMIT_TEXT)
    # The chosen permit type's checklist, when it has one: every condition Met.
    for met in result.locator("[data-checklist-for]:visible").get_by_label("Met", exact=True).all():
        met.check()


def test_a_matter_resolved_on_a_follow_up_visit_lets_a_full_grant_through(
    context,
    page,
    pages,
    live_server,
    inspector,
    application_a,
    occupancy_type_a,
    permit_templates,
):
    first = make_inspection(application_a, occupancy_type_a, assigned_inspector=inspector)
    granted = issue_with_outstanding_matters(first, inspector, permit_templates["general"])
    second = make_inspection(application_a, occupancy_type_a, assigned_inspector=inspector)
    number = f"OCC-{TODAY.year}-0002"
    log_in_with_cookie(context, live_server, inspector)

    # The Work view lists what the first permit left open.
    page.goto(application_a.get_absolute_url())
    outstanding = page.locator("#outstanding")
    expect(outstanding.get_by_role("heading", name="Outstanding matters")).to_be_visible()
    expect(outstanding).to_contain_text("1 deficiency and 1 order still open")
    expect(outstanding).to_contain_text("Handrail missing on basement stairs")
    expect(outstanding).to_contain_text("Jordan Smith, owner")
    permit_link = f"Occupancy permit {granted.permit.number} (PDF)"
    expect(outstanding.get_by_role("link", name=permit_link).first).to_be_visible()
    pages.check("work-view-outstanding")

    # A full grant on the second Occupancy inspection is refused, saying how many and where.
    page.get_by_role("link", name="Open Occupancy inspection", exact=True).nth(1).click()
    expect(page).to_have_url(re.compile(second.code))
    page.get_by_role("button", name="Start new visit").click()
    expect(page.locator("#messages")).to_contain_text("Visit 1 started.")
    fill_full_grant(page)
    page.locator("#result").get_by_role("button", name="Finish and Close Inspection").click()
    expect(page.locator("#result")).to_contain_text(
        "Occupancy cannot be granted as fully completed while 1 deficiency and 1 order are "
        "outstanding on this application (Occupancy visit 1: 1 deficiency, 1 order)"
    )
    pages.check("full-grant-refused")
    assert OccupancyPermit.objects.count() == 1

    # The first inspection offers the follow-up visit; the matters are resolved on it.
    page.goto(application_a.get_absolute_url())
    page.locator("#outstanding").get_by_role(
        "link", name="Open Occupancy inspection for deficiency 1"
    ).click()
    follow_up = page.locator("#follow-up")
    expect(follow_up).to_contain_text("1 deficiency and 1 order recorded on it are still open")
    pages.check("inspection-with-outstanding-matters")
    follow_up.get_by_role("button", name="Start follow-up visit").click()
    expect(page.locator("#messages")).to_contain_text("Follow-up visit 2 started")
    expect(page.locator("#result").get_by_label("Follow-up of outstanding matters")).to_be_checked()
    expect(page.locator("#result").get_by_label("Template for occupancy permit PDF")).to_have_count(
        0
    )
    page.locator("#findings").get_by_role("button", name="Mark corrected").click()
    expect(page.locator("#messages")).to_contain_text("Deficiency marked corrected.")
    page.locator("#orders").get_by_role("button", name="Mark complied with").click()
    expect(page.locator("#messages")).to_contain_text("Order marked complied with.")
    page.locator("#result").get_by_label("Passed: every outstanding matter is resolved").check()
    pages.check("follow-up-visit")
    page.locator("#result").get_by_role("button", name="Finish and Close Inspection").click()
    expect(page.locator("main")).to_contain_text("Passed: every outstanding matter is resolved")
    pages.check("follow-up-confirm")
    page.get_by_role("button", name="Yes, close the inspection").click()
    expect(page.locator("#messages")).to_contain_text("Inspection closed.")
    expect(page.locator("#visits")).to_contain_text("2 · Follow-up of outstanding matters")
    expect(page.get_by_role("button", name="Start follow-up visit")).to_have_count(0)
    pages.check("follow-up-closed")
    first.refresh_from_db()
    assert first.status == InspectionStatus.CLOSED
    assert first.visits.get(sequence=2).visit_type == VisitType.FOLLOW_UP

    # Nothing is open any more: the Work view says so, and the full grant goes through.
    page.goto(application_a.get_absolute_url())
    expect(page.locator("#outstanding")).to_have_count(0)
    page.get_by_role("link", name="Open Occupancy inspection", exact=True).nth(1).click()
    fill_full_grant(page)
    page.locator("#result").get_by_role("button", name="Finish and Close Inspection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Finish and Close Inspection?")
    page.get_by_role("button", name="Yes, close the inspection").click()
    expect(page.locator("#messages")).to_contain_text(f"Occupancy permit {number} issued.")
    pages.check("full-grant-issued")
    permit = OccupancyPermit.objects.get(number=number)
    assert (permit.result, permit.visit.inspection) == ("granted_full", second)
    assert permit.snapshot["outstanding_matters"] == []
    application_a.refresh_from_db()
    assert application_a.status == ApplicationStatus.OCCUPIED

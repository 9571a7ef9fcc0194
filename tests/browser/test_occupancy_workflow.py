"""The inspector's occupancy workflow in a real browser, from the login page to the permit
PDF, with every page checked by axe, screenshotted at phone and desktop sizes and checked
for horizontal scrolling at 390 px."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inspections.models import Inspection, InspectionStatus, Visit, VisitStatus
from occupancy.models import GrantDraft, OccupancyPermit
from tests.browser.conftest import jpeg_file, log_in_with_cookie, open_add_form
from tests.conftest import PASSWORD, make_application
from tests.occupancy.conftest import pdf_text

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()
DEFICIENCY = "Guard missing at the rear deck stairs"
REMARK = "Smoke alarms tested and working on every floor"
ORDER_TO = "Jordan Smith, owner, 905-555-0101"
ORDER_TEXT = "Install a guard at the rear deck stairs within 30 days."
PERMIT_TEXT = "Single detached dwelling, two storeys, with attached garage."


def log_in(page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def open_pdf(page, link) -> bytes:
    """Click a PDF link as the inspector does (Chromium shows it inline in its viewer), then
    fetch the same URL with the browser's session for the bytes, and come back."""
    href = link.get_attribute("href")
    with page.expect_response(lambda r: r.url.endswith(href)) as info:
        link.click()
    assert info.value.status == 200
    assert info.value.headers["content-type"] == "application/pdf"
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    page.go_back()
    return response.body()


def test_inspector_issues_an_occupancy_permit(
    page,
    pages,
    live_server,
    inspector,
    application_a,
    occupancy_type_a,
    permit_templates,
    tmp_path,
):
    make_application(
        application_a.municipality, number="B-2026-0002", street_address="9 Birch Lane"
    )
    year = TODAY.year
    number = f"OCC-{year}-0001"

    # 1. Log in, find the application, open its Work view.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    pages.check("login")
    log_in(page, "inspector")
    # An inspector lands on My today (issue 17); the applications are in the navigation.
    expect(page.get_by_role("heading", name="My today")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Applications").click()
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()
    pages.check("list")
    page.get_by_label("Search applications").fill("maple")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("list", name="Search results").get_by_role("listitem")
    expect(results).to_have_count(1)
    pages.check("list-search")
    page.get_by_role("link", name=re.compile(r"B-2026-0001 · 47 Maple Crescent")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("B-2026-0001")
    pages.check("work-view-no-inspection")

    # 2. No Occupancy inspection yet: add it.
    page.get_by_label("Inspection type").select_option(label="Occupancy")
    page.get_by_role("button", name="Add inspection").click()
    expect(page.locator("#messages")).to_contain_text("Occupancy inspection added.")
    pages.check("work-view-inspection-added")

    # 3. Open it; 4. Start new visit.
    page.get_by_role("link", name="Open Occupancy inspection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Occupancy inspection")
    pages.check("inspection-no-visit")
    page.get_by_role("button", name="Start new visit").click()
    expect(page.locator("#messages")).to_contain_text("Visit 1 started.")
    pages.check("inspection-open-visit")

    # 5. A deficiency, a remark, an order and a photo.
    open_add_form(page, "Add new deficiency/remark")
    page.locator("#finding_description").fill(DEFICIENCY)
    page.locator("#findings").get_by_role("button", name="Add and Close").click()
    expect(page.locator("#messages")).to_contain_text("Deficiency added.")

    open_add_form(page, "Add new deficiency/remark")
    page.locator("#finding_description").fill(REMARK)
    page.get_by_label("This is a remark only").check()
    pages.check("finding-form-open")
    page.locator("#findings").get_by_role("button", name="Add and Close").click()
    expect(page.locator("#messages")).to_contain_text("Remark added.")

    open_add_form(page, "Add new order")
    page.get_by_label("Order type").select_option(label="Order to Comply")
    page.get_by_label("Issued to").fill(ORDER_TO)
    page.locator("#order_description").fill(ORDER_TEXT)
    page.locator("#orders").get_by_label(re.compile(r"Deficiency .*Guard missing")).check()
    pages.check("order-form-open")
    page.locator("#orders").get_by_role("button", name="Add and Close").click()
    expect(page.locator("#messages")).to_contain_text("Order to Comply added.")

    open_add_form(page, "Add photos")
    page.locator("#photo_photos").set_input_files(jpeg_file(tmp_path, "rear-deck.jpg"))
    page.locator("#photo_description").fill("Rear deck stairs without a guard")
    page.locator("#photos").get_by_role("button", name="Upload").click()
    expect(page.locator("#messages")).to_contain_text("1 photo added.")
    expect(page.get_by_role("img", name="Rear deck stairs without a guard")).to_be_visible()
    pages.check("inspection-visit-with-findings")

    # 6–7. The result and, for the grant, the permit.
    result = page.locator("#result")
    result.get_by_label("Granted, but outstanding matters").check()
    result.get_by_label("Template for occupancy permit PDF").select_option(
        label="General occupancy permit"
    )
    expect(result.get_by_label("Occupancy granted date")).to_have_value(TODAY.isoformat())
    result.get_by_label("Occupancy permit description").fill(PERMIT_TEXT)
    pages.check("result-filled")

    # 8. Finish and Close Inspection, then confirm.
    result.get_by_role("button", name="Finish and Close Inspection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Finish and Close Inspection?")
    expect(page.locator("main")).to_contain_text(DEFICIENCY)
    pages.check("confirm")
    assert not OccupancyPermit.objects.exists()
    page.get_by_role("button", name="Yes, close the inspection").click()

    toast = page.locator("#messages .toast").first
    expect(toast).to_have_text(f"Inspection closed. Occupancy permit {number} issued.")
    box, viewport = toast.bounding_box(), page.viewport_size
    assert box["y"] < 80 and box["x"] + box["width"] > viewport["width"] - 40, box  # top right
    pages.check("inspection-closed")

    # 9. The PDF from All visits and from the Work view: the same stored file.
    visits = page.locator("#visits")
    expect(visits).to_contain_text("Granted, but outstanding matters")
    from_visits = open_pdf(
        page, visits.get_by_role("link", name=f"Occupancy permit {number} (PDF)")
    )
    expect(visits.get_by_role("link", name="Inspection report (PDF)")).to_be_visible()

    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="B-2026-0001"
    ).click()
    occupancy = page.locator("#occupancy")
    expect(occupancy.get_by_role("row")).to_have_count(2)
    expect(occupancy).to_contain_text(number)
    pages.check("work-view-with-permit")
    from_work_view = open_pdf(page, occupancy.get_by_role("link", name=f"Download PDF of {number}"))

    assert from_visits == from_work_view
    permit = OccupancyPermit.objects.get()
    assert from_visits == permit.pdf.open("rb").read()
    text = pdf_text(from_visits)
    for expected in [number, "47 Maple Crescent", PERMIT_TEXT, DEFICIENCY, ORDER_TEXT[:30]]:
        assert expected in text, (expected, text)
    assert REMARK not in text  # a remark is not an outstanding matter

    visit = Visit.objects.get()
    assert (visit.status, visit.result) == (VisitStatus.CLOSED, "granted_outstanding")
    assert Inspection.objects.get().status == InspectionStatus.CLOSED


def test_failed_general_inspection_then_a_second_visit_passes(
    context, page, pages, live_server, inspector, application_a, framing_type_a
):
    framing = Inspection.objects.create(
        application=application_a, inspection_type=framing_type_a, assigned_inspector=inspector
    )
    log_in_with_cookie(context, live_server, inspector)
    page.goto(application_a.get_absolute_url())
    page.get_by_role("link", name="Open Framing inspection").click()
    page.get_by_role("button", name="Start new visit").click()
    expect(page.locator("#messages")).to_contain_text("Visit 1 started.")

    open_add_form(page, "Add new deficiency/remark")
    page.locator("#finding_description").fill("Missing hurricane ties at the rear wall")
    page.locator("#findings").get_by_role("button", name="Add and Close").click()
    result = page.locator("#result")
    expect(result.get_by_label("Reason")).to_be_hidden()  # shown for a failing result only
    result.get_by_label("Failed (Not substantially complete)").check()
    result.get_by_label("Reason").select_option(label="Deficiencies")
    pages.check("general-result-failed")
    result.get_by_role("button", name="Finish and Close Inspection").click()
    expect(page.locator("main")).to_contain_text("Failed (Not substantially complete)")
    pages.check("general-confirm-failed")
    page.get_by_role("button", name="Yes, close the inspection").click()
    expect(page.locator("#messages")).to_contain_text(
        "Visit 1 closed: Failed (Not substantially complete). The inspection report is being"
    )
    framing.refresh_from_db()
    assert framing.status == InspectionStatus.REVISIT_REQUIRED  # a failed one stays open
    pages.check("general-failed-closed")

    # The second visit: the deficiency carries over, is corrected, and the inspection passes.
    page.get_by_role("button", name="Start new visit").click()
    expect(page.locator("#messages")).to_contain_text("Visit 2 started.")
    carried = page.locator("#findings").get_by_role("listitem").filter(has_text="hurricane ties")
    expect(carried).to_contain_text("Deficiency · visit 1")
    pages.check("general-second-visit")
    carried.get_by_role("button", name="Mark corrected").click()
    expect(page.locator("#messages")).to_contain_text("Deficiency marked corrected.")
    page.locator("#result").get_by_label("Passed").check()
    page.locator("#result").get_by_role("button", name="Finish and Close Inspection").click()
    pages.check("general-confirm-passed")
    page.get_by_role("button", name="Yes, close the inspection").click()
    expect(page.locator("#messages")).to_contain_text(
        "Inspection closed. The inspection report is being prepared."
    )
    visits = page.locator("#visits").get_by_role("row")
    expect(visits).to_have_count(3)  # the header and two visits, the latest first
    expect(visits.nth(1)).to_contain_text("Passed")
    expect(visits.nth(2)).to_contain_text("Failed (Not substantially complete) (Deficiencies)")
    expect(page.get_by_role("button", name="Start new visit")).to_have_count(0)
    pages.check("general-passed-closed")
    first_report = visits.nth(2).get_by_role("link", name="Inspection report (PDF)")
    report = page.request.get(first_report.get_attribute("href"))
    assert "Missing hurricane ties at the rear wall" in pdf_text(report.body())
    framing.refresh_from_db()
    assert framing.status == InspectionStatus.CLOSED
    assert list(framing.visits.order_by("sequence").values_list("result", flat=True)) == [
        "failed",
        "passed",
    ]


def test_a_second_tab_confirming_the_same_close_issues_no_second_permit(
    context,
    page,
    pages,
    live_server,
    inspector,
    application_a,
    occupancy_type_a,
    permit_templates,
):
    inspection = Inspection.objects.create(
        application=application_a, inspection_type=occupancy_type_a, assigned_inspector=inspector
    )
    visit = Visit.objects.create(
        inspection=inspection, sequence=1, started_by=inspector, result="granted_full"
    )
    GrantDraft.objects.create(
        visit=visit,
        template=permit_templates["general"],
        granted_on=TODAY,
        description=PERMIT_TEXT,
    )
    log_in_with_cookie(context, live_server, inspector)
    confirm_url = f"/occupancy/inspections/{inspection.code}/confirm"
    page.goto(confirm_url)
    second = context.new_page()
    pages.watch(second)
    second.goto(confirm_url)
    expect(second.get_by_role("button", name="Yes, close the inspection")).to_be_visible()

    page.get_by_role("button", name="Yes, close the inspection").click()
    expect(page.locator("#messages")).to_contain_text(
        f"Inspection closed. Occupancy permit OCC-{TODAY.year}-0001 issued."
    )
    second.get_by_role("button", name="Yes, close the inspection").click()
    message = second.locator("#messages")
    expect(message).to_contain_text("Visit 1 was already closed by Inspector on")
    expect(message).to_contain_text("Granted and fully completed")
    pages.check("second-tab-already-closed", second)
    assert OccupancyPermit.objects.count() == 1
    assert Visit.objects.get().status == VisitStatus.CLOSED


def test_grant_on_a_submitted_application_is_refused_at_the_result(
    context, page, pages, live_server, inspector, municipality_a, occupancy_type_a, permit_templates
):
    """Issue 13: no occupancy permit where no building permit was issued. The type has the
    Code's checklist, so axe checks its markup too."""
    from occupancy.checklists import permit_type_seed_checklist

    permit_type_seed_checklist(permit_type=permit_templates["general"].permit_type)
    submitted = make_application(
        municipality_a,
        number="B-2026-0101",
        street_address="3 Willow Court",
        status="submitted",
        permit_issued_on=None,
    )
    occupancy = Inspection.objects.create(
        application=submitted, inspection_type=occupancy_type_a, assigned_inspector=inspector
    )
    log_in_with_cookie(context, live_server, inspector)
    page.goto(occupancy.get_absolute_url())
    page.get_by_role("button", name="Start new visit").click()
    result = page.locator("#result")
    result.get_by_label("Granted and fully completed").check()
    result.get_by_label("Template for occupancy permit PDF").select_option(
        label="General occupancy permit"
    )
    result.get_by_label("Occupancy permit description").fill(PERMIT_TEXT)
    expect(result.get_by_text("Occupancy checklist of a General permit")).to_be_visible()
    result.get_by_role("button", name="Finish and Close Inspection").click()
    expect(page.locator("#error-summary")).to_contain_text("Inspection & visit result")
    expect(result).to_contain_text(
        "Occupancy cannot be granted: no building permit has been issued on application "
        "B-2026-0101 (status Submitted)."
    )
    pages.check("grant-refused-submitted")
    assert not OccupancyPermit.objects.exists()
    assert Visit.objects.get(inspection=occupancy).status == VisitStatus.OPEN

"""axe-core (WCAG 2.1 A and AA) on every page and state the issue lists that the workflow
tests do not already reach, each form with its validation errors, and error messages tied to
their fields with aria-describedby."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.models import Role
from inspections.models import Visit
from tests.browser.conftest import assert_errors_described, log_in_with_cookie, open_add_form
from tests.conftest import PASSWORD, make_application, make_user
from tests.factories import make_finding, make_inspection, make_order

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()


def test_login_page_and_its_errors(page, pages, live_server, inspector):
    page.goto("/accounts/login/")
    pages.check("login")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    assert_errors_described(page, expected=2)
    pages.check("login-required-fields")
    page.get_by_label("Username").fill("inspector")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    pages.check("login-wrong-password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # An inspector lands on My today (issue 17).
    expect(page.get_by_role("heading", name="My today")).to_be_visible()


def test_application_list_with_results_pages_and_none(
    context, page, pages, live_server, inspector, municipality_a, municipality_b
):
    for n in range(1, 31):
        make_application(municipality_a, number=f"B-2026-{n:04}", street_address=f"{n} Elm Street")
    log_in_with_cookie(context, live_server, inspector)
    page.goto("/")
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 1 of 2")
    pages.check("list-page-1")
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 2 of 2")
    pages.check("list-page-2")
    page.get_by_label("Search applications").fill("no such street")
    page.get_by_label("Status").select_option(label="Occupied")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_contain_text("No application matches")
    pages.check("list-no-match")

    # A municipality without any application yet.
    newcomer = make_user("newcomer", municipality_b, Role.INSPECTOR)
    context.clear_cookies()
    log_in_with_cookie(context, live_server, newcomer)
    page.goto("/")
    expect(page.get_by_role("status")).to_contain_text("no applications in your municipalities")
    pages.check("list-empty")


@pytest.fixture
def visit_world(inspector, application_a, occupancy_type_a, permit_templates):
    inspection = make_inspection(application_a, occupancy_type_a, assigned_inspector=inspector)
    visit = Visit.objects.create(inspection=inspection, sequence=1, started_by=inspector)
    finding = make_finding(visit, inspector, discovery_date=TODAY - datetime.timedelta(days=1))
    order = make_order(visit, inspector, comply_by=TODAY + datetime.timedelta(days=30))
    return inspection, finding, order


def test_inspection_view_forms_with_validation_errors(
    context, page, pages, live_server, inspector, visit_world, tmp_path
):
    inspection, finding, order = visit_world
    log_in_with_cookie(context, live_server, inspector)
    page.goto(inspection.get_absolute_url())

    # Deficiencies & remarks: an empty description and a date in the future.
    open_add_form(page, "Add new deficiency/remark")
    page.locator("#finding_discovery_date").fill((TODAY + datetime.timedelta(days=2)).isoformat())
    page.locator("#findings").get_by_role("button", name="Add and Close").click()
    expect(page.locator("#error-summary")).to_contain_text("Deficiencies & remarks")
    assert_errors_described(page, expected=2)
    pages.check("finding-form-errors")

    # Orders: nothing filled in, and a comply-by date in the past.
    open_add_form(page, "Add new order")
    page.locator("#order_comply_by").fill((TODAY - datetime.timedelta(days=1)).isoformat())
    page.locator("#orders").get_by_role("button", name="Add and Close").click()
    expect(page.locator("#error-summary")).to_contain_text("Orders")
    assert_errors_described(page, expected=4)
    pages.check("order-form-errors")

    # Photos: a file that is not an image.
    fake = tmp_path / "notes.jpg"
    fake.write_text("not a photo")
    open_add_form(page, "Add photos")
    page.locator("#photo_photos").set_input_files(fake)
    page.locator("#photos").get_by_role("button", name="Upload").click()
    expect(page.locator("#error-summary")).to_contain_text("Photos")
    assert_errors_described(page, expected=2)
    pages.check("photo-form-errors")

    # Inspection & visit result: Finish and Close without a result.
    result = page.locator("#result")
    result.get_by_role("button", name="Finish and Close Inspection").click()
    expect(page.locator("#error-summary")).to_contain_text("Inspection & visit result")
    assert_errors_described(page, expected=1)
    pages.check("result-no-result")

    # A full grant refused while a deficiency and an order are outstanding, with the permit
    # fields left empty and a negative time.
    result = page.locator("#result")
    result.get_by_label("Granted and fully completed").check()
    result.get_by_label("Time used (minutes)").fill("-5")
    result.get_by_label("Occupancy granted date").fill("")
    result.get_by_role("button", name="Finish and Close Inspection").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_errors_described(page, expected=5)
    pages.check("result-grant-refused")

    # The edit pages of a deficiency and an order, with errors.
    page.goto(f"/findings/{finding.code}/edit")
    pages.check("finding-edit")
    page.get_by_label("Description").fill("   ")
    page.get_by_role("button", name="Save").click()
    assert_errors_described(page, expected=1)
    pages.check("finding-edit-errors")
    page.goto(f"/orders/{order.code}/edit")
    pages.check("order-edit")
    page.get_by_label("Description").fill("")
    page.get_by_label("Comply by").fill((TODAY - datetime.timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Save").click()
    assert_errors_described(page, expected=2)
    pages.check("order-edit-errors")


def test_inspection_view_read_only_for_a_viewer(
    context, page, pages, live_server, viewer, visit_world
):
    inspection, _, _ = visit_world
    log_in_with_cookie(context, live_server, viewer)
    page.goto(inspection.get_absolute_url())
    expect(page.get_by_role("button", name="Start new visit")).to_have_count(0)
    expect(page.get_by_role("heading", name="Inspection & visit result")).to_be_visible()
    pages.check("inspection-open-visit-viewer")
    page.goto(inspection.application.get_absolute_url())
    pages.check("work-view-viewer")


def test_admin_pages_for_permit_templates(
    context, page, pages, live_server, admin_user, permit_templates
):
    page.goto("/admin/login/")
    pages.check("admin-login")
    log_in_with_cookie(context, live_server, admin_user)
    page.goto("/admin/occupancy/occupancypermittemplate/")
    expect(page.get_by_role("link", name="General occupancy permit")).to_be_visible()
    pages.check("admin-template-list")
    template = permit_templates["general"]
    page.goto(f"/admin/occupancy/occupancypermittemplate/{template.pk}/change/")
    pages.check("admin-template-change")
    page.get_by_label("Name").fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote")).to_be_visible()
    pages.check("admin-template-change-errors")
    page.goto("/admin/occupancy/occupancypermittemplate/add/")
    pages.check("admin-template-add")


def test_adding_a_second_inspection_cancelling_one_and_the_role_note(
    context, page, pages, live_server, inspector, clerk, application_a, framing_type_a
):
    framing = make_inspection(application_a, framing_type_a)
    log_in_with_cookie(context, live_server, inspector)
    page.goto(application_a.get_absolute_url())
    expect(page.locator("#signed-in-as")).to_contain_text("Inspector, Town of Alpha")
    page.get_by_label("Inspection type").select_option(label="Framing")
    page.get_by_role("button", name="Add inspection").click()
    expect(page.get_by_role("heading", name="Add a second Framing inspection?")).to_be_visible()
    pages.check("inspection-add-confirm")
    page.get_by_role("button", name="Add a second Framing inspection").click()
    expect(page.get_by_role("status")).to_contain_text("Framing inspection added")

    # Cancel the first one: without a reason, then with one.
    page.goto(framing.get_absolute_url())
    page.get_by_role("button", name="Cancel inspection").click()
    expect(page.locator("#error-summary")).to_contain_text("Cancel this inspection")
    assert_errors_described(page, expected=1)
    pages.check("inspection-cancel-errors")
    page.get_by_label("Reason for cancelling").fill("Added twice by mistake")
    page.get_by_role("button", name="Cancel inspection").click()
    expect(page.locator("tr.inspection-cancelled")).to_contain_text(
        "Reason: Added twice by mistake"
    )
    pages.check("work-view-cancelled-inspection")

    # A clerk is told why the inspector's buttons are not there.
    context.clear_cookies()
    log_in_with_cookie(context, live_server, clerk)
    second = application_a.inspections.exclude(pk=framing.pk).get()
    page.goto(second.get_absolute_url())
    expect(page.locator("#role-note")).to_have_text(
        "You are signed in as Clerk of Town of Alpha: starting and recording visits is for "
        "inspectors."
    )
    pages.check("inspection-clerk-note")

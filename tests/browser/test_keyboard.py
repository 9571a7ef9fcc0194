"""The whole occupancy workflow with the keyboard alone: Tab, Shift+Tab, Enter, Space and the
arrow keys, never the mouse. At every Tab stop the focus must be visible and move forward
down the page (a logical order); on the busiest pages Tab must come round to the start again
(no keyboard trap)."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from occupancy.models import OccupancyPermit
from tests.browser.conftest import jpeg_file
from tests.conftest import PASSWORD
from tests.occupancy.conftest import pdf_text

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()

FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const ring = style.boxShadow && style.boxShadow !== 'none';
  // Tab also stops on the calendar button inside a date input; Chromium draws its own ring
  // there (the input itself then matches :focus-within only).
  const inner = el.matches('input[type=date]:focus-within:not(:focus)');
  let fixed = false;
  for (let node = el; node; node = node.parentElement) {
    if (getComputedStyle(node).position === 'fixed') { fixed = true; break; }
  }
  const name = (el.getAttribute('aria-label') || el.labels?.[0]?.innerText || el.innerText ||
                el.value || el.id || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
  return {
    what: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${name}"`,
    visible: (outline || ring || inner) && box.width > 0 && box.height > 0 &&
             box.bottom > 0 && box.top < window.innerHeight,
    top: box.top + window.scrollY,
    fixed,
  };
}"""


class Keyboard:
    """Tab through a page like a keyboard user, checking every stop on the way."""

    def __init__(self, page):
        self.page = page
        self.stops = 0

    def _is_focused(self, locator) -> bool:
        return locator.evaluate("el => el === document.activeElement")

    def tab_to(self, locator, *, max_steps: int = 60) -> None:
        """Press Tab until `locator` has the focus. Every stop must show its focus and lie at
        or below the previous one (forward through the page, not jumping back up)."""
        locator.wait_for(state="attached")
        path, previous = [], None
        for _ in range(max_steps):
            self.page.keyboard.press("Tab")
            self.stops += 1
            focus = self.page.evaluate(FOCUS)
            if focus is None:  # past the last stop: the browser's own controls, then round
                path.append("(nothing)")
                previous = None
                continue
            path.append(focus["what"])
            assert focus["visible"], f"focus is not visible on {focus['what']}: {path}"
            if not focus["fixed"]:
                if previous is not None:
                    assert focus["top"] >= previous - 8, (
                        f"focus jumped back up the page to {focus['what']}: {path}"
                    )
                previous = focus["top"]
            if self._is_focused(locator):
                return
        raise AssertionError(f"not reached with {max_steps} presses of Tab: {path}")

    def assert_no_trap(self) -> None:
        """From wherever the focus is, Tab goes through the rest of the page and comes round
        to its first stop (the skip link) again."""
        count = self.page.evaluate(
            """() => [...document.querySelectorAll('a[href], button, input:not([type=hidden]), '
                                                + 'select, textarea, summary, [tabindex]')]
               .filter((el) => !el.disabled && el.tabIndex >= 0 && el.getClientRects().length)
               .length"""
        )
        skip = self.page.get_by_role("link", name="Skip to main content")
        for _ in range(count + 40):  # a date input has a stop per part
            self.page.keyboard.press("Tab")
            if self._is_focused(skip):
                return
        raise AssertionError(f"Tab never came back round to the start: a keyboard trap? ({count})")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def choose_option(self, select, label: str) -> None:
        """A closed <select> with the focus: the arrow keys change its value."""
        for _ in range(20):
            if select.evaluate("el => el.options[el.selectedIndex].text.trim()") == label:
                return
            self.press("ArrowDown")
        raise AssertionError(f"option {label!r} not reached with the arrow keys")


def test_occupancy_workflow_with_the_keyboard_alone(
    page,
    live_server,
    inspector,
    application_a,
    occupancy_type_a,
    framing_type_a,
    permit_templates,
    tmp_path,
):
    keys = Keyboard(page)
    number = f"OCC-{TODAY.year}-0001"
    # Listening for file choosers from the start turns Playwright's interception on now; turned
    # on only when the photo is chosen, it can lose the race with the key press under load.
    page.on("filechooser", lambda chooser: None)

    # Log in: the login page puts the focus in Username.
    page.goto("/accounts/login/")
    expect(page.get_by_label("Username")).to_be_focused()
    keys.type("inspector")
    keys.tab_to(page.get_by_label("Password"))
    keys.type(PASSWORD)
    keys.press("Enter")
    # An inspector lands on My today (issue 17); the applications are in the navigation.
    expect(page.get_by_role("heading", name="My today")).to_be_visible()
    keys.tab_to(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Applications")
    )
    keys.press("Enter")
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()

    # Search. The first stop of a page is the skip link, shown when it has the focus; it
    # leads straight to the search box.
    skip = page.get_by_role("link", name="Skip to main content")
    keys.tab_to(skip)
    expect(skip).to_be_visible()
    keys.press("Enter")
    keys.tab_to(page.get_by_label("Search applications"))
    keys.type("maple")
    keys.press("Enter")
    expect(page).to_have_url(re.compile(r"q=maple"))
    keys.tab_to(page.get_by_role("link", name=re.compile(r"B-2026-0001")))
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("B-2026-0001")

    # Add the Occupancy inspection, then Open it.
    inspection_type = page.get_by_label("Inspection type")
    keys.tab_to(inspection_type)
    keys.choose_option(inspection_type, "Occupancy")
    keys.tab_to(page.get_by_role("button", name="Add inspection"))
    keys.press("Enter")
    expect(page.locator("#messages")).to_contain_text("Occupancy inspection added.")
    keys.tab_to(page.get_by_role("link", name="Open Occupancy inspection"))
    keys.press("Enter")
    keys.tab_to(page.get_by_role("button", name="Start new visit"))
    keys.press("Enter")
    expect(page.locator("#messages")).to_contain_text("Visit 1 started.")

    # A deficiency and a remark. Opening "Add new …" puts the focus in its first field.
    findings = page.locator("#findings")
    keys.tab_to(findings.get_by_text("Add new deficiency/remark"))
    keys.press("Enter")
    expect(page.locator("#finding_discovery_date")).to_be_focused()
    keys.tab_to(page.locator("#finding_description"))
    keys.type("Guard missing at the rear deck stairs")
    keys.tab_to(findings.get_by_role("button", name="Add and Close"))
    keys.press("Enter")
    expect(page.locator("#messages")).to_contain_text("Deficiency added.")
    keys.assert_no_trap()  # the busiest page: an open visit with its forms

    keys.tab_to(findings.get_by_text("Add new deficiency/remark"))
    keys.press("Enter")
    keys.tab_to(page.locator("#finding_description"))
    keys.type("Smoke alarms tested on every floor")
    remark = page.get_by_label("This is a remark only")
    keys.tab_to(remark)
    keys.press("Space")
    expect(remark).to_be_checked()
    keys.tab_to(findings.get_by_role("button", name="Add and Close"))
    keys.press("Enter")
    expect(page.locator("#messages")).to_contain_text("Remark added.")

    # An order linked to the deficiency.
    orders = page.locator("#orders")
    keys.tab_to(orders.get_by_text("Add new order"))
    keys.press("Enter")
    order_type = page.get_by_label("Order type")
    expect(order_type).to_be_focused()
    keys.choose_option(order_type, "Order to Comply")
    keys.tab_to(page.get_by_label("Issued to"))
    keys.type("Jordan Smith, owner")
    keys.tab_to(page.locator("#order_description"))
    keys.type("Install a guard at the rear deck stairs.")
    linked = orders.get_by_label(re.compile(r"Deficiency .*Guard missing"))
    keys.tab_to(linked)
    keys.press("Space")
    expect(linked).to_be_checked()
    keys.tab_to(orders.get_by_role("button", name="Add and Close"))
    keys.press("Enter")
    expect(page.locator("#messages")).to_contain_text("Order to Comply added.")

    # A photo: Space on the file input opens the chooser (the system dialog is the one step
    # outside the page).
    photos = page.locator("#photos")
    keys.tab_to(photos.get_by_text("Add photos"))
    keys.press("Enter")
    file_input = page.locator("#photo_photos")
    expect(file_input).to_be_focused()
    with page.expect_file_chooser() as chooser:
        keys.press("Space")
    chooser.value.set_files(jpeg_file(tmp_path, "deck.jpg"))
    keys.tab_to(page.locator("#photo_description"))
    keys.type("Rear deck stairs")
    keys.tab_to(photos.get_by_role("button", name="Upload"))
    keys.press("Enter")
    expect(page.locator("#messages")).to_contain_text("1 photo added.")

    # The result: the arrow keys choose within a radio group.
    result = page.locator("#result")
    first_result = result.get_by_label("Granted and fully completed")
    keys.tab_to(first_result)
    keys.press("ArrowDown")
    expect(result.get_by_label("Granted, but outstanding matters")).to_be_checked()
    template = result.get_by_label("Template for occupancy permit PDF")
    keys.tab_to(template)
    keys.choose_option(template, "General occupancy permit")
    expect(result.get_by_label("Occupancy granted date")).to_have_value(TODAY.isoformat())
    keys.tab_to(result.get_by_label("Occupancy permit description"))
    keys.type("Single detached dwelling.")
    keys.tab_to(result.get_by_role("button", name="Finish and Close Inspection"))
    keys.press("Enter")

    # Confirm.
    expect(page.get_by_role("heading", level=1)).to_have_text("Finish and Close Inspection?")
    keys.tab_to(page.get_by_role("button", name="Yes, close the inspection"))
    keys.assert_no_trap()
    keys.tab_to(page.get_by_role("button", name="Yes, close the inspection"))
    keys.press("Enter")
    expect(page.locator("#messages")).to_contain_text(f"Occupancy permit {number} issued.")

    # The permit under All visits, reached and opened with the keyboard.
    permit_link = page.get_by_role("link", name=f"Occupancy permit {number} (PDF)")
    keys.tab_to(permit_link)
    with page.expect_response(lambda r: r.url.endswith(f"{number}.pdf")) as opened:
        keys.press("Enter")
    assert opened.value.status == 200
    permit = OccupancyPermit.objects.get()
    assert "Single detached dwelling." in pdf_text(permit.pdf.open("rb").read())
    assert keys.stops > 50

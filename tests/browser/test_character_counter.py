"""Issue 13, deliverable 6, in a real browser: a long description shows how many characters it
has of its limit, near the limit a screen reader hears how many are left (not on every
keystroke), and a text too long is kept whole, counted over, and refused by the server at
the field: never cut silently, not even when pasted."""

import pytest
from playwright.sync_api import expect

from inspections.models import Finding, Visit
from tests.browser.conftest import assert_errors_described, log_in_with_cookie, open_add_form
from tests.factories import make_inspection

pytestmark = pytest.mark.browser


@pytest.fixture
def inspection(application_a, occupancy_type_a, inspector, permit_templates):
    inspection = make_inspection(application_a, occupancy_type_a, assigned_inspector=inspector)
    Visit.objects.create(inspection=inspection, sequence=1, started_by=inspector)
    return inspection


def test_a_long_description_shows_a_character_counter_and_is_never_cut(
    context, page, pages, live_server, inspector, inspection
):
    log_in_with_cookie(context, live_server, inspector)
    page.goto(inspection.get_absolute_url())
    open_add_form(page, "Add new deficiency/remark")
    area = page.locator("#finding_description")
    counter = page.locator("#finding_description_counter")
    live = page.locator("#finding_description_counter + [aria-live=polite]")

    # The counter describes the field; the limit is the server's.
    expect(counter).to_have_text("0 of 5000 characters")
    # Its help text states the limit (read without JavaScript too), then the live count.
    expect(page.locator("#finding_description_helptext")).to_have_text("Up to 5,000 characters.")
    expect(area).to_have_attribute(
        "aria-describedby", "finding_description_helptext finding_description_counter"
    )
    expect(area).to_have_attribute("data-maxlength", "5000")
    area.press_sequentially("Guard too low")
    expect(counter).to_have_text("13 of 5000 characters")
    page.wait_for_timeout(1300)
    expect(live).to_have_text("")  # far from the limit: nothing announced
    pages.check("counter")

    # Near the limit (the last 10 %), a pause in typing announces what is left.
    area.fill("a" * 4990)
    area.press_sequentially("bcde")
    expect(counter).to_have_text("4994 of 5000 characters")
    expect(live).to_have_text("6 characters left")

    # A paste over the limit stays whole, counted over, and the server refuses it.
    area.fill("")
    area.focus()
    page.keyboard.insert_text("p" * 5010)
    expect(area).to_have_value("p" * 5010)
    expect(counter).to_have_text("5010 of 5000 characters: 10 too many")
    expect(live).to_have_text("10 characters too many")
    pages.check("counter-over")
    page.locator("#findings").get_by_role("button", name="Add and Close").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#findings")).to_contain_text(
        "Keep this to at most 5,000 characters (it has 5,010)."
    )
    assert not Finding.objects.exists()
    # The text comes back whole to be shortened, with its counter and its error described.
    expect(area).to_have_value("p" * 5010)
    expect(counter).to_have_text("5010 of 5000 characters: 10 too many")
    describedby = area.get_attribute("aria-describedby").split()
    assert "finding_description_counter" in describedby and len(describedby) >= 2
    assert_errors_described(page)
    pages.check("counter-refused")

    # Shortened to the limit, line breaks counted as one character each, it is saved whole.
    text = "\n".join(["q" * 2000, "r" * 2000, "s" * 998])
    area.fill(text)
    expect(counter).to_have_text("5000 of 5000 characters")
    page.locator("#findings").get_by_role("button", name="Add and Close").click()
    expect(page.locator("#findings")).to_contain_text("q" * 50)
    assert Finding.objects.get().description == text


def test_every_long_text_of_the_visit_has_its_counter(
    context, page, pages, live_server, inspector, inspection
):
    log_in_with_cookie(context, live_server, inspector)
    page.goto(inspection.get_absolute_url())
    expected = {
        "finding_description": 5000,
        "order_description": 5000,
        "visit_internal_notes": 5000,
        "visit_site_conditions": 2000,
        "result_description": 2000,
    }
    counted = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('textarea')].map((area) =>
             [area.id, [area.dataset.maxlength,
                        document.getElementById(area.id + '_counter')?.textContent]]))"""
    )
    assert counted == {
        name: [str(limit), f"0 of {limit} characters"] for name, limit in expected.items()
    }
    page.locator("#visit_site_conditions").fill("Snow on the roof")
    expect(page.locator("#visit_site_conditions_counter")).to_have_text("16 of 2000 characters")

"""Issue 15's acceptance, end to end in a real browser: a permit issued through Finish and
Close prints its verification address and QR code; opened logged out, the address says Valid
with the permit's number and the SHA-256 of the very file downloaded; after the chief building
official revokes the permit from the Work view it says Revoked with the date and reason; and a
made-up token is a 404 that gives away nothing about what exists."""

import base64
import contextlib
import hashlib
import io
import re

import pytest
import segno
from django.utils import timezone
from playwright.sync_api import expect

from occupancy.documents import render_permit_html, template_context
from occupancy.models import OccupancyPermit
from tests.browser.conftest import log_in_with_cookie
from tests.factories import make_inspection
from tests.occupancy.conftest import pdf_text

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()
REASON = "Occupied before the fire separation between the garage and the dwelling was completed."


def qr_code_svg(url: str) -> bytes:
    """segno's drawing of `url`, as the permit template embeds it (occupancy.verification)."""
    drawing = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        drawing, kind="svg", xmldecl=False, scale=4, border=4, dark="#000", light="#fff"
    )
    return drawing.getvalue()


@contextlib.contextmanager
def logged_out_page(browser, live_server):
    """A page in a new browser context: no session, and an empty HTTP cache (the public page
    may be cached for a minute, so a visitor who looked before the revocation could still
    see Valid for that minute: a later visitor is a new context)."""
    public = browser.new_context(base_url=live_server.url, locale="en-CA")
    try:
        yield public.new_page()
    finally:
        public.close()


def test_a_permit_issued_in_the_browser_is_verified_then_revoked_logged_out(
    browser,
    context,
    page,
    live_server,
    inspector,
    chief,
    municipality_a,
    application_a,
    occupancy_type_a,
    permit_templates,
):
    # The inspector issues the permit through Finish and Close.
    inspection = make_inspection(application_a, occupancy_type_a, assigned_inspector=inspector)
    log_in_with_cookie(context, live_server, inspector)
    page.goto(inspection.get_absolute_url())
    page.get_by_role("button", name="Start new visit").click()
    expect(page.locator("#messages")).to_contain_text("Visit 1 started.")
    result = page.locator("#result")
    result.get_by_label("Granted and fully completed").check()
    result.get_by_label("Template for occupancy permit PDF").select_option(
        label="General occupancy permit"
    )
    result.get_by_label("Occupancy permit description").fill("Single detached dwelling.")
    result.get_by_role("button", name="Finish and Close Inspection").click()
    page.get_by_role("button", name="Yes, close the inspection").click()
    permit = OccupancyPermit.objects.get()
    expect(page.locator("#messages")).to_contain_text(f"Occupancy permit {permit.number} issued.")

    # The PDF from the page: it prints its verification address and draws its QR code.
    link = page.locator("#visits").get_by_role(
        "link", name=f"Occupancy permit {permit.number} (PDF)"
    )
    response = page.request.get(link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    issued = response.body()
    token = permit.verification.token
    url = permit.snapshot["verification"]["url"]
    assert url.endswith(f"/v/{token}") and url in pdf_text(issued)
    # WeasyPrint draws the SVG QR code as vector paths (no image in the PDF), so check the
    # HTML the PDF is rendered from: its QR code is the drawing of exactly that address.
    html = render_permit_html(permit.template_version.body, template_context(permit.snapshot))
    (data_uri,) = re.findall(r'<img class="qr" src="([^"]+)"', html)
    assert base64.b64decode(data_uri.removeprefix("data:image/svg+xml;base64,")) == qr_code_svg(url)

    # Logged out, in a new browser context: Valid, the number, the hash of the downloaded file.
    with logged_out_page(browser, live_server) as visitor:
        visitor.goto(f"{live_server.url}/v/{token}")
        expect(visitor.get_by_role("heading", level=1)).to_have_text(
            f"Occupancy permit {permit.number}"
        )
        expect(visitor.locator(".verify-status")).to_contain_text("Valid")
        expect(visitor.locator("#issued-sha256")).to_have_text(hashlib.sha256(issued).hexdigest())

    # The chief building official revokes it from the Work view.
    context.clear_cookies()
    log_in_with_cookie(context, live_server, chief)
    page.goto(application_a.get_absolute_url())
    page.locator("#occupancy").get_by_role("link", name=f"Revoke {permit.number}").click()
    effective = TODAY  # granted today: the only date the revocation can take effect
    page.get_by_label("Reason for the revocation").fill(REASON)
    page.get_by_label("Revoked effective").fill(effective.isoformat())
    page.get_by_role("button", name=f"Revoke permit {permit.number}").click()
    expect(page.locator("#messages")).to_contain_text(f"{permit.number} revoked effective")

    # The same address, logged out, now says Revoked with the date and the reason.
    with logged_out_page(browser, live_server) as visitor:
        visitor.goto(f"{live_server.url}/v/{token}")
        status = visitor.locator(".verify-status")
        expect(status).to_contain_text(
            f"Revoked on {effective:%B} {effective.day}, {effective.year}"
        )
        expect(status).to_contain_text(REASON)
        expect(status).not_to_contain_text("Valid")

        # A made-up token: 404, and nothing about any permit or municipality.
        made_up = visitor.goto(f"{live_server.url}/v/{'x' * len(token)}")
        assert made_up.status == 404
        text = visitor.locator("body").inner_text()
        assert "No permit at this address" in text
        assert permit.number not in text
        assert municipality_a.name not in text
        assert not re.search(r"OCC-\d{4}-\d+", text)

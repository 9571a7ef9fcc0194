"""Issue 15 in a real browser, on a phone (390 px), logged out: the public verification page
of an issued permit says Valid, and checks a PDF in the browser: the issued file dropped on
it is "the document issued", a file changed by one byte is not. Checked by axe at 1280 and
390 px, with no sideways scrolling and no console or Content-Security-Policy error."""

import base64
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from occupancy.models import VerificationLookup
from occupancy.services import GrantDetails, visit_finish_and_close
from tests.browser.conftest import PHONE
from tests.factories import make_inspection

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()

DROP = """([name, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "application/pdf" }));
  return transfer;
}"""


def test_a_visitor_checks_the_issued_pdf_on_the_public_page(
    page,
    pages,
    tmp_path,
    inspector,
    application_a,
    occupancy_type_a,
    permit_templates,
):
    inspection = make_inspection(application_a, occupancy_type_a, assigned_inspector=inspector)
    visit = inspection.visits.create(sequence=1, started_by=inspector)
    permit = visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=permit_templates["general"],
            granted_on=TODAY - datetime.timedelta(days=2),
            description="Single detached dwelling.",
        ),
    ).permit
    with permit.pdf.open("rb") as handle:
        issued = handle.read()

    page.set_viewport_size(PHONE)
    page.goto(reverse("occupancy:verify", args=[permit.verification.token]))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Occupancy permit {permit.number}")
    expect(page.locator(".verify-status")).to_contain_text("Valid")
    expect(page.locator("#issued-sha256")).to_have_text(permit.pdf_sha256)
    expect(page.get_by_label("PDF file to check")).to_be_visible()
    pages.check("valid")

    # The issued file, dropped on the page.
    transfer = page.evaluate_handle(DROP, ["permit.pdf", base64.b64encode(issued).decode()])
    page.dispatch_event("#verify-drop", "drop", {"dataTransfer": transfer})
    result = page.get_by_role("status")
    expect(result).to_contain_text("This is the document issued")
    expect(result).not_to_contain_text("NOT")
    pages.check("match")

    # A copy changed by one byte, chosen with the file input.
    changed = bytearray(issued)
    changed[len(changed) // 2] ^= 0x01
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(bytes(changed))
    page.get_by_label("PDF file to check").set_input_files(forged)
    expect(result).to_contain_text("This file is NOT the document issued")
    pages.check("mismatch")

    # Each page load is a lookup; checking files is not (nothing is sent).
    assert VerificationLookup.objects.filter(permit=permit).count() == 1

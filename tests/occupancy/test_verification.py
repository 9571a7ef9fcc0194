"""Public verification (issue 15): every permit issued prints the address of its public page
and its QR code; the page, open without login, says what was issued and whether it is valid
today, and gives the SHA-256 of the issued PDF. Unknown addresses get one page that reveals
nothing; lookups are rate limited and recorded without anything about the visitor."""

import base64
import datetime
import hashlib
import io
import re

import pytest
import segno
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from occupancy.documents import render_permit_html, render_permit_pdf, template_context
from occupancy.models import (
    LookupOutcome,
    PermitKind,
    PermitVerification,
    VerificationLookup,
)
from occupancy.rules import GrantDetails
from occupancy.services import occupancy_permit_revoke, visit_finish_and_close
from occupancy.snapshot import PermitSnapshot
from tests.conftest import client_for
from tests.occupancy.conftest import pdf_text

TODAY = timezone.localdate()
REASON = "Occupied before the fire separation was completed."


def issue(visit, actor, template, **fields):
    values = dict(template=template, granted_on=TODAY, description="Single detached dwelling.")
    values.update(fields)
    return visit_finish_and_close(
        visit=visit,
        actor=actor,
        result="granted_full",
        failure_reason="",
        grant=GrantDetails(**values),
    ).permit


@pytest.fixture
def permit(inspector, open_visit, general_template):
    return issue(open_visit, inspector, general_template)


def page_url(permit) -> str:
    return reverse("occupancy:verify", args=[permit.verification.token])


def page_text(response) -> str:
    html = response.content.decode()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@override_settings(PUBLIC_BASE_URL="https://permits.example.ca")
def test_an_issued_permit_prints_its_verification_address_and_qr_code(
    inspector, open_visit, general_template
):
    permit = issue(open_visit, inspector, general_template)
    token = permit.verification.token
    url = f"https://permits.example.ca/v/{token}"
    assert len(token) >= 22  # 128 random bits
    assert token not in permit.number and permit.number not in token
    assert permit.snapshot["verification"] == {"url": url}
    with permit.pdf.open("rb") as handle:
        issued = handle.read()
    assert url in pdf_text(issued)
    # The QR code is the address: the rendered permit holds segno's drawing of exactly it.
    html = render_permit_html(permit.template_version.body, template_context(permit.snapshot))
    (data_uri,) = re.findall(r'<img class="qr" src="([^"]+)"', html)
    svg = base64.b64decode(data_uri.removeprefix("data:image/svg+xml;base64,"))
    expected = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        expected, kind="svg", xmldecl=False, scale=4, border=4, dark="#000", light="#fff"
    )
    assert svg == expected.getvalue()
    assert segno.make(url, error="m", micro=False).designator  # a valid QR code of the URL
    # Rendered again from its snapshot, the permit is the same bytes (the token is stored).
    again = render_permit_pdf(
        body=permit.template_version.body,
        stylesheet=permit.template_version.stylesheet,
        snapshot=permit.snapshot,
        municipality=permit.municipality,
    )
    assert hashlib.sha256(again).hexdigest() == permit.pdf_sha256


def test_logged_out_the_page_shows_valid_with_the_number_and_the_hash(permit):
    response = client_for(None).get(page_url(permit))
    assert response.status_code == 200
    text = page_text(response)
    assert "Valid" in text
    assert "Revoked" not in text
    for expected in [
        permit.number,
        permit.pdf_sha256,
        "Town of Alpha",
        permit.snapshot["application"]["full_address"],
        "General",
        f"{TODAY:%B} {TODAY.day}, {TODAY.year}",
    ]:
        assert expected in text, expected
    assert "max-age=60" in response["Cache-Control"]
    # The check of a file runs in the browser from a static script (no inline script).
    html = response.content.decode()
    assert "/static/js/verify.js" in html
    assert f'data-expected-sha256="{permit.pdf_sha256}"' in html
    assert "<script>" not in html


def test_after_revocation_the_page_shows_revoked_with_its_date_and_reason(permit, admin_user):
    revoked_on = TODAY
    occupancy_permit_revoke(permit=permit, actor=admin_user, reason=REASON, revoked_on=revoked_on)
    text = page_text(client_for(None).get(page_url(permit)))
    assert f"Revoked on {revoked_on:%B} {revoked_on.day}, {revoked_on.year}" in text
    assert REASON in text
    assert "Valid" not in text
    # The notice of revocation prints the same address and its QR code.
    revocation = permit.revocation
    with revocation.notice_pdf.open("rb") as handle:
        assert permit.snapshot["verification"]["url"] in pdf_text(handle.read())
    assert VerificationLookup.objects.get().outcome == LookupOutcome.REVOKED


def test_a_temporary_permit_past_its_expiry_shows_expired(inspector, open_visit, municipality_a):
    from demo import builders

    temporary = builders.permit_type(
        municipality=municipality_a,
        name="Temporary",
        kind=PermitKind.TEMPORARY,
        needs_expiry_date=True,
    )
    template = builders.permit_template(permit_type=temporary, filename="temporary.html")
    expired_on = TODAY - datetime.timedelta(days=1)
    permit = issue(
        open_visit,
        inspector,
        template,
        granted_on=TODAY - datetime.timedelta(days=60),
        expires_on=expired_on,
    )
    text = page_text(client_for(None).get(page_url(permit)))
    assert f"Expired on {expired_on:%B} {expired_on.day}, {expired_on.year}" in text
    assert "Valid" not in text
    assert VerificationLookup.objects.get().outcome == LookupOutcome.EXPIRED


def test_an_unknown_address_is_a_404_that_tells_nothing(permit):
    client = client_for(None)
    real = permit.verification.token
    guesses = ["x" * len(real), real[:-1] + ("A" if real[-1] != "A" else "B"), permit.number]
    pages = []
    for guess in guesses:
        response = client.get(reverse("occupancy:verify", args=[guess]))
        assert response.status_code == 404
        pages.append(response.content)
    assert len(set(pages)) == 1  # the same page, whatever was asked
    text = page_text(response)
    assert "No permit at this address" in text
    for hint in [permit.number, "Town of Alpha", permit.pdf_sha256, "revoked", "expired"]:
        assert hint.lower() not in text.lower(), hint
    assert (
        list(VerificationLookup.objects.values_list("permit", "outcome"))
        == [(None, LookupOutcome.NOT_FOUND)] * 3
    )


@override_settings(VERIFICATION_LOOKUPS_PER_MINUTE=5)
def test_lookups_beyond_the_limit_per_client_address_get_429(permit):
    client = client_for(None)
    url = page_url(permit)
    assert [client.get(url).status_code for _ in range(5)] == [200] * 5
    response = client.get(url)
    assert response.status_code == 429
    assert "Too many verification lookups" in response.content.decode()
    assert response["Retry-After"] == "60"
    # Unknown addresses count too: guessing is throttled as much as looking up.
    assert client.get(reverse("occupancy:verify", args=["guess"])).status_code == 429
    # Another client address is not throttled by this one's lookups.
    other = client_for(None)
    assert other.get(url, REMOTE_ADDR="192.0.2.7").status_code == 200
    assert VerificationLookup.objects.count() == 6  # refused lookups are not recorded


def test_each_lookup_is_recorded_with_time_permit_and_outcome_and_nothing_personal(permit):
    client = client_for(None)
    before = timezone.now()
    client.get(page_url(permit), REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Lender-Browser/1.0")
    (lookup,) = VerificationLookup.objects.values()
    assert set(lookup) == {"id", "looked_up_at", "permit_id", "outcome"}
    assert lookup["permit_id"] == permit.pk
    assert lookup["outcome"] == LookupOutcome.VALID
    assert before <= lookup["looked_up_at"] <= timezone.now()
    assert "203.0.113.9" not in str(lookup) and "Lender" not in str(lookup)


def test_a_permit_issued_before_verification_reads_and_renders_as_issued(permit):
    """A version 2 snapshot (before issue 15) has no address: it reads with an empty one
    and the shipped templates print no footer for it."""
    version_2 = {k: v for k, v in permit.snapshot.items() if k != "verification"}
    version_2["schema_version"] = 2
    read = PermitSnapshot.from_json(version_2)
    assert read.verification.url == ""
    html = render_permit_html(permit.template_version.body, template_context(version_2))
    assert 'class="qr"' not in html
    assert "/v/" not in html


def test_the_token_is_created_in_the_issuing_transaction(permit):
    verification = PermitVerification.objects.get(permit=permit)
    assert permit.snapshot["verification"]["url"].endswith("/v/" + verification.token)

"""Digital signatures (issue 15): a municipality uploads its signing certificate (PKCS#12 and
its password) in the admin, where it is checked at the field and stored encrypted, never
shown back or downloadable; its permits and notices of revocation are then signed (PAdES
B-B), pyHanko validates the signature against the certificate, the SHA-256 stored and shown
is the signed file's, and the public verification page names the signer. Without a
certificate documents are unsigned and the page says so."""

import hashlib
import io
import re

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from core import signing
from core.models import Activity, DocumentSignature, SigningCertificate
from demo import builders
from occupancy.documents import render_permit_pdf
from occupancy.rules import GrantDetails
from occupancy.services import occupancy_permit_revoke, visit_finish_and_close
from tests.conftest import client_for
from tests.factories import make_inspection
from tests.signing_helpers import (
    ALPHA_SIGNER,
    CERTIFICATE_PASSWORD,
    store_signing_certificate,
    throwaway_certificate,
    throwaway_pkcs12,
)

TODAY = timezone.localdate()
ADD_URL = reverse("admin:core_signingcertificate_add")


@pytest.fixture
def open_visit(application_a, occupancy_type_a, inspector):
    return builders.visit(
        inspection=make_inspection(application_a, occupancy_type_a), inspector=inspector
    )


def issue(visit, actor, template):
    return visit_finish_and_close(
        visit=visit,
        actor=actor,
        result="granted_full",
        failure_reason="",
        grant=GrantDetails(
            template=template, granted_on=TODAY, description="Single detached dwelling."
        ),
    ).permit


def read(field_file) -> bytes:
    with field_file.open("rb") as handle:
        return handle.read()


def validated(data: bytes):
    """pyHanko's validation of the document's one signature, trusting the throwaway
    certificate (and nothing else)."""
    trusted = asn1_x509.Certificate.load(
        throwaway_certificate().public_bytes(serialization.Encoding.DER)
    )
    (embedded,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    return embedded, validate_pdf_signature(
        embedded, ValidationContext(trust_roots=[trusted], allow_fetching=False)
    )


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def upload(client, municipality, *, data=None, password=CERTIFICATE_PASSWORD, url=ADD_URL):
    return client.post(
        url,
        {
            "municipality": municipality.pk,
            "certificate_file": SimpleUploadedFile(
                "alpha.p12", throwaway_pkcs12() if data is None else data
            ),
            "password": password,
        },
    )


# Upload in the admin


def test_the_municipal_administrator_uploads_the_certificate_stored_encrypted(
    municipality_a, town_admin
):
    pkcs12 = throwaway_pkcs12()
    response = upload(client_for(town_admin), municipality_a)
    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )
    certificate = SigningCertificate.objects.get(municipality=municipality_a)
    stored = bytes(certificate.encrypted_pkcs12)
    stored_password = bytes(certificate.encrypted_password)
    # Neither the file nor its password is in the database as given.
    assert stored != pkcs12 and pkcs12 not in stored
    assert CERTIFICATE_PASSWORD.encode() not in stored_password
    assert CERTIFICATE_PASSWORD.encode() not in stored
    assert certificate.common_name == ALPHA_SIGNER
    assert certificate.organisation == "Town of Alpha"
    assert certificate.not_valid_after > timezone.now()
    assert certificate.uploaded_by == town_admin
    # The audit trail says which certificate, never the password.
    entry = Activity.objects.get(municipality=municipality_a)
    assert ALPHA_SIGNER in str(entry.changes)
    assert CERTIFICATE_PASSWORD not in str(entry.changes) + entry.summary
    # The change page shows what the certificate is, never the file or the password.
    page = client_for(town_admin).get(
        reverse("admin:core_signingcertificate_change", args=[certificate.pk])
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert ALPHA_SIGNER in html
    assert CERTIFICATE_PASSWORD not in html
    assert 'type="password"' in html and 'value="' + CERTIFICATE_PASSWORD not in html
    for secret in (stored, pkcs12):
        assert secret.decode("latin-1")[:40] not in html


@pytest.mark.parametrize(
    ("data", "password", "field", "message"),
    [
        (None, "not-the-password", "password", "The password does not open this certificate file."),
        (None, "", "password", "This certificate file needs its password."),
        (b"%PDF-1.7 not a certificate", CERTIFICATE_PASSWORD, "certificate_file",
         "This is not a PKCS#12 certificate file (.p12 or .pfx)."),
        ("expired", CERTIFICATE_PASSWORD, "certificate_file", "This certificate expired on"),
        ("no key", CERTIFICATE_PASSWORD, "certificate_file", "This file holds no private key"),
    ],
)  # fmt: skip
def test_a_certificate_that_cannot_sign_is_refused_at_the_field(
    municipality_a, town_admin, data, password, field, message
):
    if data == "expired":
        data = throwaway_pkcs12(expired=True)
    elif data == "no key":
        data = throwaway_pkcs12(with_key=False)
    response = upload(client_for(town_admin), municipality_a, data=data, password=password)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(error.startswith(message) for error in errors[field]), errors
    assert message.split(" on")[0] in page_text(response)
    assert not SigningCertificate.objects.exists()
    assert not Activity.objects.exists()


def test_without_a_signing_key_in_production_no_certificate_is_stored(
    settings, municipality_a, town_admin
):
    settings.SIGNING_KEY = ""
    settings.DEBUG = False
    response = upload(client_for(town_admin), municipality_a)
    assert response.status_code == 200
    assert "SIGNING_KEY is not set" in page_text(response)
    assert not SigningCertificate.objects.exists()


def test_with_debug_and_no_signing_key_the_key_is_derived_from_the_secret_key(
    settings, municipality_a
):
    settings.SIGNING_KEY = ""
    settings.DEBUG = True
    certificate = store_signing_certificate(municipality_a)
    settings.SECRET_KEY = "another-secret-key-entirely-for-this-test"
    # Another key cannot read it: the stored bytes are encrypted with the derived key.
    with pytest.raises(signing.SigningError, match="cannot be decrypted"):
        signing._signer(certificate)


def test_another_municipalitys_administrator_gets_404_and_no_url_gives_the_certificate(
    municipality_a, town_admin, town_admin_b, admin_user
):
    certificate = store_signing_certificate(municipality_a)
    change = reverse("admin:core_signingcertificate_change", args=[certificate.pk])
    assert client_for(town_admin_b).get(change).status_code == 404
    assert client_for(town_admin_b).post(change, {}).status_code == 404
    listing = client_for(town_admin_b).get(reverse("admin:core_signingcertificate_changelist"))
    assert certificate not in listing.context["cl"].result_list
    # The admin's pages for the model are its list, add, change, history and delete: none
    # serves a file, and none of them shows the stored bytes.
    model_admin = admin.site._registry[SigningCertificate]
    names = {pattern.name for pattern in model_admin.get_urls() if pattern.name}
    assert names == {
        f"core_signingcertificate_{page}"
        for page in ("changelist", "add", "change", "history", "delete")
    }
    client = client_for(admin_user)
    stored = bytes(certificate.encrypted_pkcs12)
    for page, args in [
        ("changelist", []),
        ("change", [certificate.pk]),
        ("history", [certificate.pk]),
        ("delete", [certificate.pk]),
    ]:
        response = client.get(reverse(f"admin:core_signingcertificate_{page}", args=args))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        body = response.content
        assert throwaway_pkcs12()[:64] not in body and stored[:64] not in body
        assert CERTIFICATE_PASSWORD.encode() not in body


# Signed documents


def test_an_issued_permit_is_signed_and_the_stored_digest_is_the_signed_files(
    municipality_a, inspector, chief, open_visit, general_template
):
    store_signing_certificate(municipality_a)
    permit = issue(open_visit, inspector, general_template)
    issued = read(permit.pdf)
    assert hashlib.sha256(issued).hexdigest() == permit.pdf_sha256
    embedded, status = validated(issued)
    assert status.intact and status.valid and status.trusted
    assert status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.subject.native["common_name"] == ALPHA_SIGNER
    assert status.md_algorithm == "sha256"
    signature_dictionary = embedded.sig_object
    assert signature_dictionary["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert signature_dictionary["/Reason"] == signing.PERMIT_REASON
    assert signature_dictionary["/Location"] == "Town of Alpha"
    # Still an archival PDF that opens and reads as the permit.
    reader = PdfReader(io.BytesIO(issued))
    assert permit.number in reader.pages[0].extract_text()
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp), xmp
    # Re-rendered from what is stored, the permit gives the document as rendered before
    # signing: the signed file's first bytes, whose digest is kept with the signature.
    recorded = DocumentSignature.objects.get(sha256=permit.pdf_sha256)
    again = render_permit_pdf(
        body=permit.template_version.body,
        stylesheet=permit.template_version.stylesheet,
        snapshot=permit.snapshot,
        municipality=permit.municipality,
    )
    assert hashlib.sha256(again).hexdigest() == recorded.unsigned_sha256
    assert issued[: recorded.unsigned_length] == again
    assert recorded.signer == ALPHA_SIGNER
    # The public page names the signer.
    page = client_for(None).get(reverse("occupancy:verify", args=[permit.verification.token]))
    text = page_text(page)
    assert permit.pdf_sha256 in text
    assert f"Signed by {ALPHA_SIGNER}" in text
    assert "not digitally signed" not in text


def test_a_notice_of_revocation_is_signed_too(
    municipality_a, inspector, chief, open_visit, general_template
):
    store_signing_certificate(municipality_a)
    permit = issue(open_visit, inspector, general_template)
    revocation = occupancy_permit_revoke(
        permit=permit, actor=chief, reason="Occupied before the final.", revoked_on=TODAY
    )
    notice = read(revocation.notice_pdf)
    assert hashlib.sha256(notice).hexdigest() == revocation.notice_sha256
    embedded, status = validated(notice)
    assert status.bottom_line and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert embedded.sig_object["/Reason"] == signing.REVOCATION_REASON
    text = page_text(
        client_for(None).get(reverse("occupancy:verify", args=[permit.verification.token]))
    )
    assert "Revoked" in text
    assert f"Notice of revocation Signed by {ALPHA_SIGNER}" in text


def test_without_a_certificate_documents_are_unsigned_and_the_page_says_so(
    inspector, chief, open_visit, general_template
):
    permit = issue(open_visit, inspector, general_template)
    issued = read(permit.pdf)
    assert PdfFileReader(io.BytesIO(issued)).embedded_signatures == []
    assert not DocumentSignature.objects.exists()
    url = reverse("occupancy:verify", args=[permit.verification.token])
    assert "This document is not digitally signed." in page_text(client_for(None).get(url))
    revocation = occupancy_permit_revoke(
        permit=permit, actor=chief, reason="Occupied before the final.", revoked_on=TODAY
    )
    assert PdfFileReader(io.BytesIO(read(revocation.notice_pdf))).embedded_signatures == []
    assert "The notice of revocation is not digitally signed." in page_text(
        client_for(None).get(url)
    )


def test_a_certificate_expired_since_its_upload_refuses_the_close_and_issues_nothing(
    settings, municipality_a, inspector, open_visit, general_template
):
    from inspections.models import Visit
    from occupancy.exceptions import CloseError
    from occupancy.models import OccupancyPermit

    certificate = store_signing_certificate(municipality_a)
    SigningCertificate.objects.filter(pk=certificate.pk).update(
        encrypted_pkcs12=signing._fernet().encrypt(throwaway_pkcs12(expired=True))
    )
    with pytest.raises(CloseError, match="could not be signed: .*expired"):
        issue(open_visit, inspector, general_template)
    assert not OccupancyPermit.objects.exists()
    assert not DocumentSignature.objects.exists()
    assert Visit.objects.get(pk=open_visit.pk).status == open_visit.status
    assert not list((settings.MEDIA_ROOT / "occupancy").rglob("*.pdf"))


def test_a_signing_key_removed_after_the_upload_refuses_the_close_with_a_message(
    settings, municipality_a, inspector, open_visit, general_template
):
    """Not a server error: the close says why and nothing is issued."""
    from occupancy.exceptions import CloseError
    from occupancy.models import OccupancyPermit

    store_signing_certificate(municipality_a)
    settings.SIGNING_KEY = ""
    settings.DEBUG = False
    with pytest.raises(CloseError, match="could not be signed: .*cannot be read"):
        issue(open_visit, inspector, general_template)
    assert not OccupancyPermit.objects.exists()

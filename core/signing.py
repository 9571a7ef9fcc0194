"""Digital signatures of issued documents: a municipality's signing certificate, kept
encrypted at rest, and the PAdES signature of its permits and notices of revocation.

A municipality uploads its certificate (a PKCS#12 file: private key and certificate chain,
with its password) in the admin; both are encrypted with Fernet under settings.SIGNING_KEY
before they reach the database and are decrypted only here, to sign. Nothing returns them.

`sign_pdf` appends a PAdES baseline B-B signature (pyHanko) to a rendered document as an
incremental update: the signed file starts with the rendered bytes unchanged, so an issued
document re-rendered from what is stored gives the signed file's first bytes (their SHA-256
is kept in core.models.DocumentSignature), while the signed file itself, whose digest the
permit or notice stores, carries a signing time and cannot be produced again.
"""

import base64
import datetime
import hashlib
import io
import logging

from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from core.models import DocumentSignature, Municipality, SigningCertificate

logger = logging.getLogger(__name__)

PERMIT_REASON = "Occupancy permit issued by the Chief Building Official"
REVOCATION_REASON = "Notice of revocation issued by the Chief Building Official"
# The largest certificate file accepted: a key and a chain of a few certificates is a few kB.
MAX_PKCS12_BYTES = 100_000


class SigningKeyMissing(Exception):
    """No SIGNING_KEY in production: a certificate cannot be stored or read."""


class CertificateRefused(ValueError):
    """An uploaded certificate file that cannot sign: the message says why, for the form;
    `field` is the form's field it is about ("certificate_file" or "password")."""

    def __init__(self, message, field: str = "certificate_file"):
        super().__init__(message)
        self.field = field


class SigningError(Exception):
    """A stored certificate that cannot sign now (expired since, or SIGNING_KEY changed)."""


def _fernet() -> Fernet:
    key = settings.SIGNING_KEY
    if key:
        try:
            return Fernet(key)
        except (ValueError, TypeError) as exc:
            raise SigningKeyMissing(
                gettext("SIGNING_KEY is not a Fernet key (32 url-safe base64-encoded bytes).")
            ) from exc
    if not settings.DEBUG:
        raise SigningKeyMissing(
            gettext(
                "SIGNING_KEY is not set: signing certificates cannot be stored or used. "
                "Set SIGNING_KEY to a Fernet key."
            )
        )
    logger.warning(
        "SIGNING_KEY is not set: signing certificates are encrypted with a key derived from "
        "SECRET_KEY (DEBUG only; set SIGNING_KEY in production)."
    )
    digest = hashlib.sha256(b"threshold-signing-certificates:" + settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(digest.digest()))


def _name_part(name: x509.Name, oid) -> str:
    return ", ".join(str(attribute.value) for attribute in name.get_attributes_for_oid(oid))


class CertificateDetails:
    """What an uploaded PKCS#12 file holds, once opened and checked."""

    def __init__(self, certificate: x509.Certificate):
        self.certificate = certificate
        self.subject = certificate.subject.rfc4514_string()
        self.issuer = certificate.issuer.rfc4514_string()
        self.common_name = _name_part(certificate.subject, NameOID.COMMON_NAME)
        self.organisation = _name_part(certificate.subject, NameOID.ORGANIZATION_NAME)
        self.not_valid_after = certificate.not_valid_after_utc
        self.sha256 = certificate.fingerprint(hashes.SHA256()).hex()


def certificate_refusal(data: bytes, password: str, *, now: datetime.datetime) -> str | None:
    """Why the PKCS#12 file `data` with `password` cannot sign documents, or None. The one
    rule, used by the admin's form and by `signing_certificate_store`."""
    try:
        read_pkcs12(data, password, now=now)
    except CertificateRefused as exc:
        return str(exc)
    return None


def read_pkcs12(data: bytes, password: str, *, now: datetime.datetime) -> CertificateDetails:
    """The certificate of a PKCS#12 file that can sign, or CertificateRefused saying why."""
    if len(data) > MAX_PKCS12_BYTES:
        raise CertificateRefused(gettext("This file is too large to be a signing certificate."))
    try:
        # The structure first: a file that is not PKCS#12 at all is told apart from a wrong
        # password (cryptography gives one error for both).
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        pfx["auth_safe"]["content_type"].native  # noqa: B018 - parses the structure
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, …
        raise CertificateRefused(
            gettext("This is not a PKCS#12 certificate file (.p12 or .pfx).")
        ) from exc
    try:
        key, certificate, _chain = pkcs12.load_key_and_certificates(
            data, password.encode() if password else None
        )
    except ValueError as exc:
        raise CertificateRefused(
            gettext("The password does not open this certificate file.")
            if password
            else gettext("This certificate file needs its password."),
            field="password",
        ) from exc
    except Exception as exc:  # an algorithm cryptography does not support, …
        raise CertificateRefused(
            gettext("This certificate file cannot be read: %(error)s") % {"error": exc}
        ) from exc
    if key is None:
        raise CertificateRefused(
            gettext("This file holds no private key: export the certificate with its private key.")
        )
    if certificate is None:
        raise CertificateRefused(gettext("This file holds no certificate."))
    public_format = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*public_format) != certificate.public_key().public_bytes(
        *public_format
    ):
        raise CertificateRefused(
            gettext("The private key in this file is not the certificate's key.")
        )
    details = CertificateDetails(certificate)
    if certificate.not_valid_after_utc <= now:
        raise CertificateRefused(
            gettext("This certificate expired on %(date)s.")
            % {"date": f"{certificate.not_valid_after_utc:%Y-%m-%d}"}
        )
    if certificate.not_valid_before_utc > now:
        raise CertificateRefused(
            gettext("This certificate is valid only from %(date)s.")
            % {"date": f"{certificate.not_valid_before_utc:%Y-%m-%d}"}
        )
    return details


def signing_certificate_store(
    *,
    municipality: Municipality,
    pkcs12_data: bytes,
    password: str,
    actor,
    certificate: SigningCertificate | None = None,
) -> SigningCertificate:
    """Store (or replace) the signing certificate of `municipality`, encrypted. Refused
    (CertificateRefused, SigningKeyMissing) when the file cannot sign or there is no key."""
    details = read_pkcs12(pkcs12_data, password, now=timezone.now())
    fernet = _fernet()
    if certificate is None:
        certificate = SigningCertificate(municipality=municipality)
    certificate.municipality = municipality
    certificate.encrypted_pkcs12 = fernet.encrypt(pkcs12_data)
    certificate.encrypted_password = fernet.encrypt(password.encode())
    certificate.subject = details.subject[:500]
    certificate.common_name = details.common_name[:200]
    certificate.organisation = details.organisation[:200]
    certificate.issuer = details.issuer[:500]
    certificate.not_valid_after = details.not_valid_after
    certificate.uploaded_by = actor
    certificate.uploaded_at = timezone.now()
    return certificate


def _signer(certificate: SigningCertificate) -> tuple[signers.SimpleSigner, CertificateDetails]:
    try:
        fernet = _fernet()
    except SigningKeyMissing as exc:
        # A certificate stored, then SIGNING_KEY removed: the close says why, nothing issued.
        raise SigningError(
            gettext("The signing certificate cannot be read: %(error)s") % {"error": exc}
        ) from exc
    try:
        data = fernet.decrypt(bytes(certificate.encrypted_pkcs12))
        password = fernet.decrypt(bytes(certificate.encrypted_password)).decode()
    except InvalidToken as exc:
        raise SigningError(
            gettext(
                "The signing certificate cannot be decrypted with the current SIGNING_KEY: "
                "upload it again in the admin."
            )
        ) from exc
    try:
        details = read_pkcs12(data, password, now=timezone.now())
    except CertificateRefused as exc:
        raise SigningError(
            gettext("The signing certificate cannot sign: %(error)s") % {"error": exc}
        ) from exc
    signer = signers.SimpleSigner.load_pkcs12_data(
        data, other_certs=[], passphrase=password.encode() if password else None
    )
    if signer is None:  # pyHanko logs and returns None for a file it cannot read
        raise SigningError(gettext("The signing certificate cannot be read by the PDF signer."))
    return signer, details


def sign_pdf(pdf: bytes, *, municipality: Municipality, reason: str = PERMIT_REASON) -> bytes:
    """`pdf` signed with `municipality`'s certificate (PAdES B-B, SHA-256, as the chief
    building official's office), or `pdf` unchanged when it has none. Records who signed
    (DocumentSignature), in the caller's transaction. SigningError when the certificate
    cannot sign (the document must not be issued unsigned by accident)."""
    certificate = SigningCertificate.objects.filter(municipality=municipality).first()
    if certificate is None:
        return pdf
    signer, details = _signer(certificate)
    metadata = signers.PdfSignatureMetadata(
        field_name="Signature",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=municipality.name,
        name=details.common_name or details.subject,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    signed = signers.sign_pdf(writer, metadata, signer=signer).getvalue()
    DocumentSignature.objects.create(
        municipality=municipality,
        sha256=hashlib.sha256(signed).hexdigest(),
        unsigned_sha256=hashlib.sha256(pdf).hexdigest(),
        unsigned_length=len(pdf),
        signer_common_name=details.common_name[:200],
        signer_organisation=details.organisation[:200],
        certificate_subject=details.subject[:500],
        certificate_sha256=details.sha256,
    )
    return signed


def document_signature(sha256: str) -> DocumentSignature | None:
    """Who signed the issued document whose SHA-256 is `sha256` (None: unsigned)."""
    if not sha256:
        return None
    return DocumentSignature.objects.filter(sha256=sha256).first()

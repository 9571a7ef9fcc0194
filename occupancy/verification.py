"""Public verification of issued permits: the address printed on a permit and its notice,
its QR code, and what the public page says about a permit.

Each permit has an unguessable token (occupancy.models.PermitVerification), created in the
transaction that issues it and written into its snapshot before its PDF is rendered, so the
PDF prints the address and re-rendering the snapshot gives the same bytes. The QR code is
drawn from the printed address at render time (segno, as an SVG data: URI: the PDF renderer
fetches nothing).
"""

import base64
import datetime
import io
from typing import NamedTuple

import segno
from django.conf import settings
from django.urls import reverse

from core import throttle
from core.models import DocumentSignature
from core.signing import document_signature
from occupancy.models import (
    LookupOutcome,
    OccupancyPermit,
    OccupancyPermitRevocation,
    PermitVerification,
    VerificationLookup,
)

RATE_WINDOW_SECONDS = 60


def verification_url(token: str) -> str:
    """The public address of a permit's verification page, as printed on it."""
    return settings.PUBLIC_BASE_URL + reverse("occupancy:verify", args=[token])


def qr_data_uri(url: str) -> str:
    """The QR code of `url` as an SVG data: URI, the same bytes for the same address (empty
    for no address: a permit issued before verification existed)."""
    if not url:
        return ""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", xmldecl=False, scale=4, border=4, dark="#000", light="#fff"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def permit_verification_url(permit: OccupancyPermit) -> str:
    """The address printed on the permit, or for a permit issued before verification
    existed (its snapshot has none) the address of the token given to it since."""
    printed = (permit.snapshot.get("verification") or {}).get("url", "")
    if printed:
        return printed
    verification = PermitVerification.objects.filter(permit=permit).first()
    return verification_url(verification.token) if verification else ""


class PublicStatus(NamedTuple):
    outcome: str  # a LookupOutcome
    revocation: OccupancyPermitRevocation | None


def public_status(permit: OccupancyPermit, *, today: datetime.date) -> PublicStatus:
    """What the page says of the permit today: revoked, expired (a permit with an expiry
    date past it) or valid. Read from the database at each lookup."""
    if permit.is_revoked:
        revocation = OccupancyPermitRevocation.objects.filter(permit=permit).first()
        return PublicStatus(LookupOutcome.REVOKED, revocation)
    if permit.expires_on is not None and permit.expires_on < today:
        return PublicStatus(LookupOutcome.EXPIRED, None)
    return PublicStatus(LookupOutcome.VALID, None)


class Signatures(NamedTuple):
    """Who signed the permit and its notice of revocation (None: not digitally signed)."""

    permit: DocumentSignature | None
    notice: DocumentSignature | None


def document_signatures(
    permit: OccupancyPermit, revocation: OccupancyPermitRevocation | None
) -> Signatures:
    """The signatures of the files whose SHA-256 the page shows: recorded when each was
    signed (core.signing), found by that digest."""
    return Signatures(
        permit=document_signature(permit.pdf_sha256),
        notice=document_signature(revocation.notice_sha256) if revocation else None,
    )


def permit_of_token(token: str) -> OccupancyPermit | None:
    verification = (
        PermitVerification.objects.select_related(
            "permit__municipality", "permit__permit_type", "permit__application"
        )
        .filter(token=token)
        .first()
    )
    return verification.permit if verification else None


def verification_lookup_record(
    *, permit: OccupancyPermit | None, outcome: str
) -> VerificationLookup:
    """One lookup of the page: when, which permit, what it showed; nothing of the visitor."""
    return VerificationLookup.objects.create(permit=permit, outcome=outcome)


def lookups_over_limit(address: str) -> bool:
    """Count one lookup from a client address and say whether it is over
    VERIFICATION_LOOKUPS_PER_MINUTE in the current minute (core.throttle)."""
    return throttle.over_limit(
        "verification-lookups",
        address,
        limit=settings.VERIFICATION_LOOKUPS_PER_MINUTE,
        window_seconds=RATE_WINDOW_SECONDS,
    )

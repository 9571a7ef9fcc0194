"""The occupancy permit document: its PDF, rendered from its stored snapshot.

What the snapshot holds is defined once, in occupancy.snapshot. The
template is rendered by a sandboxed engine: no template loaders (no include or extends of
files), no tag libraries to load, autoescaping on.
"""

import base64
import mimetypes
from collections.abc import Hashable

from django.template import Context, Engine, TemplateSyntaxError
from django.utils import translation
from django.utils.translation import gettext

from core.pdf import DocumentMetadata, PdfRenderError, issuer_name, render_pdf
from core.people import person_name
from occupancy.snapshot import PermitSnapshot, main_language


class SandboxEngine(Engine):
    # Replaces Django's built-in tags and filters with the vetted subset.
    default_builtins = ["occupancy.template_sandbox"]


SANDBOX = SandboxEngine(dirs=[], app_dirs=False, libraries={}, autoescape=True, loaders=[])


def _logo_data_uri(municipality) -> str:
    logo = municipality.letterhead_logo
    if not logo:
        return ""
    content_type = mimetypes.guess_type(logo.name)[0] or "image/png"
    with logo.open("rb") as handle:
        return f"data:{content_type};base64," + base64.b64encode(handle.read()).decode()


def template_context(snapshot: dict, *, logo_data_uri: str = "") -> dict:
    """What a permit template sees of a stored snapshot (any schema version)."""
    return PermitSnapshot.from_json(snapshot).template_context(logo_data_uri=logo_data_uri)


def pdf_language(language: str) -> str:
    """The PDF's /Lang of a permit of `language` (a bilingual permit's main one: English)."""
    return "fr-CA" if main_language(language) == "fr-ca" else "en-CA"


def permit_pdf_metadata(snapshot: dict) -> DocumentMetadata:
    """A permit PDF's metadata, from its snapshot alone (re-rendering gives the same bytes),
    in the permit's language: the template's own <title> and <html lang> win."""
    return _metadata_of(PermitSnapshot.from_json(snapshot))


def _metadata_of(stored: PermitSnapshot) -> DocumentMetadata:
    permit, application = stored.permit, stored.application
    values = {
        "number": permit.number,
        "type": permit.type_name,
        "address": application.full_address,
        "application": application.number,
    }
    with translation.override(main_language(permit.language)):
        return DocumentMetadata(
            title=gettext("Occupancy Permit %(number)s") % values,
            author=issuer_name(stored.municipality),
            subject=gettext(
                "Occupancy permit %(number)s (%(type)s) for %(address)s, building permit "
                "%(application)s"
            )
            % values,
            created=permit.issued_at,
            lang=pdf_language(permit.language),
        )


def render_permit_html(body: str, context: dict) -> str:
    try:
        return SANDBOX.from_string(body).render(Context(context, autoescape=True))
    except TemplateSyntaxError as exc:
        raise PdfRenderError(f"The permit template has an error: {exc}") from exc


def render_permit_pdf(
    *,
    body: str,
    snapshot: dict,
    municipality,
    stylesheet: str = "",
    stylesheet_key: Hashable = None,
) -> bytes:
    """The permit's PDF from its template body and stylesheet and its snapshot. A saved
    version passes ("permit-template-version", pk) as the key: its CSS is parsed once.

    Rendered in the permit's language (its snapshot's; a bilingual permit's main language,
    English), whatever the language of the request: month names and any translated label
    are the permit's."""
    # Read once for the language, the template's context and the metadata (the close
    # renders inside the number's lock: issue 16).
    stored = PermitSnapshot.from_json(snapshot)
    with translation.override(main_language(stored.permit.language)):
        html = render_permit_html(
            body, stored.template_context(logo_data_uri=_logo_data_uri(municipality))
        )
    return render_pdf(
        html, stylesheet=stylesheet, stylesheet_key=stylesheet_key, metadata=_metadata_of(stored)
    )


def version_stylesheet_key(version) -> tuple[str, int]:
    """The renderer's cache key of a saved template version's stylesheet."""
    return ("permit-template-version", version.pk)


def render_revocation_pdf(*, revocation) -> bytes:
    from django.template.loader import render_to_string

    from occupancy.verification import permit_verification_url, qr_data_uri

    permit = revocation.permit
    verification_url = permit_verification_url(permit)
    # The notice speaks the permit's language (a bilingual permit's main one, English),
    # not the language of the official who revokes it.
    language = main_language(permit.language)
    with translation.override(language):
        html = render_to_string(
            "occupancy/pdf/revocation.html",
            {
                "permit": permit,
                "snapshot": template_context(permit.snapshot),
                "revocation": revocation,
                "revoked_by": person_name(revocation.revoked_by),
                "logo_data_uri": _logo_data_uri(permit.municipality),
                # The permit's own verification page, which now says Revoked.
                "verification_url": verification_url,
                "verification_qr": qr_data_uri(verification_url),
                # A bilingual permit's notice prints both texts, English first.
                "languages": ["en-ca", "fr-ca"] if permit.language == "bilingual" else [language],
            },
        )
        metadata = DocumentMetadata(
            title=gettext("Revocation of occupancy permit %(number)s") % {"number": permit.number},
            author=issuer_name(permit.municipality),
            subject=gettext(
                "Notice of revocation of occupancy permit %(number)s, effective %(date)s"
            )
            % {"number": permit.number, "date": f"{revocation.revoked_on:%Y-%m-%d}"},
            created=revocation.created_at,
            lang="fr-CA" if language == "fr-ca" else "en-CA",
        )
    return render_pdf(html, metadata=metadata)

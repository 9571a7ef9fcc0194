"""Rendering HTML to PDF with WeasyPrint, one contract for every document: HTML in, bytes out.

Every document is archival and accessible: PDF/A-3u (fonts embedded, sRGB output intent,
XMP metadata, text mapped to Unicode) and tagged (a structure tree of headings, paragraphs,
tables, figures for screen readers), with its title, language, author, subject and creator.
U, not A: PDF/A-3a also claims the tagging is complete and correct, which a municipality's
own template (an image without alt text) can make untrue, and nothing here validates it.
The tags are written all the same. Given the same HTML and metadata the bytes are the same:
the dates are the document's own (the time of issue, not of rendering) and the file
identifier is a digest of the content.

The renderer never fetches anything: no network, no file outside what the HTML carries
inline. Only `data:` URIs (the letterhead logo, embedded by the caller) are loaded, whatever
a template, its stylesheet or a description contains (see WeasyPrint's URL fetcher notes,
CVE-2024-28184).
"""

import dataclasses
import datetime
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable

import pydyf
from weasyprint import CSS, HTML
from weasyprint.css.counters import CounterStyle
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)


class PdfRenderError(Exception):
    """The document could not be rendered; str(exc) is safe to show to staff."""


class InlineOnlyFetcher(URLFetcher):
    """Refuses every URL except inline `data:` URIs, and remembers what it refused."""

    def __init__(self):
        super().__init__(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if not url.lower().startswith("data:"):
            self.refused.append(url[:200])
            logger.warning("PDF renderer refused to fetch %s", url[:200])
            raise ValueError("External resources are not allowed in documents.")
        return super().fetch(url, headers)


_local = threading.local()


def _font_config() -> FontConfiguration:
    # Building the font configuration scans the system fonts; do it once per thread.
    if not hasattr(_local, "font_config"):
        _local.font_config = FontConfiguration()
    return _local.font_config


# Parsing a permit's stylesheet is about a tenth of its render, and every permit of a
# template version carries the same one: it is parsed once per thread and handed to
# WeasyPrint parsed. It cascades as a user-origin sheet, below any <style> of the document.
_STYLESHEETS_PER_THREAD = 16
# WeasyPrint keeps these rules in dictionaries of one document, not in the parsed sheet:
# a stylesheet with them is parsed again for every document, into that document's ones.
_DOCUMENT_RULES = ("@counter-style", "@color-profile")


def _parsed_stylesheet(css: str, key: Hashable) -> CSS:
    """The parsed sheet cached under key; parsed again if the text under that key changed."""
    cache = getattr(_local, "stylesheets", None)
    if cache is None:
        cache = _local.stylesheets = OrderedDict()
    cached = cache.get(key)
    if cached is not None and cached[0] == css:
        cache.move_to_end(key)
        return cached[1]
    sheet = CSS(string=css, font_config=_font_config(), url_fetcher=InlineOnlyFetcher())
    cache[key] = (css, sheet)
    cache.move_to_end(key)
    if len(cache) > _STYLESHEETS_PER_THREAD:
        cache.popitem(last=False)
    return sheet


# The variant and tags of every document (see the module's docstring).
ARCHIVAL_OPTIONS = {"pdf_variant": "pdf/a-3u", "pdf_tags": True}
CREATOR = "Threshold"
DEFAULT_LANGUAGE = "en-CA"


@dataclasses.dataclass(frozen=True)
class DocumentMetadata:
    """What a PDF says about itself (its XMP metadata and document information).

    The document names itself: its <title> and <html lang> win, and `title` and `lang`
    are used only where a template (a municipality's own permit template) has none;
    without either, the language is DEFAULT_LANGUAGE. `created` is when the document came
    to be (a permit's time of issue), never the time of rendering: rendering again gives
    the same bytes.
    """

    title: str = ""
    author: str = ""  # the municipality's department
    subject: str = ""
    created: datetime.datetime | None = None
    lang: str = DEFAULT_LANGUAGE


def issuer_name(municipality) -> str:
    """Who a document's metadata names as its author: the municipality's department (of a
    Municipality, or of the municipality stored in a permit's snapshot)."""
    return ", ".join(part for part in (municipality.department_name, municipality.name) if part)


def _w3c_datetime(moment: datetime.datetime) -> str:
    # W3C's profile of ISO 8601, to the second, in UTC (WeasyPrint's date format).
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _apply_metadata(document, metadata: DocumentMetadata) -> None:
    found = document.metadata
    found.title = (found.title or "").strip() or metadata.title
    found.authors = [metadata.author] if metadata.author else []
    found.description = metadata.subject or None
    found.generator = CREATOR
    found.lang = (found.lang or "").strip() or metadata.lang or DEFAULT_LANGUAGE
    # A date only from the caller: WeasyPrint would otherwise take any <meta> of the HTML.
    found.created = found.modified = _w3c_datetime(metadata.created) if metadata.created else None
    found.keywords, found.custom = [], {}


def _show_title(document, pdf) -> None:
    # Viewers show the document's title, not its file name, in the window and to a screen
    # reader (what PDF/UA asks of a titled document).
    pdf.catalog["ViewerPreferences"] = pydyf.Dictionary({"DisplayDocTitle": "true"})


def render_pdf(
    html: str,
    *,
    stylesheet: str = "",
    stylesheet_key: Hashable = None,
    metadata: DocumentMetadata | None = None,
) -> bytes:
    """Render a complete HTML document to PDF bytes, styled by its own <style> elements and
    by `stylesheet` (print CSS kept apart from the HTML, e.g. a permit template version's).

    The stylesheet is parsed once per thread and cached under `stylesheet_key` (such as
    ("permit-template-version", pk)), or under the hash of its text without a key; a
    different text under the same key is parsed again, never served stale.

    The PDF is PDF/A-3u and tagged, described by `metadata` (see DocumentMetadata).
    """
    fetcher = InlineOnlyFetcher()
    try:
        options = {"font_config": _font_config()}
        if stylesheet.strip():
            lowered = stylesheet.lower()
            if any(rule in lowered for rule in _DOCUMENT_RULES):
                counter_style, color_profiles = CounterStyle(), {}
                sheet = CSS(
                    string=stylesheet,
                    font_config=options["font_config"],
                    counter_style=counter_style,
                    color_profiles=color_profiles,
                    url_fetcher=InlineOnlyFetcher(),
                )
                options.update(counter_style=counter_style, color_profiles=color_profiles)
            else:
                if stylesheet_key is None:
                    stylesheet_key = hashlib.sha256(stylesheet.encode()).hexdigest()
                sheet = _parsed_stylesheet(stylesheet, stylesheet_key)
            options["stylesheets"] = [sheet]
        document = HTML(string=html, base_url=None, url_fetcher=fetcher).render(
            **options, **ARCHIVAL_OPTIONS
        )
        _apply_metadata(document, metadata or DocumentMetadata())
        pdf = document.write_pdf(finisher=_show_title, **ARCHIVAL_OPTIONS)
    except Exception as exc:  # WeasyPrint raises many types; none may reach the user raw
        logger.exception("PDF rendering failed")
        raise PdfRenderError(f"The PDF could not be produced ({type(exc).__name__}).") from exc
    if not pdf or not pdf.startswith(b"%PDF"):
        raise PdfRenderError("The PDF could not be produced (empty output).")
    return pdf

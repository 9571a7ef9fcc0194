"""Rendering HTML to PDF with WeasyPrint, one contract for every document: HTML in, bytes out.

The renderer never fetches anything: no network, no file outside what the HTML carries
inline. Only `data:` URIs (the letterhead logo, embedded by the caller) are loaded, whatever
a template, its stylesheet or a description contains (see WeasyPrint's URL fetcher notes,
CVE-2024-28184).
"""

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable

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


def render_pdf(
    html: str, *, stylesheet: str = "", stylesheet_key: Hashable = None, title: str = ""
) -> bytes:
    """Render a complete HTML document to PDF bytes, styled by its own <style> elements and
    by `stylesheet` (print CSS kept apart from the HTML, e.g. a permit template version's).

    The stylesheet is parsed once per thread and cached under `stylesheet_key` (such as
    ("permit-template-version", pk)), or under the hash of its text without a key; a
    different text under the same key is parsed again, never served stale.
    """
    fetcher = InlineOnlyFetcher()
    try:
        options = {"font_config": _font_config(), "pdf_variant": None}
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
        document = HTML(string=html, base_url=None, url_fetcher=fetcher)
        pdf = document.write_pdf(**options)
    except Exception as exc:  # WeasyPrint raises many types; none may reach the user raw
        logger.exception("PDF rendering failed")
        raise PdfRenderError(f"The PDF could not be produced ({type(exc).__name__}).") from exc
    if not pdf or not pdf.startswith(b"%PDF"):
        raise PdfRenderError("The PDF could not be produced (empty output).")
    return pdf

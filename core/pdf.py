"""Rendering HTML to PDF with WeasyPrint, one contract for every document: HTML in, bytes out.

The renderer never fetches anything: no network, no file outside what the HTML carries
inline. Only `data:` URIs (the letterhead logo, embedded by the caller) are loaded, whatever
a template or a description contains (see WeasyPrint's URL fetcher notes, CVE-2024-28184).
"""

import logging
import re
import threading
from collections import OrderedDict

from weasyprint import CSS, HTML
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


# Parsing a document's stylesheet is about a tenth of a permit's render, and every permit of
# a template carries the same one. Plain <style> elements of the <head> are therefore parsed
# once per thread and handed to WeasyPrint already parsed (as user-origin sheets, which
# cascade the same way here: no other stylesheet and no style attribute is present, see
# _reusable_stylesheets). Anything unusual renders the plain way.
_HEAD = re.compile(r"<head(?:\s[^>]*)?>(.*?)</head\s*>", re.I | re.S)
_PLAIN_STYLE = re.compile(r'<style(?:\s+type="text/css")?\s*>(.*?)</style\s*>', re.I | re.S)
_ANY_STYLE = re.compile(r"<style[\s>/]", re.I)
_HEAD_SURPRISES = ("<!--", "<script", "<template", "<noscript", "<svg", "<math")
# Rules tied to one document (counters, layers, fonts, colour profiles) or to a fetch.
_NOT_REUSABLE_CSS = ("@import", "url(", "@counter-style", "@layer", "@font-face", "@color-profile")
_STYLESHEETS_PER_THREAD = 16


def _parsed_stylesheet(css: str) -> CSS:
    cache = getattr(_local, "stylesheets", None)
    if cache is None:
        cache = _local.stylesheets = OrderedDict()
    sheet = cache.get(css)
    if sheet is None:
        sheet = CSS(string=css, font_config=_font_config(), url_fetcher=InlineOnlyFetcher())
        cache[css] = sheet
        if len(cache) > _STYLESHEETS_PER_THREAD:
            cache.popitem(last=False)
    else:
        cache.move_to_end(css)
    return sheet


def _reusable_stylesheets(html: str) -> tuple[str, list[CSS]]:
    """The document without its <head> stylesheets, and those parsed (cached); or the
    document unchanged and no sheet when moving them could change the cascade."""
    head = _HEAD.search(html)
    if head is None or any(s in head.group(1).lower() for s in _HEAD_SURPRISES):
        return html, []
    styles = list(_PLAIN_STYLE.finditer(head.group(1)))
    if not styles or any(
        token in m.group(1).lower() for m in styles for token in _NOT_REUSABLE_CSS
    ):
        return html, []
    parts, position = [], 0
    for match in styles:
        parts.append(html[position : head.start(1) + match.start()])
        position = head.start(1) + match.end()
    parts.append(html[position:])
    rest = "".join(parts)
    lowered = rest.lower()
    if _ANY_STYLE.search(rest) or "<link" in lowered or "style=" in lowered:
        return html, []
    return rest, [_parsed_stylesheet(m.group(1)) for m in styles]


def render_pdf(html: str, *, title: str = "") -> bytes:
    """Render a complete HTML document to PDF bytes."""
    fetcher = InlineOnlyFetcher()
    try:
        html, stylesheets = _reusable_stylesheets(html)
        document = HTML(string=html, base_url=None, url_fetcher=fetcher)
        pdf = document.write_pdf(
            stylesheets=stylesheets, font_config=_font_config(), pdf_variant=None
        )
    except Exception as exc:  # WeasyPrint raises many types; none may reach the user raw
        logger.exception("PDF rendering failed")
        raise PdfRenderError(f"The PDF could not be produced ({type(exc).__name__}).") from exc
    if not pdf or not pdf.startswith(b"%PDF"):
        raise PdfRenderError("The PDF could not be produced (empty output).")
    return pdf

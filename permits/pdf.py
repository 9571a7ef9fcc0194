"""Rendering HTML to PDF with WeasyPrint, one contract for every document: HTML in, bytes out.

The renderer never fetches anything: no network, no file outside what the HTML carries
inline. Only `data:` URIs (the letterhead logo, embedded by the caller) are loaded, whatever
a template or a description contains (see WeasyPrint's URL fetcher notes, CVE-2024-28184).
"""

import logging
import threading

from weasyprint import HTML
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


def render_pdf(html: str, *, title: str = "") -> bytes:
    """Render a complete HTML document to PDF bytes."""
    fetcher = InlineOnlyFetcher()
    try:
        document = HTML(string=html, base_url=None, url_fetcher=fetcher)
        pdf = document.write_pdf(font_config=_font_config(), pdf_variant=None)
    except Exception as exc:  # WeasyPrint raises many types; none may reach the user raw
        logger.exception("PDF rendering failed")
        raise PdfRenderError(f"The PDF could not be produced ({type(exc).__name__}).") from exc
    if not pdf or not pdf.startswith(b"%PDF"):
        raise PdfRenderError("The PDF could not be produced (empty output).")
    return pdf

"""core.pdf's one failure: whatever goes wrong in WeasyPrint reaches the caller as
PdfRenderError with a message staff may read (the services turn it into "Nothing was closed"
or "Nothing was revoked", see tests/occupancy/test_services.py)."""

import logging

import pytest
from weasyprint.document import Document

from core.pdf import PdfRenderError, render_pdf

HTML = "<html><head><title>Notice</title></head><body><p>Occupancy permit</p></body></html>"


def test_a_document_renders_to_pdf_bytes():
    assert render_pdf(HTML).startswith(b"%PDF")


@pytest.mark.parametrize(
    "error", [RuntimeError("renderer crashed"), MemoryError(), ValueError("bad box")]
)
def test_a_renderer_crash_is_a_pdf_render_error_naming_only_its_type(monkeypatch, caplog, error):
    def crash(*args, **kwargs):
        raise error

    monkeypatch.setattr(Document, "write_pdf", crash)
    with caplog.at_level(logging.ERROR, logger="core.pdf"), pytest.raises(PdfRenderError) as caught:
        render_pdf(HTML)
    assert str(caught.value) == f"The PDF could not be produced ({type(error).__name__})."
    assert caught.value.__cause__ is error
    assert [r.getMessage() for r in caplog.records] == ["PDF rendering failed"]


@pytest.mark.parametrize("output", [b"", None, b"<html>not a pdf</html>"])
def test_output_that_is_not_a_pdf_is_a_pdf_render_error(monkeypatch, output):
    monkeypatch.setattr(Document, "write_pdf", lambda *args, **kwargs: output)
    with pytest.raises(PdfRenderError) as caught:
        render_pdf(HTML)
    assert str(caught.value) == "The PDF could not be produced (empty output)."

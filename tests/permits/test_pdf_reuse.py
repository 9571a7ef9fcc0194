"""The PDF renderer reuses what it parsed: the document's stylesheet is parsed once per
thread, and the PDF is the same as WeasyPrint renders without any reuse."""

import pytest
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from core.pdf import InlineOnlyFetcher, _reusable_stylesheets, render_pdf
from occupancy.defaults import default_template_body
from occupancy.documents import render_permit_html, sample_snapshot, template_context
from occupancy.models import OccupancyPermitType


def permit_html(municipality, filename: str) -> str:
    permit_type = OccupancyPermitType(municipality=municipality, name="General")
    snapshot = sample_snapshot(permit_type=permit_type, municipality=municipality)
    return render_permit_html(default_template_body(filename), template_context(snapshot))


@pytest.mark.parametrize("filename", ["general.html", "partial.html", "temporary.html"])
def test_permit_pdf_is_byte_for_byte_what_weasyprint_renders_without_reuse(
    municipality_a, filename
):
    html = permit_html(municipality_a, filename)
    plain = HTML(string=html, url_fetcher=InlineOnlyFetcher()).write_pdf(
        font_config=FontConfiguration(), pdf_variant=None
    )
    assert render_pdf(html) == plain
    assert render_pdf(html) == plain  # the second render uses the parsed stylesheet


def test_stylesheet_is_parsed_once_and_taken_out_of_the_document(municipality_a):
    html = permit_html(municipality_a, "general.html")
    document, sheets = _reusable_stylesheets(html)
    again, sheets_again = _reusable_stylesheets(html)
    assert len(sheets) == 1 and sheets_again[0] is sheets[0]
    assert document == again and "<style" not in document and "@page" not in document


@pytest.mark.parametrize(
    "head",
    [
        "<style>p { color: red }</style><!-- <style>p { color: blue }</style> -->",
        '<style>@import url("http://127.0.0.1:9/a.css"); p { color: red }</style>',
        "<style>p { background: url(data:image/png;base64,AAAA) }</style>",
        '<style>p { color: red }</style><link rel="stylesheet" href="data:text/css,p{}">',
        '<style media="screen">p { color: red }</style>',
    ],
)
def test_unusual_stylesheets_are_left_to_weasyprint(head):
    html = f"<html><head>{head}</head><body><p>Text</p></body></html>"
    assert _reusable_stylesheets(html) == (html, [])
    assert render_pdf(html).startswith(b"%PDF")


def test_style_attributes_keep_the_document_as_it_is():
    html = '<html><head><style>p { color: red }</style></head><body><p style="x">T</p></body>'
    assert _reusable_stylesheets(html) == (html, [])

"""The PDF renderer reuses what it parsed: a template version's stylesheet is parsed once per
thread, and the PDF is the same as WeasyPrint renders without any reuse (with the same
archival variant, tags and metadata)."""

import pytest
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

import core.pdf
from core.pdf import ARCHIVAL_OPTIONS, DocumentMetadata, InlineOnlyFetcher, render_pdf
from occupancy.defaults import default_template
from occupancy.documents import render_permit_html, template_context
from occupancy.models import OccupancyPermitType
from occupancy.snapshot import PermitSnapshot
from tests.occupancy.conftest import pdf_text

SHIPPED = ["general.html", "partial.html", "temporary.html"]


def permit_html(municipality, body: str) -> str:
    permit_type = OccupancyPermitType(municipality=municipality, name="General")
    snapshot = PermitSnapshot.sample(permit_type=permit_type, municipality=municipality).to_json()
    return render_permit_html(body, template_context(snapshot))


def without_reuse(html: str, *, stylesheet: str = "") -> bytes:
    """The PDF WeasyPrint renders from scratch: a new font configuration, the sheet parsed."""
    fonts = FontConfiguration()
    sheets = [CSS(string=stylesheet, font_config=fonts)] if stylesheet else []
    document = HTML(string=html, url_fetcher=InlineOnlyFetcher()).render(
        stylesheets=sheets, font_config=fonts, **ARCHIVAL_OPTIONS
    )
    core.pdf._apply_metadata(document, DocumentMetadata())
    return document.write_pdf(finisher=core.pdf._show_title, **ARCHIVAL_OPTIONS)


@pytest.fixture
def parses(monkeypatch):
    """The stylesheets WeasyPrint is asked to parse (the real parser does the work)."""
    seen = []

    def counting_css(*args, **kwargs):
        seen.append(kwargs.get("string"))
        return CSS(*args, **kwargs)

    monkeypatch.setattr(core.pdf, "CSS", counting_css)
    return seen


@pytest.mark.parametrize("filename", SHIPPED)
def test_permit_pdf_is_byte_for_byte_what_weasyprint_renders_without_reuse(
    municipality_a, filename
):
    template = default_template(filename)
    html = permit_html(municipality_a, template.body)
    plain = without_reuse(html, stylesheet=template.stylesheet)
    key = ("permit-template-version", filename)
    assert render_pdf(html, stylesheet=template.stylesheet, stylesheet_key=key) == plain
    # The second render uses the parsed stylesheet.
    assert render_pdf(html, stylesheet=template.stylesheet, stylesheet_key=key) == plain


@pytest.mark.parametrize("filename", SHIPPED)
def test_shipped_templates_print_as_they_did_with_the_css_inside_the_body(municipality_a, filename):
    template = default_template(filename)
    inline = template.body.replace("</head>", f"<style>{template.stylesheet}</style></head>")
    assert render_pdf(
        permit_html(municipality_a, template.body), stylesheet=template.stylesheet
    ) == render_pdf(permit_html(municipality_a, inline))


def test_a_versions_stylesheet_is_parsed_once_across_renders(municipality_a, parses):
    template = default_template("general.html")
    key = ("permit-template-version", "parsed-once")
    for number in ("OCC-1", "OCC-2", "OCC-3"):
        html = permit_html(municipality_a, template.body).replace("SAMPLE", number)
        render_pdf(html, stylesheet=template.stylesheet, stylesheet_key=key)
    assert parses == [template.stylesheet]


def test_a_changed_stylesheet_under_the_same_key_is_parsed_again(parses):
    html = "<html><body><h1>Permit</h1></body></html>"
    key = ("permit-template-version", "changed")
    before = render_pdf(html, stylesheet="h1 { text-transform: uppercase }", stylesheet_key=key)
    after = render_pdf(html, stylesheet="h1 { text-transform: lowercase }", stylesheet_key=key)
    assert (pdf_text(before), pdf_text(after)) == ("PERMIT", "permit")
    assert len(parses) == 2


def test_a_stylesheet_without_a_key_is_cached_by_its_text(parses):
    html = "<html><body><p>Text</p></body></html>"
    red, blue = "p.by-text { color: red }", "p.by-text { color: blue }"
    for css in (red, red, blue):
        render_pdf(html, stylesheet=css)
    assert parses == [red, blue]


def test_counter_styles_of_a_stylesheet_apply_to_the_document():
    # WeasyPrint keeps @counter-style rules per document: such a sheet is parsed per render.
    html = '<html><body><ol class="x"><li>one</li><li>two</li></ol></body></html>'
    css = "@counter-style ticks { system: cyclic; symbols: 'Z'; suffix: ' ' }"
    css += " ol { list-style: ticks }"
    for _ in range(2):
        assert "Z" in pdf_text(render_pdf(html, stylesheet=css, stylesheet_key="ticks"))


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
def test_documents_with_their_own_styles_render_as_weasyprint_renders_them(head):
    html = f"<html><head>{head}</head><body><p>Text</p></body></html>"
    assert render_pdf(html) == without_reuse(html)

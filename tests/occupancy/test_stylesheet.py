"""A permit template's print CSS is its stylesheet, stored with each version: issued permits
re-render byte for byte from their version and snapshot, old bodies with their own <style>
keep printing as before, the parse is reused per version, and the administrator can only
save CSS that fetches nothing."""

import hashlib
import http.server
import threading
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from weasyprint import CSS

import core.pdf
from inspections.models import Visit
from occupancy.documents import render_permit_pdf, version_stylesheet_key
from occupancy.models import OccupancyPermitTemplate, OccupancyPermitTemplateVersion
from occupancy.services import GrantDetails, permit_template_preview, visit_finish_and_close
from tests.conftest import client_for
from tests.factories import make_inspection
from tests.occupancy.conftest import pdf_text
from tests.occupancy.test_admin import PREVIEW, change_url, template_post

LOWERCASE_TITLE = "\n.doc-title { text-transform: lowercase; }"


def issue(application, inspection_type, inspector, template, description="Whole building"):
    """A permit issued by the real Finish and Close of a new occupancy inspection."""
    visit = Visit.objects.create(
        inspection=make_inspection(application, inspection_type), sequence=1, started_by=inspector
    )
    return visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=template, granted_on=timezone.localdate(), description=description
        ),
    ).permit


def rerender(permit, *, cached: bool = False) -> bytes:
    """The permit rendered again from what is stored: its version and its snapshot."""
    version = permit.template_version
    return render_permit_pdf(
        body=version.body,
        stylesheet=version.stylesheet,
        stylesheet_key=version_stylesheet_key(version) if cached else None,
        snapshot=permit.snapshot,
        municipality=permit.municipality,
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def parses(monkeypatch):
    """The stylesheets the renderer asks WeasyPrint to parse (the real parser does the work)."""
    seen = []

    def counting_css(*args, **kwargs):
        seen.append(kwargs.get("string"))
        return CSS(*args, **kwargs)

    monkeypatch.setattr(core.pdf, "CSS", counting_css)
    return seen


def test_issued_permit_re_renders_byte_for_byte_from_its_version_and_snapshot(
    inspector, application_a, occupancy_type_a, general_template
):
    permit = issue(application_a, occupancy_type_a, inspector, general_template)
    version = permit.template_version
    assert version.stylesheet == general_template.stylesheet != ""
    assert "<style" not in version.body
    stored = permit.pdf.read()
    assert sha256(stored) == permit.pdf_sha256
    assert sha256(rerender(permit)) == permit.pdf_sha256  # parsed afresh
    assert sha256(rerender(permit, cached=True)) == permit.pdf_sha256
    assert "OCCUPANCY PERMIT" in pdf_text(stored)  # permit.css's uppercase title


def test_issued_permit_still_re_renders_after_its_template_stylesheet_changed(
    admin_user, inspector, application_a, occupancy_type_a, general_template
):
    first = issue(application_a, occupancy_type_a, inspector, general_template)
    stylesheet = general_template.stylesheet + LOWERCASE_TITLE
    response = client_for(admin_user).post(
        change_url(general_template), template_post(general_template, stylesheet=stylesheet)
    )
    assert response.status_code == 302
    general_template.refresh_from_db()
    second = issue(application_a, occupancy_type_a, inspector, general_template)
    assert second.template_version.version == 2
    assert "occupancy permit" in pdf_text(second.pdf.read())
    first.refresh_from_db()
    assert first.template_version.version == 1
    assert sha256(rerender(first, cached=True)) == first.pdf_sha256
    assert sha256(rerender(second, cached=True)) == second.pdf_sha256


def test_old_style_body_with_its_own_style_still_prints_its_styles(
    inspector, application_a, occupancy_type_a, general_template
):
    # A template of the previous release: the CSS inside the body, the stylesheet empty
    # (what migration 0006 leaves in place).
    inline_body = general_template.body.replace(
        "</head>", f"<style>\n{general_template.stylesheet}\n</style>\n</head>"
    )
    old = OccupancyPermitTemplate.objects.create(
        municipality=general_template.municipality,
        permit_type=general_template.permit_type,
        name="Previous release",
        body=inline_body,
    )
    OccupancyPermitTemplateVersion.objects.create(template=old, version=1, body=inline_body)
    permit = issue(application_a, occupancy_type_a, inspector, old)
    assert permit.template_version.stylesheet == ""
    stored = permit.pdf.read()
    assert "OCCUPANCY PERMIT" in pdf_text(stored)
    assert sha256(rerender(permit)) == permit.pdf_sha256
    # The same permit printed by the split template is the same document, byte for byte.
    split = render_permit_pdf(
        body=general_template.body,
        stylesheet=general_template.stylesheet,
        snapshot=permit.snapshot,
        municipality=permit.municipality,
    )
    assert split == stored


def test_a_versions_stylesheet_is_parsed_once_for_all_its_permits(
    inspector, application_a, occupancy_type_a, general_template, parses
):
    # A stylesheet no other test renders, so that nothing is cached for it yet.
    general_template.stylesheet += f"\n/* {uuid.uuid4()} */\n"
    general_template.save(update_fields=["stylesheet"])
    general_template.versions.update(stylesheet=general_template.stylesheet)
    permits = [issue(application_a, occupancy_type_a, inspector, general_template) for _ in "ab"]
    assert [p.template_version_id for p in permits] == [permits[0].template_version_id] * 2
    assert parses.count(general_template.stylesheet) == 1
    assert permits[0].number != permits[1].number
    assert sha256(rerender(permits[1], cached=True)) == permits[1].pdf_sha256


def test_editing_the_stylesheet_saves_a_new_version(admin_user, general_template):
    stylesheet = general_template.stylesheet + LOWERCASE_TITLE
    response = client_for(admin_user).post(
        change_url(general_template), template_post(general_template, stylesheet=stylesheet)
    )
    assert response.status_code == 302
    general_template.refresh_from_db()
    versions = list(general_template.versions.order_by("version"))
    assert [(v.version, v.stylesheet == stylesheet) for v in versions] == [(1, False), (2, True)]
    assert (general_template.version, general_template.stylesheet) == (2, stylesheet)
    assert versions[1].body == versions[0].body.strip()  # the form strips the body


def test_template_page_edits_the_stylesheet_next_to_the_body(admin_user, general_template):
    html = client_for(admin_user).get(change_url(general_template)).content.decode()
    assert 'name="body"' in html and 'name="stylesheet"' in html
    assert "Print CSS for this template" in html
    assert html.index('name="body"') < html.index('name="stylesheet"')


@pytest.mark.parametrize(
    "css, message",
    [
        (
            "p { background: url(http://example.com/a.png) }",
            "Line 1: url(http://example.com/a.png) is not allowed; images and fonts must be "
            "data: URIs.",
        ),
        (
            'h1 {}\n.logo { background-image: url("https://example.com/logo.png") }',
            "Line 2: url(https://example.com/logo.png) is not allowed",
        ),
        ("p { background: U\\72L(//example.com/x.png) }", "url(//example.com/x.png)"),
        ("@font-face { src: url(file:///etc/passwd) }", "url(file:///etc/passwd)"),
        (
            '@import "https://example.com/print.css";',
            "Line 1: @import is not allowed; put the rules in this stylesheet.",
        ),
        ("@media print { @import url(data:text/css,p{}); }", "@import is not allowed"),
        ("p { color: red }\n" * 13000, "KB; at most 200 KB is allowed."),
    ],
)
def test_admin_refuses_a_stylesheet_that_would_fetch_at_the_field(
    admin_user, general_template, css, message
):
    response = client_for(admin_user).post(
        change_url(general_template), template_post(general_template, stylesheet=css)
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["stylesheet"]
    assert any(message in error for error in errors), errors
    general_template.refresh_from_db()
    assert general_template.version == 1


def test_admin_accepts_images_and_fonts_as_data_uris(admin_user, general_template):
    css = (
        general_template.stylesheet
        + '\n.logo { background: url("data:image/png;base64,iVBORw0KGgo=") }'
        + "\n@font-face { font-family: X; src: url(data:font/woff2;base64,AAAA) }"
    )
    response = client_for(admin_user).post(
        change_url(general_template), template_post(general_template, stylesheet=css)
    )
    assert response.status_code == 302
    assert general_template.versions.get(version=2).stylesheet == css


def test_preview_renders_the_stylesheet_as_typed(admin_user, general_template):
    stylesheet = general_template.stylesheet + LOWERCASE_TITLE
    response = client_for(admin_user).post(
        PREVIEW, template_post(general_template, stylesheet=stylesheet)
    )
    assert response["Content-Type"] == "application/pdf"
    assert "occupancy permit" in pdf_text(response.content)
    assert OccupancyPermitTemplateVersion.objects.count() == 1


def test_preview_of_a_stylesheet_with_an_external_url_says_why(admin_user, general_template):
    response = client_for(admin_user).post(
        PREVIEW,
        template_post(general_template, stylesheet="p { background: url(http://x.test/a) }"),
    )
    assert response.status_code == 400
    assert "Stylesheet: Line 1: url(http://x.test/a) is not allowed" in response.content.decode()


def test_version_page_shows_the_frozen_stylesheet(admin_user, general_template):
    version = general_template.versions.get()
    url = reverse("admin:occupancy_occupancypermittemplateversion_change", args=[version.pk])
    html = client_for(admin_user).get(url).content.decode()
    assert "string-set: doc-title content();" in html


@pytest.fixture
def probe():
    """A loopback HTTP server that counts every request it receives."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"h1 { color: red }")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_a_stored_stylesheet_never_makes_the_renderer_fetch(
    probe, inspector, application_a, occupancy_type_a, general_template, general_type
):
    base, hits = probe
    # Saved behind the admin's back (the ORM skips the form's checks).
    general_template.stylesheet = (
        f'@import url("{base}/import.css");\n'
        f"@font-face {{ font-family: Remote; src: url({base}/font.woff2) }}\n"
        f"h1 {{ font-family: Remote; background: url({base}/bg.png) }}\n"
        f".logo {{ content: url({base}/logo.png) }}\n" + general_template.stylesheet
    )
    general_template.save(update_fields=["stylesheet"])
    general_template.versions.update(stylesheet=general_template.stylesheet)
    permit = issue(application_a, occupancy_type_a, inspector, general_template)
    assert permit.number in pdf_text(permit.pdf.read())
    permit_template_preview(
        body=general_template.body,
        stylesheet=general_template.stylesheet,
        permit_type=general_type,
        municipality=application_a.municipality,
    )
    assert hits == []

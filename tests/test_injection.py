"""Hostile text is escaped on every page and printed literally in every PDF, and nothing a
template, a description or a logo contains makes the renderer fetch anything."""

import http.server
import threading

import pytest
from django.urls import reverse
from django.utils import timezone

from inspections.models import Visit
from occupancy.models import OccupancyPermitTemplate, OccupancyPermitTemplateVersion
from occupancy.services import GrantDetails, permit_template_preview, visit_finish_and_close
from tests.conftest import client_for, make_application
from tests.factories import make_finding, make_inspection, make_order
from tests.occupancy.conftest import pdf_text

SCRIPT = '<script>alert("x")</script>'
MARKUP = '<b onmouseover="steal()">bold</b> & "quotes" \'single\''


@pytest.fixture
def probe():
    """A loopback HTTP server that counts every request it receives."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", "file:///etc/passwd")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def hostile_html(base: str) -> str:
    return (
        f'<img src="{base}/img.png"><link rel="stylesheet" href="{base}/a.css">'
        f'<style>@import url("{base}/b.css"); body {{ background: url({base}/c.png) }}</style>'
        f'<img src="file:///etc/passwd"><img src="{base}/redirect">'
        f'<iframe src="{base}/frame"></iframe><object data="{base}/obj"></object>'
    )


def test_text_fields_are_escaped_on_pages_and_literal_in_pdfs(
    inspector, municipality_a, occupancy_type_a, general_template
):
    application = make_application(
        municipality_a,
        number="B-2026-0666",
        street_address=SCRIPT,
        applicant_name=MARKUP,
        owner_name=SCRIPT,
    )
    client = client_for(inspector)
    inspection = make_inspection(application, occupancy_type_a)
    client.post(reverse("inspections:visit_start", args=[inspection.code]))
    visit = Visit.objects.get()
    make_finding(visit, inspector, description=SCRIPT + " deficiency")
    make_order(visit, inspector, issued_to=MARKUP, description=SCRIPT)
    for path in [
        reverse("permits:application_list") + "?q=B-2026-0666",
        application.get_absolute_url(),
        inspection.get_absolute_url(),
    ]:
        html = client.get(path).content.decode()
        assert SCRIPT not in html and "<b onmouseover" not in html, path
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html, path
    permit = visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result="granted_outstanding",
        grant=GrantDetails(
            template=general_template, granted_on=timezone.localdate(), description=MARKUP
        ),
    ).permit
    text = pdf_text(permit.pdf.read())
    assert SCRIPT in text  # printed literally, as typed
    assert '<b onmouseover="steal()">bold</b>' in text
    report = pdf_text(Visit.objects.get().report_pdf.read())
    assert SCRIPT + " deficiency" in report


def test_nothing_is_fetched_whatever_a_template_or_description_contains(
    probe, inspector, municipality_a, application_a, occupancy_type_a, general_type
):
    base, hits = probe
    body = (
        "<html><head>" + hostile_html(base) + "</head><body>"
        "<h1>{{ permit.number }}</h1><p>{{ permit.description }}</p></body></html>"
    )
    template = OccupancyPermitTemplate.objects.create(
        municipality=municipality_a, permit_type=general_type, name="Hostile", body=body
    )
    OccupancyPermitTemplateVersion.objects.create(template=template, version=1, body=body)
    visit = Visit.objects.create(
        inspection=make_inspection(application_a, occupancy_type_a),
        sequence=1,
        started_by=inspector,
    )
    make_finding(visit, inspector, description=hostile_html(base), is_remark=True)
    permit = visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=template, granted_on=timezone.localdate(), description=hostile_html(base)
        ),
    ).permit
    assert permit.number in pdf_text(permit.pdf.read())
    permit_template_preview(body=body, permit_type=general_type, municipality=municipality_a)
    assert hits == []

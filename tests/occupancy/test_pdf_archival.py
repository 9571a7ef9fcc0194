"""Archival and accessible PDFs (issue 15, deliverable 2): the issued permit, the inspection
report and the notice of revocation are PDF/A-3 (conformance U) and tagged, and say what
they are: their title, language, author (the municipality's department), subject, creator
and the time they were issued, never the time they were rendered, so that rendering one
again from what is stored gives the same bytes.

Read here with pypdf, as an archivist's tool would read them. What these tests check is
what the files declare and carry (the XMP identification, the structure tree, the embedded
fonts, the output intent); they are not a PDF/A validation (veraPDF needs Java, which this
project does not install)."""

import datetime
import io
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from inspections.models import Visit
from occupancy.documents import render_permit_pdf, render_revocation_pdf
from occupancy.services import GrantDetails, occupancy_permit_revoke, visit_finish_and_close
from tests.occupancy.conftest import pdf_text

TODAY = timezone.localdate()
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"


def resolve(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def xmp_identification(reader: PdfReader) -> dict[str, str]:
    """pdfaid:part and pdfaid:conformance, as the XMP packet of the catalog declares them."""
    xmp = reader.xmp_metadata
    assert xmp is not None, "no XMP metadata"
    found = {}
    for description in xmp.rdf_root.getElementsByTagNameNS(RDF[1:-1], "Description"):
        for name in ("part", "conformance"):
            value = description.getAttributeNS(PDFAID[1:-1], name)
            if value:
                found[name] = value
    return found


def structure_types(reader: PdfReader) -> list[str]:
    """The structure element types of the tag tree, in reading order (e.g. H1, P, Table)."""
    root = resolve(reader.trailer["/Root"]["/StructTreeRoot"])
    types = []

    def walk(node, depth=0):
        node = resolve(node)
        assert depth < 100
        if isinstance(node, list):
            for child in node:
                walk(child, depth + 1)
        elif hasattr(node, "get") and "/S" in node:
            types.append(str(node["/S"])[1:])
            if "/K" in node:
                walk(node["/K"], depth + 1)

    walk(root["/K"])
    return types


def fonts(reader: PdfReader) -> dict[str, bool]:
    """Each font the pages use, by name: whether its program is embedded in the file."""
    found = {}
    for page in reader.pages:
        for font in resolve(page["/Resources"]).get("/Font", {}).values():
            font = resolve(font)
            described = font
            if font["/Subtype"] == "/Type0":
                described = resolve(font["/DescendantFonts"][0])
            descriptor = resolve(described["/FontDescriptor"])
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(font["/BaseFont"])] = embedded
    return found


def archival_facts(pdf: bytes) -> dict:
    """What an archivist checks first of a PDF that should be PDF/A and tagged."""
    reader = PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]
    xmp = reader.xmp_metadata
    intents = [resolve(intent) for intent in resolve(catalog.get("/OutputIntents", []))]
    return {
        "pdfaid": xmp_identification(reader),
        "xmp_title": xmp.dc_title.get("x-default"),
        "xmp_creator": xmp.dc_creator,
        "xmp_creator_tool": xmp.xmp_creator_tool,
        "xmp_created": xmp.xmp_create_date,
        "info": {key: str(value) for key, value in reader.metadata.items()},
        "lang": str(catalog.get("/Lang")),
        "marked": bool(resolve(catalog["/MarkInfo"])["/Marked"]),
        "displays_title": bool(resolve(catalog["/ViewerPreferences"])["/DisplayDocTitle"]),
        "output_intents": [str(intent["/S"]) for intent in intents],
        "structure": structure_types(reader),
        "fonts": fonts(reader),
    }


def html_title(body: str, number: str) -> str:
    """The <title> of a shipped permit template body, as rendered for permit `number`."""
    title = re.search(r"<title>(.*?)</title>", body).group(1)
    return title.replace("{{ permit.number }}", number)


def as_utc_second(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC).replace(microsecond=0, tzinfo=None)


def assert_archival(facts: dict, *, title: str, author: str, created: datetime.datetime):
    assert facts["pdfaid"] == {"part": "3", "conformance": "U"}
    assert facts["output_intents"] == ["/GTS_PDFA1"]
    assert facts["xmp_title"] == facts["info"]["/Title"] == title
    assert facts["xmp_creator"] == [author]
    assert facts["info"]["/Author"] == author
    assert facts["xmp_creator_tool"] == facts["info"]["/Creator"] == "Threshold"
    # The time the document was issued, to the second, not the time it was rendered.
    assert facts["xmp_created"].replace(tzinfo=None) == as_utc_second(created)
    assert facts["lang"] == "en-CA"
    assert facts["marked"] is True
    assert facts["displays_title"] is True
    assert facts["fonts"] and all(facts["fonts"].values()), facts["fonts"]


@pytest.fixture
def closed(inspector, open_visit, general_template):
    """A General permit issued through Finish and Close, with the visit's report."""
    return visit_finish_and_close(
        visit=open_visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=general_template,
            granted_on=TODAY - datetime.timedelta(days=3),
            description="Single dwelling.",
        ),
    )


def read(field_file) -> bytes:
    with field_file.open("rb") as handle:
        return handle.read()


def test_an_issued_permit_is_pdf_a_3u_tagged_and_describes_itself(closed):
    permit = closed.permit
    facts = archival_facts(read(permit.pdf))
    assert_archival(
        facts,
        title=html_title(permit.template_version.body, permit.number),
        author="Building Department, Town of Alpha",
        created=permit.issued_at,
    )
    assert facts["info"]["/Subject"] == (
        f"Occupancy permit {permit.number} (General) for "
        f"{permit.application.full_address}, building permit {permit.application.number}"
    )
    # Its headings, paragraphs and tables are tagged, in the order they are read.
    structure = facts["structure"]
    assert structure.index("H1") < structure.index("Table")
    assert {"P", "TR", "TD"} <= set(structure)


def test_an_issued_permit_renders_again_to_the_same_bytes_later(closed):
    permit = closed.permit
    version = permit.template_version
    # Rendered again on another day: the dates and the file identifier are the issued ones.
    again = render_permit_pdf(
        body=version.body,
        stylesheet=version.stylesheet,
        snapshot=permit.snapshot,
        municipality=permit.municipality,
    )
    assert again == read(permit.pdf)


def test_an_inspection_report_is_pdf_a_3u_tagged_and_describes_itself(closed):
    visit = Visit.objects.get(pk=closed.visit.pk)  # the report is stored by its job after
    application = visit.inspection.application
    facts = archival_facts(read(visit.report_pdf))
    assert_archival(
        facts,
        title=f"Inspection report {application.number} visit {visit.sequence}",
        author="Building Department, Town of Alpha",
        created=visit.closed_at,
    )
    assert facts["info"]["/Subject"] == (
        f"{visit.inspection.inspection_type.name} inspection {visit.inspection.code}, "
        f"visit {visit.sequence}, at {application.full_address}"
    )
    assert {"H1", "H2", "P", "Table", "TD"} <= set(facts["structure"])


def test_a_notice_of_revocation_is_pdf_a_3u_tagged_and_renders_again_identically(closed, chief):
    permit = closed.permit
    revocation = occupancy_permit_revoke(
        permit=permit, actor=chief, reason="Occupied before the final inspection.", revoked_on=TODAY
    )
    notice = read(revocation.notice_pdf)
    facts = archival_facts(notice)
    assert_archival(
        facts,
        title=f"Revocation of occupancy permit {permit.number}",
        author="Building Department, Town of Alpha",
        created=revocation.created_at,
    )
    assert facts["info"]["/Subject"] == (
        f"Notice of revocation of occupancy permit {permit.number}, effective {TODAY:%Y-%m-%d}"
    )
    assert {"H1", "P", "Table"} <= set(facts["structure"])
    revocation.refresh_from_db()
    assert render_revocation_pdf(revocation=revocation) == notice


def test_a_municipal_template_without_title_or_language_still_gets_both(closed):
    permit = closed.permit
    body = "<html><body><h1>Permit</h1><p>{{ permit.number }}</p></body></html>"
    pdf = render_permit_pdf(body=body, snapshot=permit.snapshot, municipality=permit.municipality)
    facts = archival_facts(pdf)
    assert facts["pdfaid"] == {"part": "3", "conformance": "U"}
    assert facts["info"]["/Title"] == f"Occupancy Permit {permit.number}"
    assert facts["lang"] == "en-CA"
    structure = facts["structure"]
    assert structure[0] == "Document"
    assert structure.index("H1") < structure.index("P")
    assert permit.number in pdf_text(pdf)
    # A template's own title and language are the document's.
    own = body.replace("<html>", '<html lang="fr-CA"><head><title>Permis</title></head>')
    facts = archival_facts(
        render_permit_pdf(body=own, snapshot=permit.snapshot, municipality=permit.municipality)
    )
    assert (facts["info"]["/Title"], facts["lang"]) == ("Permis", "fr-CA")

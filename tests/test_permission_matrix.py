"""Every URL × every persona × GET and POST, with the outcome each must get.

Anonymous users are sent to the login page; an inspector of another municipality gets a 404
(the record's existence is not revealed); a role without the permission gets a 403; a GET
on a state-changing URL is a 405. A URL without an entry here fails the test.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from inspections.models import Visit
from tests.conftest import client_for
from tests.factories import jpeg_upload, make_finding, make_inspection, make_order

PERSONAS = ["anonymous", "viewer", "clerk", "inspector", "inspector_b", "admin"]
READ = {"viewer", "clerk", "inspector", "admin"}
RECORD = {"inspector", "admin"}
ADD_INSPECTION = {"clerk", "inspector", "admin"}

# name: (GET allowed to, POST allowed to); None means the method is not accepted (405).
MATRIX = {
    "permits:application_list": (READ | {"inspector_b"}, None),
    "permits:application_detail": (READ, None),
    "inspections:inspection_add": (None, ADD_INSPECTION),
    "inspections:inspection_detail": (READ, None),
    "inspections:visit_start": (None, {"inspector", "admin"}),
    "inspections:finding_add": (None, RECORD),
    "inspections:order_add": (None, RECORD),
    "inspections:photos_add": (None, RECORD),
    "inspections:visit_report": (READ, None),
    "inspections:finding_edit": (RECORD, RECORD),
    "inspections:finding_delete": (None, RECORD),
    "inspections:finding_corrected": (None, RECORD),
    "inspections:order_edit": (RECORD, RECORD),
    "inspections:order_delete": (None, RECORD),
    "inspections:order_complied": (None, RECORD),
    "inspections:photo_delete": (None, RECORD),
    "inspections:photo_image": (READ, None),
    "inspections:photo_thumbnail": (READ, None),
    "occupancy:permit_pdf": (READ, None),
    "occupancy:visit_result": (None, RECORD),
    "occupancy:visit_confirm": (RECORD, None),
    "occupancy:visit_close": (None, RECORD),
}


def app_url_names() -> set[str]:
    names = set()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace in {
            "permits",
            "inspections",
            "occupancy",
        }:
            for pattern in entry.url_patterns:
                if isinstance(pattern, URLPattern):
                    names.add(f"{entry.namespace}:{pattern.name}")
    return names


def test_every_url_has_an_entry_in_the_matrix():
    assert app_url_names() == set(MATRIX)


@pytest.fixture
def world(inspector, application_a, occupancy_type_a, framing_type_a):
    """One of everything in municipality A, with a visit open and one closed."""
    from tests.factories import make_closed_visit
    from tests.permits.test_constraints import issue_raw_permit

    occupancy = make_inspection(application_a, occupancy_type_a)
    closed = make_closed_visit(occupancy, inspector, sequence=1, result="not_granted")
    closed.report_pdf.save("report.pdf", __import__("django").core.files.base.ContentFile(b"%PDF"))
    visit = Visit.objects.create(inspection=occupancy, sequence=2, started_by=inspector)
    earlier = make_finding(closed, inspector, description="Carried")
    finding = make_finding(visit, inspector)
    order = make_order(visit, inspector)
    earlier_order = make_order(closed, inspector)
    client_for(inspector).post(
        f"/inspections/{occupancy.code}/photos/add",
        {"photos": [jpeg_upload()], "description": "Wall"},
    )
    photo = visit.photos.get()
    other = make_inspection(application_a, framing_type_a)
    permit = issue_raw_permit(other, inspector, "OCC-2026-0001")
    return {
        "permits:application_list": (),
        "permits:application_detail": ("alpha", application_a.number),
        "inspections:inspection_add": ("alpha", application_a.number),
        "inspections:inspection_detail": (occupancy.code,),
        "inspections:visit_start": (other.code,),
        "inspections:finding_add": (occupancy.code,),
        "inspections:order_add": (occupancy.code,),
        "inspections:photos_add": (occupancy.code,),
        "inspections:visit_report": (occupancy.code, 1),
        "inspections:finding_edit": (finding.code,),
        "inspections:finding_delete": (finding.code,),
        "inspections:finding_corrected": (earlier.code,),
        "inspections:order_edit": (order.code,),
        "inspections:order_delete": (order.code,),
        "inspections:order_complied": (earlier_order.code,),
        "inspections:photo_delete": (photo.code,),
        "inspections:photo_image": (photo.code,),
        "inspections:photo_thumbnail": (photo.code,),
        "occupancy:permit_pdf": ("alpha", permit.number),
        "occupancy:visit_result": (occupancy.code,),
        "occupancy:visit_confirm": (occupancy.code,),
        "occupancy:visit_close": (occupancy.code,),
    }


def expected_status(name: str, method: str, persona: str) -> set[int]:
    get_allowed, post_allowed = MATRIX[name]
    allowed = get_allowed if method == "get" else post_allowed
    if persona == "anonymous":
        return {302}
    if allowed is None:
        return {405}
    if name == "permits:application_list":
        return {200}
    if persona == "inspector_b":
        return {404}
    if persona in allowed:
        return {200, 302, 400}
    return {403}


@pytest.mark.parametrize("persona", PERSONAS)
def test_matrix(persona, personas, world):
    from django.urls import reverse

    client = personas[persona]
    # Every GET before any POST: the POSTs delete some of the records the GETs read.
    for method in ("get", "post"):
        for name in MATRIX:
            path = reverse(name, args=world[name])
            response = getattr(client, method)(path)
            expected = expected_status(name, method, persona)
            assert response.status_code in expected, (name, method, persona, response.status_code)
            if persona == "anonymous":
                assert response["Location"].startswith("/accounts/login/")

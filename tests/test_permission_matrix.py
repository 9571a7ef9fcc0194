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
    "inspections:inspection_cancel": (None, {"inspector", "admin"}),
    "inspections:visit_start": (None, {"inspector", "admin"}),
    "inspections:visit_start_follow_up": (None, {"inspector", "admin"}),
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
    "occupancy:permit_revoke": ({"admin"}, {"admin"}),
    "occupancy:revocation_notice_pdf": (READ, None),
    "occupancy:visit_result": (None, RECORD),
    "occupancy:visit_confirm": (RECORD, None),
    "occupancy:visit_close": (None, RECORD),
}


# Django's own account pages: open to everyone (they are how one logs in), or behind login.
ACCOUNT_URLS = {
    "login": "public",
    "logout": "public",
    "password_reset": "public",
    "password_reset_done": "public",
    "password_reset_confirm": "public",
    "password_reset_complete": "public",
    "password_change": "login",
    "password_change_done": "login",
}


def all_url_names(patterns=None, namespace="") -> set[str]:
    names = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= all_url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def test_every_url_has_an_entry_in_the_matrix():
    """App URLs are listed one by one above; the admin's are checked by
    test_admin_urls_are_for_staff_only; the account pages are ACCOUNT_URLS."""
    names = all_url_names()
    app = {n for n in names if n.split(":")[0] in {"permits", "inspections", "occupancy"}}
    assert app == set(MATRIX)
    other = names - app - {n for n in names if n.startswith("admin:")}
    assert other == set(ACCOUNT_URLS)


def admin_list_urls():
    from django.contrib import admin
    from django.urls import reverse

    for model in admin.site._registry:
        opts = model._meta
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_urls_are_for_staff_only(persona, personas):
    client = personas[persona]
    urls = ["/admin/", *admin_list_urls()]
    for url in urls:
        response = client.get(url)
        if persona == "admin":
            assert response.status_code == 200, url
        else:
            assert response.status_code == 302, (url, persona)
            # Either login page: the site's (login middleware) or the admin's own.
            location = response["Location"]
            assert location.startswith(("/accounts/login/", "/admin/login/")), (url, persona)
    preview = client.post("/admin/occupancy/occupancypermittemplate/preview/", {"body": "x"})
    assert preview.status_code == (400 if persona == "admin" else 302)


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
    revoked = revoke_raw_permit(
        issue_raw_permit(make_inspection(application_a, framing_type_a), inspector, "OCC-2026-0002")
    )
    # Closed, with an order still open: a follow-up visit can be started on it.
    followed = make_inspection(application_a, framing_type_a, status="closed")
    make_order(make_closed_visit(followed, inspector, sequence=1, result="passed"), inspector)
    never_visited = make_inspection(application_a, framing_type_a)
    return {
        "permits:application_list": (),
        "permits:application_detail": ("alpha", application_a.number),
        "inspections:inspection_add": ("alpha", application_a.number),
        "inspections:inspection_detail": (occupancy.code,),
        "inspections:inspection_cancel": (never_visited.code,),
        "inspections:visit_start": (other.code,),
        "inspections:visit_start_follow_up": (followed.code,),
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
        "occupancy:permit_revoke": ("alpha", permit.number),
        "occupancy:revocation_notice_pdf": ("alpha", revoked.number),
        "occupancy:visit_result": (occupancy.code,),
        "occupancy:visit_confirm": (occupancy.code,),
        "occupancy:visit_close": (occupancy.code,),
    }


def revoke_raw_permit(permit):
    """A revocation row with its notice written directly (the service renders a real PDF)."""
    import hashlib

    from django.core.files.base import ContentFile

    from occupancy.models import OccupancyPermit, OccupancyPermitRevocation, PermitStatus

    notice = b"%PDF-1.7 notice"
    revocation = OccupancyPermitRevocation(
        permit=permit,
        reason="Issued in error",
        revoked_on=permit.granted_on,
        revoked_by=permit.issued_by,
        notice_sha256=hashlib.sha256(notice).hexdigest(),
    )
    revocation.notice_pdf.save(f"{permit.number}-revocation.pdf", ContentFile(notice), save=False)
    revocation.save()
    OccupancyPermit.objects.filter(pk=permit.pk).update(status=PermitStatus.REVOKED)
    return permit


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

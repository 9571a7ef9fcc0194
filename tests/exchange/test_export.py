"""BLDS open-data export: the demo data's permits and inspections datasets, the mapped values,
what is never published, the command and the admin download."""

import csv
import datetime
import hashlib
import io
import json
import re
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.models import Municipality, Role
from demo import builders
from exchange.exporting import (
    INSPECTION_FIELDS,
    PERMIT_FIELDS,
    REQUIRED_INSPECTION_FIELDS,
    REQUIRED_PERMIT_FIELDS,
    blds_files,
)
from exchange.importing.mapping import load_mapping
from exchange.importing.services import applications_import
from inspections.models import (
    BldsInspectionType,
    Finding,
    InspectionType,
    Order,
    Visit,
    VisitStatus,
)
from occupancy.models import (
    OccupancyPermit,
    OccupancyPermitTemplateVersion,
    OccupancyPermitType,
    PermitKind,
    PermitStatus,
)
from permits.models import Application
from tests.conftest import client_for, make_user
from tests.factories import make_closed_visit, make_inspection

INTERNAL_NOTE = "INTERNAL-NOTE-7731: owner was rude, check the basement again"
STATUS_MAPPED = {
    "Application Accepted",
    "Fees/Payment",
    "In Review",
    "Permit Issued",
    "Inspection Phase",
    "Permit Finaled",
    "Permit Finaled with Conditions",
    "Occupancy",
    "Appeal",
    "Permit Cancelled",
}
RESULT_MAPPED = {"Passed", "Rejected", "Partial", "Cancelled", "OK for Service"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture
def demo(db):
    call_command("seed_demo", password="x", stdout=io.StringIO())
    town = Municipality.objects.get(slug="town-of-example")
    visit = Visit.objects.filter(
        inspection__application__municipality=town, status=VisitStatus.CLOSED
    ).first()
    with builders.written_as_history(visit):  # a past visit's notes: history
        Visit.objects.filter(pk=visit.pk).update(internal_notes=INTERNAL_NOTE)
    return town


def read_csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def issue_permit(application, user, *, number, granted_on, kind=PermitKind.GENERAL, **fields):
    """An occupancy permit row as the close service leaves it (without rendering a PDF)."""
    municipality = application.municipality
    permit_type = OccupancyPermitType.objects.filter(municipality=municipality, kind=kind).first()
    if permit_type is None:
        permit_type = OccupancyPermitType.objects.create(
            municipality=municipality, name=kind.label, kind=kind
        )
    version = OccupancyPermitTemplateVersion.objects.filter(
        template__permit_type=permit_type
    ).first()
    if version is None:
        from tests.occupancy.conftest import make_template

        template = make_template(municipality, permit_type, f"{kind} template", "general.html")
        version = template.versions.get()
    occupancy_type = InspectionType.objects.get(municipality=municipality, kind="occupancy")
    visit = make_closed_visit(
        make_inspection(application, occupancy_type), user, result="granted_full"
    )
    pdf = b"%PDF-1.7 test"
    permit = OccupancyPermit(
        municipality=municipality,
        application=application,
        visit=visit,
        permit_type=permit_type,
        template_version=version,
        number=number,
        result="granted_full",
        granted_on=granted_on,
        description="Dwelling",
        snapshot={"number": number},
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        issued_by=user,
        **fields,
    )
    permit.pdf.save(f"{number}.pdf", ContentFile(pdf), save=False)
    permit.save()
    return permit


def test_demo_export_has_every_required_blds_field(demo):
    files = blds_files(municipality=demo)
    assert sorted(files) == [
        "blds-inspections.csv",
        "blds-inspections.json",
        "blds-permits.csv",
        "blds-permits.json",
    ]

    permits = read_csv(files["blds-permits.csv"])
    assert list(permits[0]) == PERMIT_FIELDS
    assert set(REQUIRED_PERMIT_FIELDS) <= set(PERMIT_FIELDS)
    assert {p["PermitNum"] for p in permits} == set(
        Application.objects.filter(municipality=demo).values_list("number", flat=True)
    )
    for permit in permits:
        for name in ["PermitNum", "Description", "OriginalAddress1", "OriginalCity"]:
            assert permit[name], (permit["PermitNum"], name)
        assert permit["OriginalState"] == "ON"
        assert permit["OriginalZip"]
        assert permit["AppliedDate"] or permit["IssuedDate"]
        assert permit["CompletedDate"] or permit["StatusCurrent"]
        assert permit["StatusCurrentMapped"] in STATUS_MAPPED

    inspections = read_csv(files["blds-inspections.csv"])
    assert list(inspections[0]) == INSPECTION_FIELDS
    assert set(REQUIRED_INSPECTION_FIELDS) <= set(INSPECTION_FIELDS)
    closed = Visit.objects.filter(
        inspection__application__municipality=demo, status=VisitStatus.CLOSED
    )
    assert len(inspections) == closed.count() > 0
    for row in inspections:
        for name in ["PermitNum", "InspType", "Result", "InspectedDate"]:
            assert row[name], name
        assert row["InspTypeMapped"] in BldsInspectionType.values
        assert row["ResultMapped"] in RESULT_MAPPED
        assert row["Final"] in ("Yes", "No") and row["ReInspection"] in ("Yes", "No")

    # The JSON files hold the same rows.
    assert json.loads(files["blds-permits.json"]) == permits
    assert json.loads(files["blds-inspections.json"]) == inspections


def test_demo_export_dates_are_yyyy_mm_dd(demo):
    files = blds_files(municipality=demo)
    dates = [
        value
        for name in ("blds-permits.csv", "blds-inspections.csv")
        for row in read_csv(files[name])
        for field, value in row.items()
        if field.endswith("Date") and value
    ]
    assert len(dates) > 100
    assert [d for d in dates if not ISO_DATE.match(d)] == []


def test_export_never_contains_internal_notes_or_contact_details(demo):
    assert Visit.objects.filter(internal_notes=INTERNAL_NOTE).exists()
    everything = b"".join(blds_files(municipality=demo).values()).decode()

    assert INTERNAL_NOTE not in everything
    assert "INTERNAL-NOTE" not in everything
    applications = Application.objects.filter(municipality=demo)
    personal = [
        value
        for row in applications.values_list(
            "applicant_name", "applicant_email", "applicant_phone", "owner_name", "owner_email"
        )
        for value in row
        if value
    ]
    assert personal and [value for value in personal if value in everything] == []
    findings = Finding.objects.filter(visit__inspection__application__municipality=demo)
    orders = Order.objects.filter(visit__inspection__application__municipality=demo)
    for text in [*findings.values_list("description", flat=True), *orders.values_list(
        "issued_to", flat=True
    )]:  # fmt: skip
        assert text not in everything
    staff_emails = get_user_model().objects.values_list("email", flat=True)
    assert [email for email in staff_emails if email and email in everything] == []


def test_visit_results_map_to_blds_result_values(application_a, inspector, occupancy_type_a):
    framing = InspectionType.objects.create(
        municipality=application_a.municipality, name="Framing", blds_type="Frame"
    )
    occupancy = make_inspection(application_a, occupancy_type_a)
    general = make_inspection(application_a, framing)
    make_closed_visit(occupancy, inspector, sequence=1, result="not_granted")
    make_closed_visit(occupancy, inspector, sequence=2, result="granted_outstanding")
    make_closed_visit(occupancy, inspector, sequence=3, result="granted_full")
    make_closed_visit(general, inspector, sequence=1, result="failed")
    make_closed_visit(general, inspector, sequence=2, result="passed")
    Visit.objects.create(inspection=general, sequence=3, started_by=inspector)  # open: not out

    rows = read_csv(blds_files(municipality=application_a.municipality)["blds-inspections.csv"])

    assert sorted(
        (r["InspType"], r["InspTypeMapped"], r["Result"], r["ResultMapped"], r["Final"],
         r["ReInspection"], r["InspectionNotes"])
        for r in rows
    ) == [
        ("Framing", "Frame", "Failed (Not substantially complete)", "Rejected", "No", "Yes",
         "Deficiencies"),
        ("Framing", "Frame", "Passed", "Passed", "No", "No", ""),
        ("Occupancy", "Building Final", "Granted and fully completed", "Passed", "Yes", "No", ""),
        ("Occupancy", "Building Final", "Granted, but outstanding matters", "Partial", "Yes",
         "No", ""),
        ("Occupancy", "Building Final", "Not granted", "Rejected", "Yes", "Yes", "Deficiencies"),
    ]  # fmt: skip
    assert {r["InspectedDate"] for r in rows} == {timezone.localdate().isoformat()}


def test_co_issued_date_is_the_first_issued_general_permit(
    application_a, inspector, occupancy_type_a
):
    with builders.written_as_history():  # a permit revoked since (its revocation not needed)
        issue_permit(
            application_a,
            inspector,
            number="OCC-1",
            granted_on=datetime.date(2026, 2, 1),
            status=PermitStatus.REVOKED,
        )
    issue_permit(
        application_a,
        inspector,
        number="OCC-2",
        granted_on=datetime.date(2026, 2, 10),
        kind=PermitKind.PARTIAL,
    )
    issue_permit(application_a, inspector, number="OCC-3", granted_on=datetime.date(2026, 3, 1))
    issue_permit(application_a, inspector, number="OCC-4", granted_on=datetime.date(2026, 4, 1))

    (permit,) = read_csv(blds_files(municipality=application_a.municipality)["blds-permits.csv"])

    assert (permit["PermitNum"], permit["COIssuedDate"], permit["StatusCurrentMapped"]) == (
        "B-2026-0001",
        "2026-03-01",
        "Inspection Phase",
    )
    assert (permit["AppliedDate"], permit["IssuedDate"], permit["CompletedDate"]) == (
        "2026-01-05",
        "2026-02-01",
        "",
    )


def test_export_then_import_with_the_blds_mapping_gives_the_same_applications(demo):
    copy = Municipality.objects.create(slug="copy", name="Copy of the town", city="Copy")
    data = blds_files(municipality=demo, formats=("csv",))["blds-permits.csv"]

    report = applications_import(municipality=copy, data=data, mapping=load_mapping("blds"))

    fields = [
        "number",
        "description",
        "street_address",
        "unit",
        "city",
        "province",
        "postal_code",
        "roll_number",
        "status",
        "work_type",
        "applied_on",
        "permit_issued_on",
        "completed_on",
    ]
    original = list(
        Application.objects.filter(municipality=demo).order_by("number").values(*fields)
    )
    assert (report.created, report.rejected) == (len(original), [])
    assert list(
        Application.objects.filter(municipality=copy).order_by("number").values(*fields)
    ) == (original)


def test_export_blds_command_writes_the_files(demo, tmp_path):
    out = io.StringIO()
    call_command("export_blds", municipality="town-of-example", out=str(tmp_path / "o"), stdout=out)

    applications = Application.objects.filter(municipality=demo).count()
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "blds-inspections.csv",
        "blds-inspections.json",
        "blds-permits.csv",
        "blds-permits.json",
    ]
    assert f"  permits: {applications} rows → blds-permits.csv, blds-permits.json" in (
        out.getvalue()
    )
    assert len(read_csv((tmp_path / "o" / "blds-permits.csv").read_bytes())) == applications


def test_admin_downloads_the_blds_zip_from_the_municipality_page(demo):
    admin = client_for(get_user_model().objects.get(username="admin"))
    url = reverse("admin:core_municipality_export_blds", args=[demo.pk])
    page = admin.get(reverse("admin:core_municipality_change", args=[demo.pk])).content
    assert f'href="{url}">Download BLDS open data (zip)</a>'.encode() in page

    response = admin.get(url)

    today = timezone.localdate().isoformat()
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="blds-town-of-example-{today}.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.read("blds-permits.csv") == blds_files(municipality=demo)["blds-permits.csv"]
    assert len(archive.namelist()) == 4


def test_blds_download_is_for_staff_who_may_view(municipality_a, inspector):
    url = reverse("admin:core_municipality_export_blds", args=[municipality_a.pk])
    assert "login/?next=" in client_for(inspector).get(url)["Location"]
    # Staff of no municipality: the municipality is not theirs (404, as on the front end).
    staff = make_user("staff_only", is_staff=True)
    assert client_for(staff).get(url).status_code == 404
    # A member whose role may not see the municipality in the admin: not there either.
    viewer = make_user("staff_viewer", municipality_a, Role.VIEWER)
    # Staff status follows the roles (core.signals): forced here, as an operator could.
    type(viewer).objects.filter(pk=viewer.pk).update(is_staff=True)
    viewer.refresh_from_db()
    assert client_for(viewer).get(url).status_code == 404
    # Its municipal administrator downloads it.
    town_admin = make_user("town_admin", municipality_a, Role.MUNICIPAL_ADMIN)
    assert client_for(town_admin).get(url).status_code == 200
    admin = client_for(make_user("root", is_staff=True, is_superuser=True))
    missing = reverse("admin:core_municipality_export_blds", args=[999999])
    assert admin.get(missing).status_code == 404
    assert admin.post(url).status_code == 405

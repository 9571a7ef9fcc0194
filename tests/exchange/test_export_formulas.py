"""CSV injection: every CSV export writes a cell that a spreadsheet would run as a formula
(`=`, `+`, `-`, `@`, tab or carriage return first) as text, with a single quote before it."""

import csv
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.models import Municipality
from exchange.exporting import blds_files
from exchange.importing.mapping import load_mapping
from exchange.importing.services import applications_import
from inspections.models import InspectionType
from permits.models import Application
from tests.conftest import client_for, make_application, make_user
from tests.factories import make_closed_visit, make_inspection

EVIL = '=HYPERLINK("http://evil","x")'


def read_csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


@pytest.fixture
def malicious(municipality_a, inspector):
    """An application whose typed texts are formulas, with a closed visit of an inspection
    type whose name is one."""
    application = make_application(
        municipality_a,
        number="B-2026-0666",
        description=EVIL,
        street_address="@SUM(1+1)*cmd|' /C calc'!A0",
        unit="-2+3",
        owner_name=EVIL,
        applicant_name="+1 555 0101",
        roll_number="\t=1+1",
    )
    evil_type = InspectionType.objects.create(
        municipality=municipality_a, name=EVIL, blds_type="Frame"
    )
    make_closed_visit(make_inspection(application, evil_type), inspector, result="passed")
    return application


def test_blds_permits_csv_quotes_every_formula_cell(malicious):
    (row,) = read_csv(blds_files(municipality=malicious.municipality)["blds-permits.csv"])

    assert (row["Description"], row["OriginalAddress1"], row["OriginalAddress2"], row["PIN"]) == (
        "'" + EVIL,
        "'@SUM(1+1)*cmd|' /C calc'!A0",
        "'-2+3",
        "'\t=1+1",
    )
    # Names are never published; the dates and the number stay valid BLDS values.
    assert EVIL not in row.values() and "'" + EVIL != row["PermitNum"]
    assert row["PermitNum"] == "B-2026-0666"
    assert row["AppliedDate"] == malicious.applied_on.isoformat()


def test_blds_inspections_csv_quotes_the_inspection_type(malicious):
    files = blds_files(municipality=malicious.municipality)
    (row,) = read_csv(files["blds-inspections.csv"])

    assert (row["PermitNum"], row["InspType"], row["InspTypeMapped"]) == (
        "B-2026-0666",
        "'" + EVIL,
        "Frame",
    )
    # JSON is read by programs, not spreadsheets: its values are the data as it is.
    assert json.loads(files["blds-inspections.json"])[0]["InspType"] == EVIL


def test_the_admin_download_and_the_command_write_the_quoted_cells(malicious, tmp_path):
    municipality = malicious.municipality
    admin = client_for(make_user("root", is_staff=True, is_superuser=True))
    response = admin.get(reverse("admin:core_municipality_export_blds", args=[municipality.pk]))
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    call_command(
        "export_blds", municipality=municipality.slug, out=str(tmp_path), stdout=io.StringIO()
    )

    names = ("blds-permits.csv", "blds-inspections.csv")
    written = {
        "admin zip": [archive.read(name) for name in names],
        "command": [(tmp_path / name).read_bytes() for name in names],
    }
    for permits, inspections in written.values():
        assert read_csv(permits)[0]["Description"] == "'" + EVIL
        assert read_csv(inspections)[0]["InspType"] == "'" + EVIL
        assert b'\r\n"=' not in permits and b',"=' not in permits and b",=" not in permits


def test_an_exported_file_imports_back_to_the_values_typed(malicious):
    copy = Municipality.objects.create(slug="copy", name="Copy", city="Copy")
    data = blds_files(municipality=malicious.municipality, formats=("csv",))["blds-permits.csv"]

    report = applications_import(municipality=copy, data=data, mapping=load_mapping("blds"))

    assert (report.created, report.rejected) == (1, [])
    imported = Application.objects.get(municipality=copy)
    assert (imported.description, imported.unit) == (EVIL, "-2+3")

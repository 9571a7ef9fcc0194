"""BLDS open-data export of a municipality: the core permits dataset and the inspections
dataset, as CSV and JSON, with the BLDS mapped values.

What is published: permit numbers, descriptions, dates, statuses, the site address and roll
number, inspection types and results. Never exported: applicant and owner names, e-mails and
phone numbers, and anything internal (visit notes, findings, orders). Dates are YYYY-MM-DD.
The inspections and occupancy apps give their part through their own read functions.
"""

import csv
import io
import json
import zipfile

from django.utils import timezone, translation

from core.csv_safe import spreadsheet_safe_row
from core.models import Municipality
from inspections.exports import blds_inspection_rows
from occupancy.exports import co_issued_dates
from permits.models import Application, ApplicationStatus, WorkType

PERMIT_FIELDS = [
    "PermitNum",
    "Description",
    "AppliedDate",
    "IssuedDate",
    "CompletedDate",
    "StatusCurrent",
    "StatusCurrentMapped",
    "OriginalAddress1",
    "OriginalAddress2",
    "OriginalCity",
    "OriginalState",
    "OriginalZip",
    "Jurisdiction",
    "PermitType",
    "PermitTypeMapped",
    "WorkClassMapped",
    "StatusDate",
    "PIN",
    "COIssuedDate",
    "Publisher",
]
INSPECTION_FIELDS = [
    "PermitNum",
    "InspType",
    "InspTypeMapped",
    "Result",
    "ResultMapped",
    "ScheduledDate",
    "InspectedDate",
    "Final",
    "ReInspection",
    "InspectionNotes",
]
# Fields BLDS requires (conditional pairs: at least one of them is filled).
REQUIRED_PERMIT_FIELDS = PERMIT_FIELDS[:12]
REQUIRED_INSPECTION_FIELDS = INSPECTION_FIELDS[:7]

STATUS_MAPPED = {
    ApplicationStatus.SUBMITTED: "Application Accepted",
    ApplicationStatus.IN_REVIEW: "In Review",
    ApplicationStatus.PERMIT_ISSUED: "Permit Issued",
    ApplicationStatus.CONSTRUCTION_STARTED: "Inspection Phase",
    ApplicationStatus.OCCUPIED: "Occupancy",
    ApplicationStatus.FINISHED: "Permit Finaled",
    # Closed without a permit is an abandoned application; with one, a finaled permit.
    ApplicationStatus.CLOSED: "Permit Cancelled",
}
PERMIT_TYPE_MAPPED = {
    WorkType.DEMOLITION: "Demolition",
    WorkType.PLUMBING: "Plumbing",
    WorkType.SEPTIC: "Plumbing",
    WorkType.HVAC: "Mechanical",
}


def _date(value) -> str:
    return value.isoformat() if value else ""


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def blds_permit_rows(*, municipality: Municipality) -> list[dict[str, str]]:
    """The BLDS core permits dataset of the municipality, one row per application."""
    co_dates = co_issued_dates(municipality=municipality)
    # BLDS is an English open-data standard: the labels in English whoever downloads it
    # (they are translated for the pages: docs/french.md).
    with translation.override("en-ca"):
        statuses = {value: str(label) for value, label in ApplicationStatus.choices}
        work_types = {value: str(label) for value, label in WorkType.choices}
    applications = (
        Application.objects.filter(municipality=municipality)
        .order_by("number")
        .values_list(
            "number",
            "description",
            "applied_on",
            "permit_issued_on",
            "completed_on",
            "status",
            "street_address",
            "unit",
            "city",
            "province",
            "postal_code",
            "work_type",
            "updated_at",
            "roll_number",
        )
    )
    rows = []
    for (
        number,
        description,
        applied_on,
        issued_on,
        completed_on,
        status,
        street_address,
        unit,
        city,
        province,
        postal_code,
        work_type,
        updated_at,
        roll_number,
    ) in applications:
        mapped = STATUS_MAPPED[status]
        if status == ApplicationStatus.CLOSED and issued_on is not None:
            mapped = "Permit Finaled"
        rows.append(
            {
                "PermitNum": number,
                "Description": description,
                "AppliedDate": _date(applied_on),
                "IssuedDate": _date(issued_on),
                "CompletedDate": _date(completed_on),
                "StatusCurrent": statuses[status],
                "StatusCurrentMapped": mapped,
                "OriginalAddress1": street_address,
                "OriginalAddress2": unit,
                "OriginalCity": city,
                "OriginalState": province,
                "OriginalZip": postal_code,
                "Jurisdiction": municipality.name,
                "PermitType": work_types[work_type],
                "PermitTypeMapped": PERMIT_TYPE_MAPPED.get(work_type, "Building"),
                "WorkClassMapped": "New" if work_type == WorkType.NEW else "Existing",
                "StatusDate": _date(timezone.localtime(updated_at).date()),
                "PIN": roll_number,
                "COIssuedDate": _date(co_dates.get(number)),
                "Publisher": municipality.name,
            }
        )
    return rows


def blds_inspections(*, municipality: Municipality) -> list[dict[str, str]]:
    """The BLDS inspections dataset: one row per closed visit."""
    return [
        {
            "PermitNum": row["permit_number"],
            "InspType": row["inspection_type"],
            "InspTypeMapped": row["inspection_type_mapped"],
            "Result": row["result"],
            "ResultMapped": row["result_mapped"],
            "ScheduledDate": "",
            "InspectedDate": _date(row["inspected_on"]),
            "Final": _yes_no(row["final"]),
            "ReInspection": _yes_no(row["reinspection"]),
            "InspectionNotes": row["failure_reason"],
        }
        for row in blds_inspection_rows(municipality=municipality)
    ]


def blds_datasets(*, municipality: Municipality) -> dict[str, tuple[list[str], list[dict]]]:
    """Dataset name → (its fields, its rows)."""
    return {
        "permits": (PERMIT_FIELDS, blds_permit_rows(municipality=municipality)),
        "inspections": (INSPECTION_FIELDS, blds_inspections(municipality=municipality)),
    }


def csv_bytes(fields: list[str], rows: list[dict]) -> bytes:
    """The rows as CSV, every cell through core.csv_safe: a description or an inspection type
    typed as `=HYPERLINK(…)` reaches a spreadsheet as text, not as a formula. The JSON files
    keep the values as they are (no program runs them)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(spreadsheet_safe_row(row) for row in rows)
    return buffer.getvalue().encode("utf-8")


def json_bytes(rows: list[dict]) -> bytes:
    return json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")


def blds_files(*, municipality: Municipality, formats=("csv", "json")) -> dict[str, bytes]:
    """File name → content: blds-permits.csv, blds-permits.json, blds-inspections.csv …"""
    files = {}
    for name, (fields, rows) in blds_datasets(municipality=municipality).items():
        if "csv" in formats:
            files[f"blds-{name}.csv"] = csv_bytes(fields, rows)
        if "json" in formats:
            files[f"blds-{name}.json"] = json_bytes(rows)
    return files


def blds_zip(*, municipality: Municipality) -> tuple[str, bytes]:
    """The zip file's name and bytes, with every dataset as CSV and JSON."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in blds_files(municipality=municipality).items():
            archive.writestr(name, content)
    today = timezone.localdate().isoformat()
    return f"blds-{municipality.slug}-{today}.zip", buffer.getvalue()

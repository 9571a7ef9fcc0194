"""Import of applications from CSV: the real Burlington open-data file, re-import, malformed
rows and files, dry runs, the mappings and the command."""

import csv
import datetime
import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from core.models import Activity, Municipality, Role
from exchange.importing.mapping import MappingError, builtin_mappings, load_mapping
from exchange.importing.normalise import split_address, title_case
from exchange.importing.reading import ImportFileError
from exchange.importing.records import DataQualityWarning
from exchange.importing.services import applications_import
from permits.models import Application, ApplicationStatus
from permits.queries import application_search
from tests.conftest import make_user

DATA_DIR = Path(settings.BASE_DIR).parent / "shared" / "data"
BURLINGTON_CSV = DATA_DIR / "burlington-on-building-permits.csv"
PLACEHOLDER = "Not recorded (imported)"

HEADER = (
    "X,Y,OBJECTID,ADDRESS,FOLDERTYPE,FILENO,INDATE,ISSUEDATE,WORKDESC,SUBDESC,"
    "FOLDERSTATUSDESC,REFERENCEFILE,RESUNITS,CONSTRUCTVALUE,PROPINFOVALUE_WARD"
)


def burlington_row(
    number="24-000001",
    address="12 MAPLE AVE.   ",
    applied="2024/01/10 00:00:00+00",
    issued="2024/02/01 00:00:00+00",
    work="New",
    use="Single Detached Dwelling",
    status="Issued",
    folder="SF New Single Detached Dwelling",
) -> str:
    return f"1.5,2.5,3,{address},{folder},{number},{applied},{issued},{work},{use},{status},,1,0,1"


def burlington_csv(*rows: str) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode("utf-8")


@pytest.fixture
def burlington(db):
    return Municipality.objects.create(slug="burlington", name="City of Burlington")


@pytest.fixture
def burlington_data() -> bytes:
    if not BURLINGTON_CSV.is_file():
        missing = f"{BURLINGTON_CSV} is missing: shared/ must lie beside the project"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)  # CI always has shared/: a missing file is a broken setup
        pytest.skip(missing)
    return BURLINGTON_CSV.read_bytes()


def run_import(municipality, data: bytes, mapping="burlington", **options):
    return applications_import(
        municipality=municipality, data=data, mapping=load_mapping(mapping), **options
    )


def distinct_numbers(data: bytes) -> set[str]:
    return {row["FILENO"] for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))}


def snapshot(municipality) -> dict[str, dict]:
    return {
        row["number"]: row for row in Application.objects.filter(municipality=municipality).values()
    }


# The real file -------------------------------------------------------------------------------


def test_burlington_file_imports_one_application_per_permit_number(burlington, burlington_data):
    numbers = distinct_numbers(burlington_data)

    report = run_import(burlington, burlington_data, source_name=BURLINGTON_CSV.name)

    print(f"\nBurlington import: {report.summary()}")
    # One row of the city's data says the permit was issued before it was applied for: it is
    # the city's history, so it goes in as recorded, with a data-quality warning.
    assert report.rejected == []
    assert report.warnings == [
        DataQualityWarning(
            2576, "22-000251", "issued date 2022-12-14 is before the applied date 2023-03-17"
        )
    ]
    assert (report.rows, report.created, report.updated, report.unchanged) == (
        5026,
        len(numbers),
        0,
        0,
    )
    assert report.merged == 5026 - len(numbers)
    imported = set(
        Application.objects.filter(municipality=burlington).values_list("number", flat=True)
    )
    assert imported == numbers
    assert Activity.objects.filter(verb="imported").count() == len(imported)


def test_burlington_rows_are_mapped_and_merged(burlington, burlington_data):
    run_import(burlington, burlington_data)

    # Two rows: the newest row's values, the earliest applied date.
    deck = Application.objects.get(municipality=burlington, number="24-019651")
    assert {
        "street_address": deck.street_address,
        "unit": deck.unit,
        "city": deck.city,
        "province": deck.province,
        "applied_on": deck.applied_on,
        "permit_issued_on": deck.permit_issued_on,
        "status": deck.status,
        "work_type": deck.work_type,
        "description": deck.description,
        "applicant_name": deck.applicant_name,
    } == {
        "street_address": "1268 Abbey Crt.",
        "unit": "",
        "city": "Burlington",
        "province": "ON",
        "applied_on": datetime.date(2024, 10, 3),
        "permit_issued_on": datetime.date(2025, 7, 30),
        "status": ApplicationStatus.FINISHED,
        "work_type": "new",
        "description": "SO Other Single Detached Dwelling – Attached Deck – New (No ZC Reqd)",
        "applicant_name": PLACEHOLDER,
    }
    unit = Application.objects.get(municipality=burlington, number="22-013665")
    assert (unit.street_address, unit.unit, unit.full_address) == (
        "2022 Atkinson Dr.",
        "25",
        "25-2022 Atkinson Dr., Burlington",
    )
    east = Application.objects.get(municipality=burlington, number="25-015667")
    assert (east.street_address, east.unit, east.status) == (
        "1061 North Shore Blvd. E",
        "13",
        ApplicationStatus.PERMIT_ISSUED,
    )
    walkers = Application.objects.get(municipality=burlington, number="24-024354")
    assert (walkers.street_address, walkers.work_type) == ("320 Walker's Line", "demolition")


def test_burlington_addresses_are_found_with_the_search_box(burlington, burlington_data):
    run_import(burlington, burlington_data)
    inspector = make_user("burlington_inspector", burlington, Role.INSPECTOR)

    def found(query: str) -> list[str]:
        return list(application_search(inspector, query=query).values_list("number", flat=True))

    # As an inspector types them, in any case, with or without the unit.
    assert "24-019651" in found("1268 abbey")
    assert "22-013665" in found("25 2022 atkinson")
    assert "24-024354" in found("320 WALKER'S LINE")
    applications = list(Application.objects.filter(municipality=burlington).order_by("number"))
    assert all(a.search_text == a.build_search_text() for a in applications)
    for application in applications[::250]:
        query = f"{application.unit} {application.street_address}".lower()
        assert application.number in found(query), query


def test_burlington_reimport_changes_nothing(burlington, burlington_data):
    run_import(burlington, burlington_data)
    before = snapshot(burlington)
    activities = Activity.objects.count()

    report = run_import(burlington, burlington_data)

    print(f"\nBurlington re-import: {report.summary()}")
    assert (report.created, report.updated, report.unchanged) == (0, 0, len(before))
    assert snapshot(burlington) == before
    assert Activity.objects.count() == activities


# Updates and merges --------------------------------------------------------------------------


def test_reimport_updates_only_what_changed_and_records_it(burlington, admin_user):
    first = burlington_csv(
        burlington_row("24-000001"), burlington_row("24-000002", address="14 MAPLE AVE.")
    )
    run_import(burlington, first)
    untouched = Application.objects.get(number="24-000002").updated_at

    second = burlington_csv(
        burlington_row("24-000001", status="Final", use="Detached Garage"),
        burlington_row("24-000002", address="14 MAPLE AVE."),
    )
    report = run_import(burlington, second, source_name="newer.csv", actor=admin_user)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    changed = Application.objects.get(number="24-000001")
    assert (changed.status, changed.description) == (
        ApplicationStatus.FINISHED,
        "SF New Single Detached Dwelling – Detached Garage – New",
    )
    assert Application.objects.get(number="24-000002").updated_at == untouched
    activity = Activity.objects.get(verb="import_updated")
    assert (activity.application, activity.actor, activity.summary) == (
        changed,
        admin_user,
        "Updated from newer.csv (mapping burlington), line 2: status, description",
    )


def test_reimport_never_moves_a_status_back_nor_overwrites_on_create_fields(burlington):
    data = burlington_csv(burlington_row("24-000001"))
    run_import(burlington, data)
    application = Application.objects.get(number="24-000001")
    application.status = ApplicationStatus.OCCUPIED
    application.applicant_name = "Priya Raman"
    application.save()

    report = run_import(burlington, data)

    assert (report.updated, report.unchanged) == (0, 1)
    application.refresh_from_db()
    assert (application.status, application.applicant_name) == ("occupied", "Priya Raman")
    assert "PRIYA RAMAN" in application.search_text


def test_rows_of_one_number_become_one_application(burlington):
    data = burlington_csv(
        burlington_row("23-1", applied="2023/05/10 00:00:00+00", issued="2023/06/19 00:00:00+00"),
        burlington_row("23-2"),
        burlington_row(
            "23-1",
            address="9 ELM ST.",
            applied="2023/09/01 00:00:00+00",
            issued="2023/10/03 00:00:00+00",
            status="Final",
        ),
        burlington_row("23-1", applied="2023/07/01 00:00:00+00", issued=""),
    )

    report = run_import(burlington, data)

    assert (report.rows, report.created, report.merged) == (4, 2, 2)
    merged = Application.objects.get(number="23-1")
    assert (merged.street_address, merged.applied_on, merged.permit_issued_on, merged.status) == (
        "9 Elm St.",
        datetime.date(2023, 5, 10),
        datetime.date(2023, 10, 3),
        ApplicationStatus.FINISHED,
    )
    assert Activity.objects.get(application=merged).summary == (
        "Imported from a CSV file (mapping burlington), lines 2, 4, 5"
    )


def test_each_batch_is_its_own_transaction_and_a_refused_record_costs_only_itself(burlington):
    run_import(burlington, burlington_csv(burlington_row("24-000001")))
    # Applied after the permit already recorded as issued: the database's check refuses it.
    later = burlington_csv(
        burlington_row("24-000002"),
        burlington_row("24-000001", applied="2024/03/01 00:00:00+00", issued=""),
        burlington_row("24-000003"),
    )
    progress = []

    report = run_import(
        burlington, later, batch_size=2, progress=lambda done, total: progress.append((done, total))
    )

    assert progress == [(2, 3), (3, 3)]
    assert (report.created, report.updated) == (2, 0)
    [rejection] = report.rejected
    assert (rejection.line, rejection.number) == (3, "24-000001")
    assert rejection.reason.startswith("the database refused it: ")
    assert "application_issued_not_before_applied" in rejection.reason
    assert Application.objects.get(number="24-000001").applied_on == datetime.date(2024, 1, 10)
    assert Application.objects.count() == 3


# Malformed rows and files --------------------------------------------------------------------


def test_malformed_rows_are_rejected_with_reasons_and_the_rest_imported(burlington):
    data = burlington_csv(
        burlington_row("24-000001"),
        burlington_row("24-000002", applied="2024/13/45 00:00:00+00"),
        burlington_row(""),
        burlington_row("24-000004", status="Cancelled"),
        "1.5,2.5,3,12 OAK ST.,SF,24-000005",
        ",,,,,,,,,,,,,,",
        burlington_row("24 000007"),
        burlington_row("24-000008", address="   "),
        burlington_row("24-000009", applied=""),
        burlington_row("24-000010"),
    )

    report = run_import(burlington, data)

    assert [(r.line, r.number, r.reason) for r in report.rejected] == [
        (3, "24-000002", "INDATE '2024/13/45 00:00:00+00' is not a date "
         "(expected e.g. '2024/10/03 00:00:00+00')"),
        (4, "", "no permit number (FILENO is empty)"),
        (5, "24-000004", "FOLDERSTATUSDESC: unknown status 'Cancelled' (known: Issued, Final)"),
        (6, "24-000005", "it has 6 values, the header names 15 columns"),
        (8, "24 000007", "number: Use letters, digits, dots, dashes or underscores "
         "(at most 40 characters)."),
        (9, "24-000008", "no address (ADDRESS is empty)"),
        (10, "24-000009", "no applied date (INDATE is empty)"),
    ]  # fmt: skip
    assert (report.rows, report.skipped, report.created) == (10, 1, 2)
    assert sorted(Application.objects.values_list("number", flat=True)) == [
        "24-000001",
        "24-000010",
    ]


def test_a_line_that_is_not_utf8_is_rejected_and_the_rest_imported(burlington):
    data = (
        burlington_csv(
            burlington_row("24-000001", address="12 CHEMIN DE L'ÉGLISE"),
            burlington_row("24-000002"),
        )
        + burlington_row("24-000003", address="14 RUE SAINT-RÉMI").encode("cp1252")
        + b"\r\n"
    )

    report = run_import(burlington, data)

    assert [(r.line, r.reason) for r in report.rejected] == [
        (
            4,
            "line 4 is not UTF-8 text (byte 0xC9 at position 25); "
            'save it from the spreadsheet as "CSV UTF-8 (comma delimited)"',
        )
    ]
    assert report.created == 2
    assert Application.objects.get(number="24-000001").street_address == "12 Chemin De L'Église"


def test_a_windows_1252_file_is_read_with_a_note(burlington):
    text = "\r\n".join([HEADER, burlington_row("24-000001", address="14 RUE SAINT-RÉMI")])
    report = run_import(burlington, text.encode("cp1252"))

    assert report.created == 1 and report.rejected == []
    assert report.notes[0].startswith("The file is not UTF-8: it was read as Windows-1252")
    assert Application.objects.get().street_address == "14 Rue Saint-Rémi"


def test_bom_and_utf16_files_are_read(burlington):
    text = "\r\n".join([HEADER, burlington_row("24-000001"), burlington_row("24-000002")])
    assert run_import(burlington, b"\xef\xbb\xbf" + text.encode()).created == 2
    report = run_import(burlington, text.encode("utf-16"))
    assert (report.unchanged, report.notes) == (
        2,
        ["The file is UTF-16 text; it was read as such."],
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04 workbook", "This is a spreadsheet workbook, not a CSV file"),
        (b"FILENO\x00,ADDRESS\n", "The file contains NUL bytes"),
        (
            b"PermitNum,Description\n1,x\n",
            "The file has no column FILENO, ADDRESS, INDATE, ISSUEDATE, FOLDERSTATUSDESC, "
            "WORKDESC, FOLDERTYPE, SUBDESC (mapping burlington). Its columns: PermitNum, "
            "Description. Is it the right mapping?",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_clear_error(burlington, data, message):
    with pytest.raises(ImportFileError) as caught:
        run_import(burlington, data)
    assert str(caught.value).startswith(message)
    assert not Application.objects.exists()


# Dry run -------------------------------------------------------------------------------------


def test_dry_run_reports_everything_and_writes_nothing(burlington):
    data = burlington_csv(burlington_row("24-000001"), burlington_row("24-000002", applied=""))

    report = run_import(burlington, data, dry_run=True)

    assert (report.created, len(report.rejected), report.dry_run) == (1, 1, True)
    assert report.summary().startswith(
        "Dry run, nothing saved. 2 rows read: 1 application would be created"
    )
    assert [(row.action, row.line, row.application.number) for row in report.preview] == [
        ("create", 2, "24-000001")
    ]
    assert not Application.objects.exists()
    assert not Activity.objects.exists()


# The command ---------------------------------------------------------------------------------


def test_command_imports_and_prints_rejections_and_summary(burlington, tmp_path):
    path = tmp_path / "permits.csv"
    path.write_bytes(burlington_csv(burlington_row("24-000001"), burlington_row("")))
    out = io.StringIO()

    call_command(
        "import_applications",
        str(path),
        municipality="burlington",
        mapping="burlington",
        stdout=out,
    )

    lines = out.getvalue().splitlines()
    assert lines[0] == "Rejected line 3: no permit number (FILENO is empty)"
    assert lines[1].startswith(
        "City of Burlington, permits.csv: 2 rows read: 1 application created, 0 updated, "
        "0 unchanged, 0 rows skipped (blank), 1 row rejected."
    )
    assert lines[1].endswith(" rows/s.")
    assert Application.objects.count() == 1


def test_command_dry_run_saves_nothing(burlington, tmp_path):
    path = tmp_path / "permits.csv"
    path.write_bytes(burlington_csv(burlington_row("24-000001")))
    out = io.StringIO()
    call_command(
        "import_applications",
        str(path),
        "--dry-run",
        municipality="burlington",
        mapping="burlington",
        stdout=out,
    )
    assert "Dry run, nothing saved." in out.getvalue()
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--municipality", "nowhere", "--mapping", "burlington"], "No municipality 'nowhere'."),
        (["--municipality", "burlington", "--mapping", "nope"], "No mapping named 'nope'."),
    ],
)
def test_command_refuses_unknown_municipality_or_mapping(burlington, tmp_path, arguments, message):
    path = tmp_path / "permits.csv"
    path.write_bytes(burlington_csv(burlington_row()))
    with pytest.raises(CommandError, match=message):
        call_command("import_applications", str(path), *arguments)


def test_command_refuses_an_unreadable_file(burlington, tmp_path):
    path = tmp_path / "permits.xlsx"
    path.write_bytes(b"PK\x03\x04 workbook")
    with pytest.raises(CommandError, match="permits.xlsx: This is a spreadsheet workbook"):
        call_command("import_applications", str(path), municipality="burlington", mapping="blds")


# Mappings and normalisation ------------------------------------------------------------------


def test_both_builtin_mappings_load():
    assert set(builtin_mappings()) == {"blds", "burlington"}
    blds = load_mapping("blds")
    assert blds.columns["number"] == ("PermitNum",)
    assert blds.map_value("status", "permit finaled") == "finished"
    assert blds.map_value("status", "Unknown") is None
    assert blds.map_value("work_type", "Swimming pool") == "other"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[columns\n", "is not valid TOML"),
        ('[columns]\nnumber = "A"\napplied_on = "B"\nowner = "C"\n', "unknown field 'owner'"),
        ('[columns]\nnumber = "A"\n', "[columns] needs number and applied_on"),
        (
            '[columns]\nnumber = "A"\napplied_on = "B"\naddress = "C"\n[values.status]\nX = "y"\n',
            "values.status maps to unknown values ['y']",
        ),
    ],
)
def test_a_bad_mapping_file_says_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "custom.toml"
    path.write_text(content)
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert message in str(caught.value)


def test_a_custom_mapping_file_is_used(burlington, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'date_formats = ["%d.%m.%Y"]\ndelimiter = ";"\n'
        "[columns]\n"
        'number = "No"\napplied_on = "Applied"\naddress = "Where"\ndescription = "What"\n'
        "[on_create]\n"
        'applicant_name = "Unknown"\ncity = "Sampleford"\n'
    )
    data = b"No;Applied;Where;What\nS-1;03.10.2024;unit 4 - 55 king st w;Deck\n"
    report = applications_import(municipality=burlington, data=data, mapping=load_mapping(path))
    assert report.created == 1
    application = Application.objects.get()
    assert (application.full_address, application.applied_on, application.status) == (
        "4-55 king st w, Sampleford",
        datetime.date(2024, 10, 3),
        ApplicationStatus.SUBMITTED,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1268 ABBEY CRT.   ", ("1268 Abbey Crt.", "")),
        ("2022 ATKINSON DR.  UNIT 25", ("2022 Atkinson Dr.", "25")),
        ("5080 FAIRVIEW ST.  SUITE 48", ("5080 Fairview St.", "48")),
        ("1061 NORTH SHORE BLVD. E UNIT 13", ("1061 North Shore Blvd. E", "13")),
        ("4250 WALKER'S LINE", ("4250 Walker's Line", "")),
        ("12 O'NEIL ST, APT. 4b", ("12 O'Neil St", "4B")),
        ("#7 55 KING ST W", ("55 King St W", "7")),
        ("123 UNITY RD", ("123 Unity Rd", "")),
        ("2560 NO. 2 SIDE RD.", ("2560 No. 2 Side Rd.", "")),
        ("47 Maple Crescent", ("47 Maple Crescent", "")),
    ],
)
def test_addresses_are_normalised(raw, expected):
    assert split_address(raw) == expected


def test_title_case_keeps_civic_number_suffixes_and_ordinals():
    assert title_case("1268A 2ND LINE") == "1268A 2nd Line"

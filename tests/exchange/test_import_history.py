"""Imported history is kept whole: a record whose permit was issued before it was applied for
(Burlington's 22-000251) is imported as the city recorded it, with a data-quality warning in
the import's summary and on the application's history; entered in Threshold, the same dates
are still refused."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from core.models import Activity, Municipality, Role
from exchange.importing.records import DataQualityWarning
from permits.models import Application
from tests.conftest import client_for, make_application, make_user
from tests.exchange.test_import import BURLINGTON_CSV, burlington_csv, burlington_row, run_import
from tests.exchange.test_import_admin import check, committed, import_button

IMPORT_URL = "/admin/permits/application/import/"
ODD = "issued date 2022-12-14 is before the applied date 2023-03-17"


@pytest.fixture
def burlington(db):
    return Municipality.objects.create(
        slug="burlington", name="City of Burlington", city="Burlington"
    )


def the_odd_row(**changes) -> str:
    """22-000251 as the city's file has it (line 2576), or with changes."""
    values = {
        "number": "22-000251",
        "address": "1125 LAKESHORE RD.   ",
        "applied": "2023/03/17 00:00:00+00",
        "issued": "2022/12/14 00:00:00+00",
        "work": "Renovation (No ZC Reqd)",
        "use": "Institutional/Government Facility",
        "status": "Final",
        "folder": "GP Institutional/Government",
    }
    return burlington_row(**{**values, **changes})


def test_the_real_row_is_in_the_citys_file():
    if not BURLINGTON_CSV.is_file():
        pytest.skip(f"{BURLINGTON_CSV} is missing")
    (line,) = [
        line for line in BURLINGTON_CSV.read_text("utf-8-sig").splitlines() if ",22-000251," in line
    ]
    assert ",2023/03/17 00:00:00+00,2022/12/14 00:00:00+00,Renovation (No ZC Reqd)," in line


def test_issued_before_applied_is_imported_with_a_warning(burlington, admin_user):
    data = burlington_csv(burlington_row("24-000001"), the_odd_row())

    report = run_import(burlington, data, source_name="permits.csv", actor=admin_user)

    assert (report.created, report.rejected) == (2, [])
    assert report.warnings == [DataQualityWarning(3, "22-000251", ODD)]
    assert "; 1 application with a data-quality warning (kept as the file has it)." in (
        report.summary()
    )
    application = Application.objects.get(number="22-000251")
    assert (
        application.applied_on,
        application.permit_issued_on,
        application.data_quality_notes,
    ) == (datetime.date(2023, 3, 17), datetime.date(2022, 12, 14), ODD)
    assert Application.objects.get(number="24-000001").data_quality_notes == ""
    assert list(
        Activity.objects.filter(application=application).values_list("verb", "summary")
    ) == [
        (
            "import_data_quality",
            f"Data-quality warning from permits.csv (mapping burlington), line 3: {ODD}; "
            "kept as the file has it",
        ),
        ("imported", "Imported from permits.csv (mapping burlington), line 3"),
    ]


def test_the_warning_is_on_the_applications_page_history(burlington):
    run_import(burlington, burlington_csv(the_odd_row()), source_name="burlington.csv")
    inspector = make_user("burlington_inspector", burlington, Role.INSPECTOR)

    page = client_for(inspector).get(Application.objects.get().get_absolute_url())

    assert page.status_code == 200
    assert (
        f"Data-quality warning from burlington.csv (mapping burlington), line 2: {ODD}; "
        "kept as the file has it"
    ) in page.content.decode()


def test_a_reimport_changes_nothing_and_warns_again(burlington):
    data = burlington_csv(the_odd_row())
    run_import(burlington, data)
    before = list(Application.objects.values())
    activities = Activity.objects.count()

    report = run_import(burlington, data)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert report.warnings == [DataQualityWarning(2, "22-000251", ODD)]
    assert list(Application.objects.values()) == before
    assert Activity.objects.count() == activities


def test_a_corrected_file_clears_the_warning(burlington):
    run_import(burlington, burlington_csv(the_odd_row()))

    report = run_import(burlington, burlington_csv(the_odd_row(issued="2023/04/03 00:00:00+00")))

    assert (report.updated, report.warnings) == (1, [])
    application = Application.objects.get()
    assert (application.permit_issued_on, application.data_quality_notes) == (
        datetime.date(2023, 4, 3),
        "",
    )
    assert Activity.objects.get(verb="import_updated").summary.endswith(
        "line 2: permit issued on, data quality notes"
    )


def test_the_command_and_the_dry_run_say_the_warning(burlington, tmp_path):
    path = tmp_path / "burlington.csv"
    path.write_bytes(burlington_csv(the_odd_row()))
    out = io.StringIO()

    call_command(
        "import_applications", str(path), "--dry-run", municipality="burlington",
        mapping="burlington", stdout=out,
    )  # fmt: skip

    lines = out.getvalue().splitlines()
    assert lines[0] == (
        f"Data-quality warning, line 2 (22-000251): {ODD}; imported as the file has it"
    )
    assert "1 application with a data-quality warning" in lines[1]
    assert not Application.objects.exists()


def test_the_admin_check_lists_the_warning_and_the_import_says_it(burlington):
    admin = client_for(make_user("root", is_staff=True, is_superuser=True))

    page = check(admin, burlington, burlington_csv(the_odd_row())).content.decode()

    assert "1 data-quality warning: imported as the file has it" in page
    assert f"<tr><td>2</td><td>22-000251</td><td>{ODD}</td></tr>" in page
    response = committed(admin.post, import_button(page))
    page = admin.get(response["Location"]).content.decode()
    assert "1 application with a data-quality warning (kept as the file has it)" in page
    assert f"<tr><td>2</td><td>22-000251</td><td>{ODD}</td></tr>" in page
    assert Application.objects.get().data_quality_notes == ODD


def test_entered_in_threshold_the_same_dates_are_refused(municipality_a):
    application = make_application(municipality_a)
    application.applied_on = datetime.date(2023, 3, 17)
    application.permit_issued_on = datetime.date(2022, 12, 14)

    # As every model form validates it (the admin's included)...
    with pytest.raises(ValidationError, match="application_issued_not_before_applied"):
        application.full_clean()
    # ... and as the database refuses it.
    with pytest.raises(IntegrityError), transaction.atomic():
        application.save()
    application.refresh_from_db()
    assert application.permit_issued_on != datetime.date(2022, 12, 14)

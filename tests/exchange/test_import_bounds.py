"""Bounded import: a cell longer than its field is refused at its row before any parsing,
with a message saying how long it is and what is allowed; the address normaliser is linear."""

import csv

import pytest

from core.models import Activity, Municipality
from exchange.importing.normalise import split_address
from exchange.importing.reading import ImportFileError
from exchange.importing.records import column_limits
from permits.models import Application
from tests.exchange.test_import import burlington_csv, burlington_row, run_import

LONG_ADDRESS = "12 " + "MAPLE " * 6666 + "ST"  # 40,001 characters


@pytest.fixture
def burlington(db):
    return Municipality.objects.create(slug="burlington", name="City of Burlington")


def test_the_limits_come_from_the_model_fields():
    limits = column_limits()
    street = Application._meta.get_field("street_address").max_length
    unit = Application._meta.get_field("unit").max_length
    assert limits["number"] == Application._meta.get_field("number").max_length
    assert limits["street_address"] == street
    assert street + unit < limits["address"] < street + unit + 20  # room for "APARTMENT"
    assert limits["applied_on"] == 40 and limits["status"] == 100


def test_an_address_too_long_is_rejected_at_its_row_and_the_rest_imported(burlington):
    assert len(LONG_ADDRESS) == 40_001
    data = burlington_csv(
        burlington_row("24-000001"),
        burlington_row("24-000002", address=LONG_ADDRESS),
        burlington_row("24-000003"),
    )

    report = run_import(burlington, data)

    limit = column_limits()["address"]
    assert [(r.line, r.number, r.reason) for r in report.rejected] == [
        (3, "24-000002", f"ADDRESS is 40,001 characters; at most {limit}")
    ]
    assert sorted(Application.objects.values_list("number", flat=True)) == [
        "24-000001",
        "24-000003",
    ]
    assert not Activity.objects.filter(application__number="24-000002").exists()


def test_three_long_addresses_in_a_120_kb_file_are_three_rejections(burlington):
    rows = [burlington_row(f"24-00000{n}", address=LONG_ADDRESS) for n in range(1, 4)]
    data = burlington_csv(*rows, burlington_row("24-000004"))
    assert len(data) > 120_000

    report = run_import(burlington, data)

    assert [(r.line, r.reason.split(";")[0]) for r in report.rejected] == [
        (line, "ADDRESS is 40,001 characters") for line in (2, 3, 4)
    ]
    assert list(Application.objects.values_list("number", flat=True)) == ["24-000004"]


def test_padding_does_not_count_against_the_limit(burlington):
    padded = "1268 ABBEY CRT." + " " * 400  # as the city's file pads, only more
    report = run_import(burlington, burlington_csv(burlington_row(address=padded)))
    assert (report.created, report.rejected) == (1, [])
    assert Application.objects.get().street_address == "1268 Abbey Crt."


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (burlington_row(status="Final" * 999), "FOLDERSTATUSDESC is 4,995 characters; at most 100"),
        (burlington_row(applied="2024/01/10" * 10), "INDATE is 100 characters; at most 40"),
        (burlington_row(work="New " * 50), "WORKDESC is 199 characters; at most 100"),
    ],
)  # fmt: skip
def test_other_cells_too_long_are_rejected_with_their_column(burlington, row, reason):
    report = run_import(burlington, burlington_csv(row))
    assert [r.reason for r in report.rejected] == [reason]
    assert not Application.objects.exists()


def test_a_long_permit_number_is_rejected_and_named_shortened(burlington):
    report = run_import(burlington, burlington_csv(burlington_row("24-" + "9" * 5000)))

    [rejection] = report.rejected
    assert rejection.reason == "FILENO is 5,003 characters; at most 40"
    assert rejection.number == "24-" + "9" * 36 + "…"


def test_a_file_whose_cell_the_csv_reader_refuses_imports_nothing(burlington):
    # Past csv's own field limit the file cannot be read reliably: the whole file is refused
    # (an ImportFileError, before any batch), as for any file that cannot be read.
    huge = "X" * (csv.field_size_limit() + 1)
    data = burlington_csv(burlington_row("24-000001"), burlington_row(f'"{huge}"'))

    with pytest.raises(ImportFileError, match="Line 3 cannot be read as CSV: field larger"):
        run_import(burlington, data)
    assert not Application.objects.exists()


# The normaliser itself -----------------------------------------------------------------------


def test_a_long_address_of_valid_length_is_split_as_a_short_one():
    street = "1061 " + " ".join(["NORTH SHORE"] * 15) + " BLVD. E"
    assert len(street) < 200
    assert split_address(f"{street}  APARTMENT 13") == (street.title(), "13")
    assert split_address(f"#13 {street}") == (street.title(), "13")


def test_a_40001_character_address_is_normalised_without_backtracking():
    # Quadratic before (28 s for this one); linear now. No timing here: the result is checked,
    # and the import never gets this far (the length check refuses the row first).
    street, unit = split_address(LONG_ADDRESS + " UNIT 7")
    assert (len(street), unit) == (40_001, "7")
    assert street.startswith("12 Maple Maple") and street.endswith("Maple St")
    assert split_address(", " * 20_000 + "12 MAIN ST, #4") == ("12 Main St", "4")

"""core.csv_safe: the cells a spreadsheet would run as a formula, quoted, and back."""

import pytest

from core.csv_safe import from_spreadsheet_safe, spreadsheet_safe


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1 555 0101", "'+1 555 0101"),
        ("-2+3", "'-2+3"),
        ("-12.50", "'-12.50"),  # a negative number too, as OWASP recommends
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("12 Main St = corner", "12 Main St = corner"),
        ("B-2026-0001", "B-2026-0001"),
        ("2026-03-01", "2026-03-01"),
        ("'quoted already", "'quoted already"),
        ("'=typed with its quote", "''=typed with its quote"),
        ("", ""),
        (None, ""),
    ],
)
def test_cells_that_start_a_formula_are_quoted_and_others_kept(value, written):
    assert spreadsheet_safe(value) == written


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://evil","x")', "-2+3", "@x", "\t=1", "'=x", "''@x", "'plain", "plain"],
)
def test_a_quoted_cell_reads_back_as_its_value(value):
    assert from_spreadsheet_safe(spreadsheet_safe(value)) == value

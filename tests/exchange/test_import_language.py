"""The application's language of correspondence in the CSV import (issue 18, item 4): read from a
column of a known name whatever the mapping, or from the column a mapping names; English when
the file has none; a value that is no language rejects its row with a clear reason."""

import pytest

from core.models import Activity
from exchange.importing.mapping import load_mapping
from exchange.importing.normalise import clean_language
from exchange.importing.services import applications_import
from permits.models import Application
from tests.conftest import client_for
from tests.exchange.test_import import HEADER, burlington_row, run_import
from tests.exchange.test_import_admin import check


def csv_with_language(column: str, *rows: tuple[str, str]) -> bytes:
    """A Burlington file with a language column after its own: rows are (number, language)."""
    lines = [f"{HEADER},{column}", *(f"{burlington_row(number)},{lang}" for number, lang in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def languages(municipality) -> dict[str, str]:
    return dict(
        Application.objects.filter(municipality=municipality).values_list(
            "number", "correspondence_language"
        )
    )


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("en", "en-ca"),
        ("EN", "en-ca"),
        ("English", "en-ca"),
        ("en-CA", "en-ca"),
        ("fr", "fr-ca"),
        ("FR", "fr-ca"),
        ("French", "fr-ca"),
        ("Français", "fr-ca"),
        ("  français ", "fr-ca"),
        ("fr-CA", "fr-ca"),
        ("fr_CA", "fr-ca"),
        ("de", None),
        ("Franglais", None),
    ],
)
def test_languages_as_files_write_them(written, code):
    assert clean_language(written) == code


def test_a_language_column_gives_each_application_its_language(municipality_a):
    data = csv_with_language(
        "Langue",
        ("24-000001", "fr"),
        ("24-000002", "English"),
        ("24-000003", "Français"),
        ("24-000004", "FR-ca"),
        ("24-000005", ""),  # blank: the default, English
    )

    report = run_import(municipality_a, data)

    assert (report.created, report.rejected) == (5, [])
    assert languages(municipality_a) == {
        "24-000001": "fr-ca",
        "24-000002": "en-ca",
        "24-000003": "fr-ca",
        "24-000004": "fr-ca",
        "24-000005": "en-ca",
    }
    assert "The column Langue gives each application's language of correspondence." in (
        report.notes
    )


@pytest.mark.parametrize("column", ["Language", "LANGUE", "correspondence_language"])
def test_the_column_is_found_by_any_of_its_names(municipality_a, column):
    run_import(municipality_a, csv_with_language(column, ("24-000001", "FR")))
    assert languages(municipality_a) == {"24-000001": "fr-ca"}


def test_a_value_that_is_no_language_rejects_its_row_and_the_rest_goes_in(municipality_a):
    data = csv_with_language("Language", ("24-000001", "fr"), ("24-000002", "Deutsch"))

    report = run_import(municipality_a, data)

    assert report.created == 1
    assert [(r.line, r.number, r.reason) for r in report.rejected] == [
        (
            3,
            "24-000002",
            "Language: unknown language of correspondence 'Deutsch' "
            "(known: English, French, Français, en, fr, en-CA, fr-CA)",
        )
    ]
    assert "1 row rejected" in report.summary()
    assert languages(municipality_a) == {"24-000001": "fr-ca"}


def test_without_a_language_column_applications_are_in_english(municipality_a):
    data = ("\r\n".join([HEADER, burlington_row("24-000001")]) + "\r\n").encode("utf-8")

    report = run_import(municipality_a, data)

    assert languages(municipality_a) == {"24-000001": "en-ca"}
    assert not any("language" in note for note in report.notes)


def test_a_reimport_changes_the_language_and_records_it(municipality_a):
    run_import(municipality_a, csv_with_language("Langue", ("24-000001", "en")))
    report = run_import(
        municipality_a, csv_with_language("Langue", ("24-000001", "fr")), source_name="b.csv"
    )

    assert report.updated == 1
    assert languages(municipality_a) == {"24-000001": "fr-ca"}
    assert Activity.objects.filter(verb="import_updated").get().summary == (
        "Updated from b.csv (mapping burlington), line 2: correspondence language"
    )


def test_a_blank_language_in_a_reimport_keeps_the_one_chosen(municipality_a):
    run_import(municipality_a, csv_with_language("Langue", ("24-000001", "fr")))
    report = run_import(municipality_a, csv_with_language("Langue", ("24-000001", "")))
    assert report.unchanged == 1
    assert languages(municipality_a) == {"24-000001": "fr-ca"}


def test_a_mapping_may_name_its_own_language_column(municipality_a, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        "[columns]\n"
        'number = "No"\napplied_on = "Applied"\naddress = "Where"\n'
        'description = "What"\ncorrespondence_language = "Lang"\n'
        "[on_create]\n"
        'applicant_name = "Unknown"\n'
    )
    data = (
        b"No,Applied,Where,What,Lang\n"
        b"S-1,2024-10-03,55 King St W,Deck,fr\n"
        b"S-2,2024-10-03,1 Main St,Deck,xx\n"
    )

    report = applications_import(municipality=municipality_a, data=data, mapping=load_mapping(path))

    assert languages(municipality_a) == {"S-1": "fr-ca"}
    assert [r.reason for r in report.rejected] == [
        "Lang: unknown language of correspondence 'xx' "
        "(known: English, French, Français, en, fr, en-CA, fr-CA)"
    ]


def test_the_admin_preview_shows_a_bad_language_as_a_row_not_imported(admin_user, municipality_a):
    data = csv_with_language("Langue", ("24-000001", "fr"), ("24-000002", "Klingon"))

    page = check(client_for(admin_user), municipality_a, data).content.decode()

    assert "1 row rejected" in page
    assert "The column Langue gives each application&#x27;s language of correspondence." in page
    assert (
        "<tr><td>3</td><td>24-000002</td><td>Langue: unknown language of correspondence "
        "&#x27;Klingon&#x27; (known: English, French, Français, en, fr, en-CA, fr-CA)</td></tr>"
    ) in page
    assert '<th scope="col">Language of correspondence</th>' in page
    assert (
        "<td>SF New Single Detached Dwelling – Single Detached Dwelling – New</td><td>Français</td>"
        in (page)
    )
    assert not Application.objects.exists()


def test_the_admin_preview_has_no_language_column_for_a_file_without_one(
    admin_user, municipality_a
):
    data = ("\r\n".join([HEADER, burlington_row("24-000001")]) + "\r\n").encode("utf-8")
    page = check(client_for(admin_user), municipality_a, data).content.decode()
    assert "1 application would be created" in page
    assert "Language of correspondence" not in page
    assert "language of correspondence" not in page

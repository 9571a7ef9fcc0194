"""Permit numbers (occupancy.numbering), called directly: the format check, one sequence per
municipality and key, restarting each year or not. test_admin.py shows the same rules
through the permit type's admin form and issued permits."""

import pytest
from django.urls import reverse
from django.utils import timezone

from occupancy.models import OccupancyPermitType, PermitNumberSequence
from occupancy.numbering import (
    NumberFormatError,
    check_number_format,
    next_permit_number,
    upcoming_permit_number,
)
from tests.conftest import client_for
from tests.factories import make_inspection

UNSAFE_FORMAT = (
    "Use the tokens {prefix}, {year} and {seq} with letters, digits, '-', '_' and '.' only: a "
    "permit number is part of its PDF's address and file name (no '/', no spaces)."
)


def permit_type(municipality, name="General", **fields) -> OccupancyPermitType:
    return OccupancyPermitType.objects.create(municipality=municipality, name=name, **fields)


def sequences() -> list[tuple]:
    return list(
        PermitNumberSequence.objects.order_by("municipality__slug", "key", "year").values_list(
            "municipality__slug", "key", "year", "last_value"
        )
    )


@pytest.mark.parametrize(
    "number_format, message",
    [
        ("", UNSAFE_FORMAT),
        ("<script>{seq}", UNSAFE_FORMAT),
        ("OCC-{seq}!", UNSAFE_FORMAT),
        ("{prefix}-{year}", "The format needs the {seq} token, e.g. {prefix}-{year}-{seq:04}."),
        ("OCC-2026-0001", "The format needs the {seq} token, e.g. {prefix}-{year}-{seq:04}."),
        ("{prefix}-{month}-{seq}", "Unknown token {month}: use {prefix}, {year} and {seq}."),
        ("{seq.real}", "Unknown token {seq.real}: use {prefix}, {year} and {seq}."),
        # After "not valid:", Python's own words.
        ("{prefix}-{seq", "The format is not valid: expected '}' before end of string."),
        ("{prefix}-{year}-{seq:zz}", "The format is not valid: Unknown format code 'z'"),
        ("{prefix:d}-{seq}", "The format is not valid: Unknown format code 'd'"),
    ],
)
def test_unusable_number_formats_are_refused_with_a_reason(number_format, message):
    with pytest.raises(NumberFormatError) as caught:
        check_number_format(number_format)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "number_format", ["{prefix}-{year}-{seq:04}", "{prefix}_{year}_{seq:03}", "{seq}", "B.{seq:06}"]
)
def test_usable_number_formats_pass(number_format):
    check_number_format(number_format)


def test_a_type_with_an_unusable_format_takes_no_number(municipality_a):
    general = permit_type(municipality_a, number_format="{prefix}-{year}")
    with pytest.raises(NumberFormatError):
        next_permit_number(permit_type=general, year=2026)
    assert sequences() == []


def test_numbers_restart_each_year(municipality_a):
    general = permit_type(municipality_a)
    numbers = [next_permit_number(permit_type=general, year=y) for y in (2026, 2026, 2027, 2026)]
    assert numbers == ["OCC-2026-0001", "OCC-2026-0002", "OCC-2027-0001", "OCC-2026-0003"]
    assert sequences() == [("alpha", "occupancy", 2026, 3), ("alpha", "occupancy", 2027, 1)]


def test_numbers_that_never_restart_run_on_across_years(municipality_a):
    general = permit_type(municipality_a, restart_each_year=False)
    numbers = [next_permit_number(permit_type=general, year=y) for y in (2026, 2027, 2027)]
    assert numbers == ["OCC-2026-0001", "OCC-2027-0002", "OCC-2027-0003"]
    assert sequences() == [("alpha", "occupancy", 0, 3)]


def test_types_with_one_sequence_key_share_numbers_and_other_keys_and_towns_do_not(
    municipality_a, municipality_b
):
    general = permit_type(municipality_a)
    partial = permit_type(municipality_a, "Partial", prefix="POC", number_format="{prefix}{seq}")
    temporary = permit_type(municipality_a, "Temporary", prefix="TOC", sequence_key="temporary")
    beta = permit_type(municipality_b)
    taken = [
        next_permit_number(permit_type=t, year=2026)
        for t in (general, partial, temporary, beta, general, temporary)
    ]
    assert taken == [
        "OCC-2026-0001",
        "POC2",
        "TOC-2026-0001",
        "OCC-2026-0001",
        "OCC-2026-0003",
        "TOC-2026-0002",
    ]
    assert sequences() == [
        ("alpha", "occupancy", 2026, 3),
        ("alpha", "temporary", 2026, 2),
        ("beta", "occupancy", 2026, 1),
    ]


def test_a_new_format_continues_the_sequence(municipality_a):
    general = permit_type(municipality_a)
    assert next_permit_number(permit_type=general, year=2026) == "OCC-2026-0001"
    general.number_format = "{prefix}.{seq:06}.{year}"
    general.save()
    assert next_permit_number(permit_type=general, year=2026) == "OCC.000002.2026"


# Issue 14, deliverable 6: a number is part of its PDF's address and file name and is stored
# in a 60-character column; every format is checked on a sample at the sequence 999999.
@pytest.mark.parametrize(
    "number_format, prefix, message",
    [
        ("{prefix}/{year}/{seq:04}", "OCC", UNSAFE_FORMAT),
        ("{prefix} {seq}", "OCC", UNSAFE_FORMAT),
        ("{prefix}%{seq}", "OCC", UNSAFE_FORMAT),
        (
            "{seq:070}",
            "OCC",
            f"At the sequence 999999 the format gives {'0' * 64}999999: 70 characters, but a "
            "permit number has at most 60.",
        ),
        (
            "{prefix}-{prefix}-{prefix}-{year}-{seq:06}",
            "ABCDEFGHIJKLMNOPQRST",
            "At the sequence 999999 the format gives ABCDEFGHIJKLMNOPQRST-ABCDEFGHIJKLMNOPQRST-"
            "ABCDEFGHIJKLMNOPQRST-2026-999999: 74 characters, but a permit number has at most 60.",
        ),
        (
            "{seq:0999999999}",
            "OCC",
            "{seq:0999999999} is far wider than a permit number can be: a number has at most 60 "
            "characters.",
        ),
        ("{seq:{year}}", "OCC", "The width of {seq} cannot be a token."),
        (
            "{prefix}..{seq}",
            "OCC",
            "At the sequence 999999 the format gives OCC..999999: use only letters, digits, "
            "'-', '_' and '.' (no '..', no '.' first, no / or spaces): a permit number is part "
            "of the PDF's address and file name.",
        ),
        (
            ".{seq}",
            "OCC",
            "At the sequence 999999 the format gives .999999: use only letters, digits, '-', "
            "'_' and '.' (no '..', no '.' first, no / or spaces): a permit number is part of the "
            "PDF's address and file name.",
        ),
        (
            "{prefix}-{seq}",
            "OC/C",
            "Use only letters, digits, '-', '_' and '.' in the prefix (no '..', no '.' first): it "
            "is part of every permit number, which is part of the PDF's address and file name.",
        ),
        ("{prefix}-{seq}", "OC C", "Use only letters, digits, '-', '_' and '.' in the prefix"),
    ],
)
def test_formats_giving_numbers_unsafe_in_an_address_or_too_long_are_refused(
    number_format, prefix, message
):
    with pytest.raises(NumberFormatError) as caught:
        check_number_format(number_format, prefix=prefix, year=2026)
    assert str(caught.value).startswith(message)


def test_a_usable_format_gives_its_sample_at_the_largest_plausible_sequence():
    assert check_number_format("{prefix}-{year}-{seq:04}", prefix="TOC", year=2026) == (
        "TOC-2026-999999"
    )
    assert check_number_format("{seq:060}", prefix="", year=2026) == "0" * 54 + "999999"


def test_a_type_whose_unsafe_format_was_saved_before_takes_no_number(municipality_a):
    """A format saved before issue 14 (e.g. with '/') fails the close with the reason rather
    than issue a permit whose address is broken; no number is used up."""
    general = permit_type(municipality_a, number_format="{prefix}/{year}/{seq:04}")
    with pytest.raises(NumberFormatError, match="no '/', no spaces"):
        next_permit_number(permit_type=general, year=2026)
    assert sequences() == []


def test_upcoming_number_is_the_one_the_sequence_gives_next(municipality_a):
    general = permit_type(municipality_a)
    partial = permit_type(municipality_a, "Partial", prefix="POC")
    never = permit_type(
        municipality_a, "Temporary", prefix="TOC", sequence_key="temp", restart_each_year=False
    )
    assert upcoming_permit_number(permit_type=general, year=2026) == "OCC-2026-0001"
    next_permit_number(permit_type=general, year=2026)
    next_permit_number(permit_type=partial, year=2026)
    # The types share the sequence: both will take the third number of 2026.
    assert upcoming_permit_number(permit_type=general, year=2026) == "OCC-2026-0003"
    assert upcoming_permit_number(permit_type=partial, year=2026) == "POC-2026-0003"
    assert upcoming_permit_number(permit_type=general, year=2027) == "OCC-2027-0001"
    next_permit_number(permit_type=never, year=2025)
    assert upcoming_permit_number(permit_type=never, year=2026) == "TOC-2026-0002"
    assert next_permit_number(permit_type=general, year=2026) == "OCC-2026-0003"


def type_post(municipality, **fields):
    data = {
        "municipality": municipality.pk,
        "name": "Temporary occupancy",
        "kind": "temporary",
        "language": "en-ca",
        "is_active": "on",
        "prefix": "TOC",
        "number_format": "{prefix}-{year}-{seq:03}",
        "sequence_key": "temporary",
        "restart_each_year": "on",
        "needs_expiry_date": "on",
        "conditions-TOTAL_FORMS": "0",
        "conditions-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


TYPE_ADD = reverse("admin:occupancy_occupancypermittype_add")


@pytest.mark.parametrize(
    "fields, field, message",
    [
        (
            {"number_format": "{seq:070}", "restart_each_year": ""},
            "number_format",
            f"At the sequence 999999 the format gives {'0' * 64}999999: 70 characters",
        ),
        ({"number_format": "{prefix}/{year}/{seq:04}"}, "number_format", UNSAFE_FORMAT),
        (
            {"prefix": "T/C"},
            "prefix",
            "Use only letters, digits, '-', '_' and '.' in the prefix",
        ),
        (
            {
                "prefix": "ABCDEFGHIJKLMNOPQRST",
                "number_format": "{prefix}-{prefix}-{prefix}-{seq}",
                "restart_each_year": "",
            },
            "number_format",
            "At the sequence 999999 the format gives ABCDEFGHIJKLMNOPQRST-ABCDEFGHIJKLMNOPQRST-",
        ),
    ],
)
def test_the_type_form_refuses_unsafe_numbers_at_the_field_with_the_sample(
    admin_user, municipality_a, fields, field, message
):
    response = client_for(admin_user).post(TYPE_ADD, type_post(municipality_a, **fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors[field]
    assert any(error.startswith(message) for error in errors), errors
    assert not OccupancyPermitType.objects.filter(name="Temporary occupancy").exists()


def saved_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_hint_on_saving_a_type_is_the_number_really_issued_next(admin_user, municipality_a):
    year = timezone.localdate().year
    client = client_for(admin_user)
    response = client.post(TYPE_ADD, type_post(municipality_a), follow=True)
    assert (
        f"The next permit of Temporary occupancy issued in {year} will be numbered "
        f"TOC-{year}-001." in saved_messages(response)
    )
    temporary = OccupancyPermitType.objects.get(name="Temporary occupancy")
    for _ in range(6):
        next_permit_number(permit_type=temporary, year=year)
    general = permit_type(municipality_a, sequence_key="temporary", prefix="GEN")
    change = reverse("admin:occupancy_occupancypermittype_change", args=[temporary.pk])
    conditions = {
        "conditions-TOTAL_FORMS": "0",
        "conditions-INITIAL_FORMS": "0",
    }
    response = client.post(change, {**type_post(municipality_a), **conditions}, follow=True)
    assert (
        f"The next permit of Temporary occupancy issued in {year} will be numbered "
        f"TOC-{year}-007 (unless a type sharing the sequence temporary issues one first)."
        in saved_messages(response)
    )
    assert next_permit_number(permit_type=general, year=year) == f"GEN-{year}-0007"


def test_a_permit_issued_with_a_slash_in_its_number_still_downloads_and_opens_in_the_admin(
    admin_user, inspector, application_a, occupancy_type_a, general_template
):
    """A number like OCC/2026/0001, issued before issue 14 refused '/' in formats (the row
    written as it was then: the database refuses to renumber an issued permit)."""
    from tests.permits.test_constraints import issue_raw_permit

    permit = issue_raw_permit(
        make_inspection(application_a, occupancy_type_a), inspector, "OCC/2026/0001"
    )
    pdf = permit.pdf.read()
    url = reverse("occupancy:permit_pdf", args=["alpha", "OCC/2026/0001"])
    assert url == "/occupancy/alpha/OCC/2026/0001.pdf"

    download = client_for(inspector).get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == pdf

    work_view = client_for(inspector).get(application_a.get_absolute_url()).content.decode()
    assert f'href="{url}"' in work_view

    admin_page = client_for(admin_user).get(
        reverse("admin:occupancy_occupancypermit_change", args=[permit.pk])
    )
    assert admin_page.status_code == 200
    assert f'<a href="{url}">OCC/2026/0001.pdf</a>' in admin_page.content.decode()
    # Another municipality's address for the same number is not it.
    assert client_for(inspector).get(url.replace("alpha", "beta")).status_code == 404

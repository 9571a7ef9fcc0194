"""Permit numbers (occupancy.numbering), called directly: the format check, one sequence per
municipality and key, restarting each year or not. test_admin.py shows the same rules
through the permit type's admin form and issued permits."""

import pytest

from occupancy.models import OccupancyPermitType, PermitNumberSequence
from occupancy.numbering import NumberFormatError, check_number_format, next_permit_number


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

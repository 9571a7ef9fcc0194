"""Permit numbers: the type's format, unique per municipality, without gaps or duplicates.

A number is taken under a row lock on its sequence, in the same transaction that issues the
permit: a concurrent close waits for the lock, and a rolled-back close gives its number
back. The unique constraint on (municipality, number) is the backstop.
"""

import re
import string

from occupancy.exceptions import OccupancyError
from occupancy.models import OccupancyPermitType, PermitNumberSequence

TOKENS = {"prefix", "year", "seq"}
_FORMAT_CHECK = re.compile(r"^[A-Za-z0-9{}:._/ -]+$")


class NumberFormatError(OccupancyError, ValueError):
    """A permit type's number format that cannot number permits; str(exc) says why."""


def check_number_format(number_format: str) -> None:
    """Raise NumberFormatError with a readable message unless the format is usable."""
    if not _FORMAT_CHECK.match(number_format or ""):
        raise NumberFormatError(
            "Use letters, digits, - _ . / and the tokens {prefix}, {year} and {seq}."
        )
    try:
        fields = [f for _, f, spec, _ in string.Formatter().parse(number_format) if f is not None]
    except ValueError as exc:
        raise NumberFormatError(f"The format is not valid: {exc}.") from None
    unknown = set(fields) - TOKENS
    if unknown:
        raise NumberFormatError(
            f"Unknown token {{{sorted(unknown)[0]}}}: use {{prefix}}, {{year}} and {{seq}}."
        )
    if "seq" not in fields:
        raise NumberFormatError("The format needs the {seq} token, e.g. {prefix}-{year}-{seq:04}.")
    try:
        format_number(number_format, prefix="OCC", year=2026, seq=7)
    except (ValueError, KeyError, IndexError) as exc:
        raise NumberFormatError(f"The format is not valid: {exc}.") from None


def format_number(number_format: str, *, prefix: str, year: int, seq: int) -> str:
    return number_format.format(prefix=prefix, year=year, seq=seq)


def next_permit_number(*, permit_type: OccupancyPermitType, year: int) -> str:
    """Take the next number of the type's sequence. Must run inside the issuing transaction."""
    check_number_format(permit_type.number_format)
    sequence_year = year if permit_type.restart_each_year else 0
    key = dict(municipality_id=permit_type.municipality_id, key=permit_type.sequence_key)
    # Create the counter row if this is the sequence's first number; a concurrent creator
    # is ignored, and both then queue on the row lock below.
    PermitNumberSequence.objects.bulk_create(
        [PermitNumberSequence(year=sequence_year, last_value=0, **key)], ignore_conflicts=True
    )
    sequence = PermitNumberSequence.objects.select_for_update().get(year=sequence_year, **key)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return format_number(
        permit_type.number_format, prefix=permit_type.prefix, year=year, seq=sequence.last_value
    )

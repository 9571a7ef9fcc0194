"""Permit numbers: the type's format, unique per municipality, without gaps or duplicates.

A number is taken under a row lock on its sequence, in the same transaction that issues the
permit: a concurrent close waits for the lock, and a rolled-back close gives its number
back. The unique constraint on (municipality, number) is the backstop.

A number is part of its PDF's address (/occupancy/<municipality>/<number>.pdf) and of the
PDF's file name, and is stored in OccupancyPermit.number: a format is accepted only if the
numbers it gives are made of characters safe in both and fit that column, checked on a
sample at the largest plausible sequence (check_number_format).
"""

import re
import string

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from occupancy.exceptions import OccupancyError
from occupancy.models import OccupancyPermit, OccupancyPermitType, PermitNumberSequence

TOKENS = {"prefix", "year", "seq"}
NUMBER_MAX_LENGTH = OccupancyPermit._meta.get_field("number").max_length
# The sequence a format is checked at: no municipality issues a million permits of a kind.
LARGEST_PLAUSIBLE_SEQ = 999999
SAFE_CHARACTERS = _("letters, digits, '-', '_' and '.'")
_SAFE_NUMBER = re.compile(r"^[A-Za-z0-9._-]+$")
_FORMAT_CHARACTERS = re.compile(r"^[A-Za-z0-9{}:._-]+$")
_SAFE_PREFIX = re.compile(r"^[A-Za-z0-9._-]*$")
# A width far beyond the column is refused before Python pads to it ({seq:0999999999} would
# take a gigabyte of memory to check); a smaller one is shown in the sample it gives.
_SPEC_NUMBER = re.compile(r"\d+")
_WIDEST_CHECKED = 200


class NumberFormatError(OccupancyError, ValueError):
    """A permit type's number format that cannot number permits; str(exc) says why."""


class PrefixError(NumberFormatError):
    """The prefix itself holds a character that cannot be in a permit number."""


def check_prefix(prefix: str) -> None:
    prefix = prefix or ""
    if not _SAFE_PREFIX.match(prefix) or ".." in prefix or prefix.startswith("."):
        raise PrefixError(
            gettext(
                "Use only %(characters)s in the prefix (no '..', no '.' first): it is part of "
                "every permit number, which is part of the PDF's address and file name."
            )
            % {"characters": SAFE_CHARACTERS}
        )


def check_number_format(number_format: str, *, prefix: str = "OCC", year: int | None = None) -> str:
    """The sample number of the format at the largest plausible sequence and this year (or
    `year`); NumberFormatError with a readable message unless the format is usable."""
    if not _FORMAT_CHARACTERS.match(number_format or ""):
        raise NumberFormatError(
            gettext(
                "Use the tokens {prefix}, {year} and {seq} with %(characters)s only: a permit "
                "number is part of its PDF's address and file name (no '/', no spaces)."
            )
            % {"characters": SAFE_CHARACTERS}
        )
    try:
        parsed = list(string.Formatter().parse(number_format))
    except ValueError as exc:
        raise NumberFormatError(
            gettext("The format is not valid: %(error)s.") % {"error": exc}
        ) from None
    fields = [field for _, field, _, _ in parsed if field is not None]
    unknown = set(fields) - TOKENS
    if unknown:
        raise NumberFormatError(
            gettext("Unknown token %(token)s: use {prefix}, {year} and {seq}.")
            % {"token": f"{{{sorted(unknown)[0]}}}"}
        )
    if "seq" not in fields:
        raise NumberFormatError(
            gettext("The format needs the {seq} token, e.g. {prefix}-{year}-{seq:04}.")
        )
    for _text, field, spec, _conversion in parsed:
        if spec and "{" in spec:
            raise NumberFormatError(
                gettext("The width of %(token)s cannot be a token.") % {"token": f"{{{field}}}"}
            )
        if any(_too_wide(width) for width in _SPEC_NUMBER.findall(spec or "")):
            raise NumberFormatError(
                gettext(
                    "%(token)s is far wider than a permit number can be: a number has at most "
                    "%(limit)s characters."
                )
                % {"token": f"{{{field}:{spec}}}", "limit": NUMBER_MAX_LENGTH}
            )
    check_prefix(prefix)
    year = timezone.localdate().year if year is None else year
    try:
        sample = format_number(number_format, prefix=prefix, year=year, seq=LARGEST_PLAUSIBLE_SEQ)
    except (ValueError, KeyError, IndexError) as exc:
        raise NumberFormatError(
            gettext("The format is not valid: %(error)s.") % {"error": exc}
        ) from None
    problem = number_problem(sample)
    if problem:
        raise NumberFormatError(
            gettext("At the sequence %(sequence)s the format gives %(sample)s: %(problem)s")
            % {"sequence": LARGEST_PLAUSIBLE_SEQ, "sample": _shown(sample), "problem": problem}
        )
    return sample


def _too_wide(digits: str) -> bool:
    digits = digits.lstrip("0")
    return len(digits) > 3 or int(digits or 0) > _WIDEST_CHECKED


def number_problem(number: str) -> str:
    """Why a rendered number cannot be a permit's number ('' if it can)."""
    if len(number) > NUMBER_MAX_LENGTH:
        return gettext("%(length)s characters, but a permit number has at most %(limit)s.") % {
            "length": len(number),
            "limit": NUMBER_MAX_LENGTH,
        }
    if not _SAFE_NUMBER.match(number) or ".." in number or number.startswith("."):
        return gettext(
            "use only %(characters)s (no '..', no '.' first, no / or spaces): a permit number "
            "is part of the PDF's address and file name."
        ) % {"characters": SAFE_CHARACTERS}
    return ""


def _shown(number: str) -> str:
    return number if len(number) <= 80 else number[:80] + "…"


def format_number(number_format: str, *, prefix: str, year: int, seq: int) -> str:
    return number_format.format(prefix=prefix, year=year, seq=seq)


def _sequence_of(permit_type: OccupancyPermitType, year: int) -> dict:
    return dict(
        municipality_id=permit_type.municipality_id,
        key=permit_type.sequence_key,
        year=year if permit_type.restart_each_year else 0,
    )


def upcoming_permit_number(*, permit_type: OccupancyPermitType, year: int | None = None) -> str:
    """The number the type's next permit will get if issued now (this year unless `year`),
    read without a lock: a hint for the administrator, never a reservation."""
    year = timezone.localdate().year if year is None else year
    last = (
        PermitNumberSequence.objects.filter(**_sequence_of(permit_type, year))
        .values_list("last_value", flat=True)
        .first()
    ) or 0
    return format_number(
        permit_type.number_format, prefix=permit_type.prefix, year=year, seq=last + 1
    )


def next_permit_number(*, permit_type: OccupancyPermitType, year: int) -> str:
    """Take the next number of the type's sequence. Must run inside the issuing transaction."""
    check_number_format(permit_type.number_format, prefix=permit_type.prefix, year=year)
    key = _sequence_of(permit_type, year)
    # Create the counter row if this is the sequence's first number; a concurrent creator
    # is ignored, and both then queue on the row lock below.
    PermitNumberSequence.objects.bulk_create(
        [PermitNumberSequence(last_value=0, **key)], ignore_conflicts=True
    )
    sequence = PermitNumberSequence.objects.select_for_update().get(**key)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    number = format_number(
        permit_type.number_format, prefix=permit_type.prefix, year=year, seq=sequence.last_value
    )
    # Past the plausible sequence a format may outgrow the column: refuse rather than fail
    # at the insert (the issuing transaction gives the number back).
    problem = number_problem(number)
    if problem:
        raise NumberFormatError(
            gettext("The next number would be %(number)s: %(problem)s")
            % {"number": _shown(number), "problem": problem}
        )
    return number

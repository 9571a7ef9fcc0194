"""Cleaning of imported values: spacing, civic addresses (unit split out, title case), postal
codes, provinces and dates."""

import datetime
import functools
import re

from core.models import Province

DIRECTIONS = {"N", "S", "E", "W", "NE", "NW", "SE", "SW"}
_DESIGNATOR = r"(?:(?:UNIT|SUITE|STE|APT|APARTMENT)\b\.?|#)"
_UNIT = r"(?P<unit>[A-Z0-9][A-Z0-9-]{0,19})"
# The unit at the end, after a space or comma. Each position where a search tries it costs at
# most a designator and 20 characters, so finding it is linear in the address. (It was one
# pattern for the street as well, `^(.*[A-Z].*?)[\s,]+…$`, whose backtracking tried every
# split of the street: a 40,001-character address took 28 s.)
_TRAILING_UNIT = re.compile(rf"(?<=[\s,]){_DESIGNATOR}\s*{_UNIT}$", re.I)
_STREET_LETTER = re.compile(r"[A-Z]", re.I)
_LEADING_UNIT = re.compile(rf"^{_DESIGNATOR}\s*{_UNIT}\s*[,-]?\s+(?P<street>\d.*)$", re.I)
_UNIT_PREFIX = re.compile(rf"^{_DESIGNATOR}\s*", re.I)
_LETTERS = re.compile(r"[^\W\d_]+")
_POSTAL_CODE = re.compile(r"[A-Z]\d[A-Z]\d[A-Z]\d")
_PROVINCES = {
    **{code.casefold(): code for code in Province.values},
    **{str(label).casefold(): code for code, label in Province.choices},
    "ont": "ON",
    "que": "QC",
    "pq": "QC",
}


def clean_text(value: str) -> str:
    """Trimmed, with runs of spaces, tabs and line breaks collapsed to one space."""
    return " ".join(value.split())


def _capitalise_word(word: str) -> str:
    def letters(match: re.Match) -> str:
        start, run = match.start(), match.group()
        before = word[start - 1] if start else ""
        if before.isdigit() or (before == "'" and len(run) == 1):
            return run  # 2nd, 3rd; Walker's
        return run[0].upper() + run[1:]

    return _LETTERS.sub(letters, word.lower())


def title_case(text: str) -> str:
    """`1268 ABBEY CRT.` → `1268 Abbey Crt.`; text already in mixed case is kept as it is.
    Civic numbers (1268A) and a trailing direction (E, NW) stay upper case."""
    if not text or text != text.upper():
        return text
    words = text.split(" ")
    out = []
    for index, word in enumerate(words):
        if index == 0 and word[:1].isdigit():
            out.append(word)
        elif index == len(words) - 1 and index > 0 and word in DIRECTIONS:
            out.append(word)
        else:
            out.append(_capitalise_word(word))
    return " ".join(out)


def clean_unit(value: str) -> str:
    """`Unit 25`, `#25`, `suite 25` → `25`."""
    return _UNIT_PREFIX.sub("", clean_text(value)).upper()


@functools.lru_cache(maxsize=8192)
def split_address(address: str, unit: str = "") -> tuple[str, str]:
    """A civic address as (street address, unit): spaces collapsed, the unit designator
    (`UNIT 25`, `SUITE 4`, `#3`, before or after the street) split out, title case.
    A unit given separately wins over one found in the address."""
    text = clean_text(address).strip(" ,")
    found = ""
    trailing = _trailing_unit(text)
    if trailing:
        text, found = trailing
    elif match := _LEADING_UNIT.match(text):
        text, found = match.group("street").strip(" ,"), match.group("unit")
    unit = clean_unit(unit) or found.upper()
    return title_case(text), unit


def _trailing_unit(text: str) -> tuple[str, str] | None:
    """(street, unit) when the address ends in a unit designator and its unit and the street
    before it has a letter (`55 KING ST W #7`; not `#7`, nor `12 #7`), else None."""
    start = 0
    while match := _TRAILING_UNIT.search(text, start):
        street = text[: match.start()].strip(" ,")
        if _STREET_LETTER.search(street):
            return street, match.group("unit")
        start = match.start() + 1
    return None


def clean_postal_code(value: str) -> str:
    """Canadian postal codes as `L7R 3Y4`; anything else trimmed and upper-cased."""
    compact = re.sub(r"\s+", "", value).upper()
    if _POSTAL_CODE.fullmatch(compact):
        return f"{compact[:3]} {compact[3:]}"
    return clean_text(value).upper()


def clean_province(value: str) -> str:
    """`ON`, `on`, `Ontario`, `Ont.` → `ON`; an unknown value is returned for validation to
    refuse with its own message."""
    text = clean_text(value).rstrip(".")
    return _PROVINCES.get(text.casefold(), text)


class DateParser:
    """Parses dates in the formats of a mapping; each distinct text is parsed once."""

    def __init__(self, formats: tuple[str, ...]):
        self.formats = formats
        self._cache: dict[str, datetime.date] = {}

    def example(self) -> str:
        return datetime.datetime(2024, 10, 3).strftime(self.formats[0])

    def parse(self, text: str) -> datetime.date:
        """The date, or ValueError when no format fits."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        for fmt in self.formats:
            try:
                value = datetime.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            self._cache[text] = value
            return value
        raise ValueError(text)


# How files write a language: codes (ISO 639-1 and -2, with or without a region) and names in
# English and French. Compared case-insensitively, spacing collapsed.
_LANGUAGES = {
    **dict.fromkeys(
        ("en", "eng", "en-ca", "en_ca", "en-us", "en-gb", "english", "anglais", "e"), "en-ca"
    ),
    **dict.fromkeys(
        ("fr", "fra", "fre", "fr-ca", "fr_ca", "fr-fr", "french", "français", "francais", "f"),
        "fr-ca",
    ),
}
KNOWN_LANGUAGES = "English, French, Français, en, fr, en-CA, fr-CA"


def clean_language(value: str) -> str | None:
    """`en`, `EN`, `English`, `en-CA` → `en-ca`; `fr`, `French`, `Français`, `fr-CA` →
    `fr-ca` (settings.LANGUAGES); None for anything else."""
    return _LANGUAGES.get(clean_text(value).casefold())

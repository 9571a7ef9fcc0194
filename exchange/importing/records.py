"""From CSV rows to application records: values mapped and cleaned, rows of one permit number
merged, each record validated as the model would. No database access."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils.translation import gettext

from core.audit import excerpt
from core.csv_safe import from_spreadsheet_safe
from core.numbers import grouped
from exchange.importing.mapping import (
    CHOICES,
    DATE_FIELDS,
    LANGUAGE_COLUMNS,
    LANGUAGE_FIELD,
    TEXT_FIELDS,
    Mapping,
)
from exchange.importing.normalise import (
    KNOWN_LANGUAGES,
    DateParser,
    clean_language,
    clean_postal_code,
    clean_province,
    clean_text,
    clean_unit,
    split_address,
    title_case,
)
from exchange.importing.reading import CsvRow, ImportFileError
from permits.models import Application

# Model fields that validation leaves alone: set by the importer or checked by the database.
_NOT_VALIDATED = ["municipality", "search_text", "last_activity_at", "created_at", "updated_at"]

# The longest text a column may hold, checked before any other work on the row: a cell of
# 40,001 characters costs a length, never a parse, and no message quotes more than this.
# Text fields: the model field's max_length. A column that may carry a unit's designator
# ("2022 ATKINSON DR. APARTMENT 25", "Suite 4") gets room for it. Dates and values that a
# value map translates are the file's own words, bounded generously.
DATE_TEXT_MAX = 40
MAPPED_TEXT_MAX = 100
DESIGNATOR_ALLOWANCE = len(" APARTMENT. ")
NUMBER_SHOWN_MAX = 40
NOTES_MAX_LENGTH = Application._meta.get_field("data_quality_notes").max_length


def column_limits() -> dict[str, int]:
    """Mapping target → the most characters its column may hold (after spacing is collapsed)."""

    def max_length(name: str) -> int | None:
        return Application._meta.get_field(name).max_length

    limits: dict[str, int | None] = dict.fromkeys(DATE_FIELDS, DATE_TEXT_MAX)
    limits.update(dict.fromkeys(CHOICES, MAPPED_TEXT_MAX))
    for name in TEXT_FIELDS:
        if name not in limits and name != "address":
            limits[name] = max_length(name)  # None for a text field without a maximum
    limits["address"] = max_length("street_address") + max_length("unit") + DESIGNATOR_ALLOWANCE
    limits["unit"] += DESIGNATOR_ALLOWANCE
    return {name: limit for name, limit in limits.items() if limit}


def cell_text(cell: str) -> str:
    """A cell's value: the quote an export put before a formula-like value removed
    (core.csv_safe), spacing collapsed."""
    return clean_text(from_spreadsheet_safe(cell))


@dataclass(frozen=True)
class Rejection:
    line: int
    number: str
    reason: str


@dataclass(frozen=True)
class DataQualityWarning:
    """Something odd in a record that is imported as the source has it (history is kept
    whole), said in the import's summary and on the application's history."""

    line: int
    number: str
    what: str


@dataclass
class Record:
    """One application as it will be saved: the values of its permit number's newest row."""

    number: str
    values: dict[str, Any]
    lines: list[int]  # every row merged into it, in file order
    warnings: list[str] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.lines[0]


@dataclass
class Prepared:
    records: list[Record] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    rows: int = 0
    skipped: int = 0  # blank rows
    merged: int = 0  # rows folded into a newer row of the same permit number


class RowError(ValueError):
    pass


class RowReader:
    """Turns one CSV row into the application values it gives, per the mapping."""

    def __init__(self, mapping: Mapping, header: list[str], on_create: dict[str, str]):
        self.mapping = mapping
        self.on_create = on_create
        self.width = len(header)
        index = {name.casefold(): i for i, name in reversed(list(enumerate(header)))}
        missing = [c for c in mapping.required_columns if c.casefold() not in index]
        if missing:
            raise ImportFileError(
                gettext(
                    "The file has no column %(missing)s (mapping %(mapping)s). "
                    "Its columns: %(columns)s. Is it the right mapping?"
                )
                % {
                    "missing": ", ".join(missing),
                    "mapping": mapping.name,
                    "columns": ", ".join(h for h in header if h) or gettext("none"),
                }
            )
        self.columns = {
            target: [(name, index.get(name.casefold())) for name in names]
            for target, names in mapping.columns.items()
        }
        # The language of correspondence, from the mapping's column or a column of a known
        # name (mapping.LANGUAGE_COLUMNS); without one, new applications are in English.
        if LANGUAGE_FIELD not in self.columns:
            found = next((n.casefold() for n in LANGUAGE_COLUMNS if n.casefold() in index), "")
            if found:
                self.columns[LANGUAGE_FIELD] = [(header[index[found]], index[found])]
        name, i = self.columns.get(LANGUAGE_FIELD, [("", None)])[0]
        self.language_column = name if i is not None else ""
        self.dates = DateParser(mapping.date_formats)
        limits = column_limits()
        self.limits = [
            (name, i, limits[target])
            for target, columns in self.columns.items()
            if target in limits
            for name, i in columns
            if i is not None
        ]

    def _cell(self, cells: list[str], target: str) -> tuple[str, str]:
        name, i = self.columns[target][0]
        return name, cell_text(cells[i]) if i is not None else ""

    def _check_lengths(self, cells: list[str]) -> None:
        for column, i, limit in self.limits:
            if len(cells[i]) > limit:  # the raw cell first: padding may still fit
                length = len(clean_text(cells[i]))
                if length > limit:
                    raise RowError(
                        gettext("%(column)s is %(length)s characters; at most %(limit)s")
                        % {"column": column, "length": grouped(length), "limit": grouped(limit)}
                    )

    def values(self, cells: list[str]) -> dict[str, Any]:
        if len(cells) < self.width or (
            len(cells) > self.width and any(c.strip() for c in cells[self.width :])
        ):
            raise RowError(
                gettext("it has %(values)s values, the header names %(columns)s columns")
                % {"values": len(cells), "columns": self.width}
            )
        self._check_lengths(cells)
        values: dict[str, Any] = {}
        for target in self.columns:
            if target == "description":
                parts = [cell_text(cells[i]) for _, i in self.columns[target] if i is not None]
                text = " – ".join(dict.fromkeys(p for p in parts if p))
                if text:
                    values["description"] = text
                continue
            column, text = self._cell(cells, target)
            if target in DATE_FIELDS:
                if text:
                    try:
                        values[target] = self.dates.parse(text)
                    except ValueError:
                        raise RowError(
                            gettext("%(column)s %(text)s is not a date (expected e.g. %(example)s)")
                            % {
                                "column": column,
                                "text": repr(text),
                                "example": repr(self.dates.example()),
                            }
                        ) from None
                continue
            if target in self.mapping.values:
                mapped = self.mapping.map_value(target, text)
                if mapped is None:
                    raise RowError(
                        self._unknown(
                            column, target, text, ", ".join(self.mapping.known_values[target])
                        )
                    )
                values[target] = mapped
            elif target == LANGUAGE_FIELD:
                if text:
                    language = clean_language(text)
                    if language is None:
                        raise RowError(self._unknown(column, target, text, KNOWN_LANGUAGES))
                    values[target] = language
            elif text:
                values[target] = text
        if not values.get("number"):
            raise RowError(
                gettext("no permit number (%(column)s is empty)")
                % {"column": self.columns["number"][0][0]}
            )
        if "applied_on" not in values:
            raise RowError(
                gettext("no applied date (%(column)s is empty)")
                % {"column": self.columns["applied_on"][0][0]}
            )
        self._clean_address(values)
        return values

    @staticmethod
    def _unknown(column: str, target: str, text: str, known: str) -> str:
        """Why a value a column must give from a known list is refused."""
        if not text:
            return gettext("%(column)s: no value (known: %(known)s)") % {
                "column": column,
                "known": known,
            }
        return gettext("%(column)s: unknown %(field)s %(text)s (known: %(known)s)") % {
            "column": column,
            "field": field_label(target),
            "text": repr(text),
            "known": known,
        }

    def number_of(self, cells: list[str]) -> str:
        """The row's permit number as a rejection names it (a long one shortened)."""
        i = self.columns["number"][0][1]
        if i is None or i >= len(cells):
            return ""
        number = clean_text(cells[i][: NUMBER_SHOWN_MAX * 4])
        return number if len(number) <= NUMBER_SHOWN_MAX else number[: NUMBER_SHOWN_MAX - 1] + "…"

    def _clean_address(self, values: dict[str, Any]) -> None:
        address = values.pop("address", None) or values.get("street_address", "")
        if not address:
            column = self.columns.get("address", self.columns.get("street_address"))[0][0]
            raise RowError(gettext("no address (%(column)s is empty)") % {"column": column})
        values["street_address"], unit = split_address(address, values.get("unit", ""))
        if unit:
            values["unit"] = unit
        if "city" in values:
            values["city"] = title_case(values["city"])
        if "province" in values:
            values["province"] = clean_province(values["province"])
        if "postal_code" in values:
            values["postal_code"] = clean_postal_code(values["postal_code"])
        if "unit" in values:
            values["unit"] = clean_unit(values["unit"])


def _newest_first_key(item: tuple[int, dict]) -> tuple:
    line, values = item
    return (
        values["applied_on"],
        values.get("permit_issued_on") or datetime.date.min,
        line,
    )


def prepare(rows: Iterable[CsvRow], *, reader: RowReader, on_create: dict[str, str]) -> Prepared:
    """Rows → records, one per permit number (the newest row's values, the earliest applied
    date), and the rows that cannot be imported with their reasons."""
    out = Prepared()
    groups: dict[str, list[tuple[int, dict]]] = {}
    for row in rows:
        out.rows += 1
        if not any(cell.strip() for cell in row.cells):
            out.skipped += 1
            continue
        if row.problem:
            out.rejections.append(Rejection(row.line, "", row.problem))
            continue
        try:
            values = reader.values(row.cells)
        except RowError as exc:
            out.rejections.append(Rejection(row.line, reader.number_of(row.cells), str(exc)))
            continue
        groups.setdefault(values["number"], []).append((row.line, values))
    for number, items in groups.items():
        newest = max(items, key=_newest_first_key)[1]
        values = {**newest, "applied_on": min(v["applied_on"] for _, v in items)}
        lines = [line for line, _ in items]
        warnings = data_quality_warnings(values)
        # Always set, "" when nothing is odd: a corrected file clears an earlier warning.
        values["data_quality_notes"] = excerpt("; ".join(warnings), NOTES_MAX_LENGTH)
        problem = validate(values, on_create=on_create)
        if problem:
            out.rejections += [Rejection(line, number, problem) for line in lines]
            continue
        out.merged += len(items) - 1
        out.records.append(Record(number=number, values=values, lines=lines, warnings=warnings))
    out.rejections.sort(key=lambda r: r.line)
    return out


def data_quality_warnings(values: dict[str, Any]) -> list[str]:
    """What is odd in a record but imported all the same: a department's history keeps every
    permit it has, as its old system recorded it. (Entered in Threshold, the same dates are
    refused: the check constraint on the application allows them only with these notes.)"""
    issued, applied = values.get("permit_issued_on"), values["applied_on"]
    if issued is not None and issued < applied:
        # Kept in the application's notes and history: in English, as stored text is.
        return [f"issued date {issued:%Y-%m-%d} is before the applied date {applied:%Y-%m-%d}"]
    return []


def field_label(name: str) -> str:
    """An application field as a message names it: its verbose name ("work type")."""
    try:
        return str(Application._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name.replace("_", " ")


def validate(values: dict[str, Any], *, on_create: dict[str, str]) -> str:
    """Why the model would refuse these values, or "" when it takes them."""
    application = Application(**{**on_create, **values})
    try:
        application.clean_fields(exclude=_NOT_VALIDATED)
    except ValidationError as exc:
        return "; ".join(
            gettext("%(field)s: %(messages)s")
            % {"field": field_label(name), "messages": " ".join(messages)}
            for name, messages in exc.message_dict.items()
        )
    return ""

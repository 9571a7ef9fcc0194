"""From the bytes of an uploaded or given file to CSV rows with their line numbers.

Files are expected in UTF-8 (a BOM is fine). A file with no UTF-8 text at all is read as
Windows-1252, Excel's "CSV" on Windows, with a note; in a UTF-8 file, rows on lines that are
not UTF-8 are rejected, the others still go in.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SAVE_AS_HINT = 'save it from the spreadsheet as "CSV UTF-8 (comma delimited)"'


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; str(exc) tells the user why and what to do."""


@dataclass
class DecodedText:
    lines: list[str]
    bad_lines: dict[int, str] = field(default_factory=dict)  # line number → problem
    notes: list[str] = field(default_factory=list)


def decode(data: bytes) -> DecodedText:
    """The file's lines as text, with the lines that could not be decoded."""
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(f"This is a spreadsheet workbook, not a CSV file: {SAVE_AS_HINT}.")
    notes = []
    if data.startswith(UTF16_BOMS):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"The file is damaged UTF-16 text: {SAVE_AS_HINT}.") from exc
        notes.append("The file is UTF-16 text; it was read as such.")
    data = data.removeprefix(UTF8_BOM)
    if b"\x00" in data:
        raise ImportFileError(
            f"The file contains NUL bytes: it is not CSV text (UTF-16 or binary?); {SAVE_AS_HINT}."
        )
    raw_lines = data.splitlines(keepends=True)
    lines: list[str] = []
    bad: dict[int, str] = {}
    has_utf8_text = False
    for number, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad[number] = f"byte 0x{raw[exc.start]:02X} at position {exc.start + 1}"
            text = raw.decode("utf-8", errors="replace")
        else:
            has_utf8_text = has_utf8_text or not raw.isascii()
        lines.append(text)
    if bad and not has_utf8_text:
        return _decode_legacy(raw_lines, notes)
    problems = {
        number: f"line {number} is not UTF-8 text ({where}); {SAVE_AS_HINT}"
        for number, where in bad.items()
    }
    return DecodedText(lines=lines, bad_lines=problems, notes=notes)


def _decode_legacy(raw_lines: list[bytes], notes: list[str]) -> DecodedText:
    lines: list[str] = []
    bad: dict[int, str] = {}
    for number, raw in enumerate(raw_lines, start=1):
        try:
            lines.append(raw.decode("cp1252"))
        except UnicodeDecodeError as exc:
            bad[number] = (
                f"line {number} is neither UTF-8 nor Windows-1252 text "
                f"(byte 0x{raw[exc.start]:02X} at position {exc.start + 1}); {SAVE_AS_HINT}"
            )
            lines.append(raw.decode("cp1252", errors="replace"))
    notes.append(
        "The file is not UTF-8: it was read as Windows-1252 (Excel's CSV on Windows). "
        "Check accented letters in the result; to be sure, " + SAVE_AS_HINT + "."
    )
    return DecodedText(lines=lines, bad_lines=bad, notes=notes)


@dataclass
class CsvRow:
    line: int  # the line the row starts on; the header is line 1
    cells: list[str]
    problem: str = ""  # set when a line of the row could not be decoded


def read_rows(decoded: DecodedText, *, delimiter: str = ",") -> tuple[list[str], Iterator[CsvRow]]:
    """The header (names trimmed) and an iterator over the rows after it."""
    reader = csv.reader(iter(decoded.lines), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    except csv.Error as exc:
        raise ImportFileError(f"Line 1 is not a CSV header: {exc}.") from exc
    if any(number <= reader.line_num for number in decoded.bad_lines):
        raise ImportFileError(f"The header {decoded.bad_lines[min(decoded.bad_lines)]}.")
    header = [name.strip() for name in header]
    if not any(header):
        raise ImportFileError("The first line of the file is empty: it must name the columns.")
    return header, _rows(reader, decoded.bad_lines)


def _rows(reader, bad_lines: dict[int, str]) -> Iterator[CsvRow]:
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"Line {reader.line_num} cannot be read as CSV: {exc}.") from exc
        end = previous_end = reader.line_num
        problem = ""
        if bad_lines:
            problem = next((bad_lines[n] for n in range(start, end + 1) if n in bad_lines), "")
        yield CsvRow(line=start, cells=cells, problem=problem)

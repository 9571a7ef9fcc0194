"""From an uploaded or given file to CSV rows with their line numbers, streamed.

Files are expected in UTF-8 (a BOM is fine). A file with no UTF-8 text at all is read as
Windows-1252, Excel's "CSV" on Windows, with a note; in a UTF-8 file, rows on lines that are
not UTF-8 are rejected, the others still go in.

The file is read twice, line by line, never whole: a first pass decides the encoding and
finds the lines that cannot be decoded (which needs the whole file: one accented letter
anywhere makes it UTF-8), the second gives the lines to the CSV reader. Memory stays at a
line, whatever the file's size; the rows' values are kept by the importer, not here.
"""

import codecs
import contextlib
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.utils.translation import gettext

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Bytes that cannot be decoded come through as lone surrogates (errors="surrogateescape"),
# so a line's problem is found, and its exact bytes recovered, without a second read.
_ESCAPED = re.compile("[\udc80-\udcff]")


def save_as_hint() -> str:
    return gettext('save it from the spreadsheet as "CSV UTF-8 (comma delimited)"')


def nul_bytes() -> str:
    return gettext(
        "The file contains NUL bytes: it is not CSV text (UTF-16 or binary?); %(hint)s."
    ) % {"hint": save_as_hint()}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; str(exc) tells the user why and what to do."""


@dataclass
class DecodedText:
    lines: Iterable[str]  # the file's lines, read again each time it is iterated
    bad_lines: dict[int, str] = field(default_factory=dict)  # line number → problem
    notes: list[str] = field(default_factory=list)


def decode(source: bytes | BinaryIO) -> DecodedText:
    """The file's lines as text, with the lines that could not be decoded. `source` is the
    file's bytes or a seekable binary file (an upload, an open file): it is read from its
    start, line by line, and left open."""
    handle = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    handle.seek(0)
    head = handle.read(4)
    if head.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            gettext("This is a spreadsheet workbook, not a CSV file: %(hint)s.")
            % {"hint": save_as_hint()}
        )
    if head.startswith(UTF16_BOMS):
        _scan_utf16(handle)
        return DecodedText(
            lines=_Lines(handle, "utf-16"),
            notes=[gettext("The file is UTF-16 text; it was read as such.")],
        )
    bad, has_utf8_text = _scan(handle, "utf-8-sig")
    if bad and not has_utf8_text:
        legacy_bad, _ = _scan(handle, "cp1252")
        problems = {
            number: gettext(
                "line %(line)s is neither UTF-8 nor Windows-1252 text (%(where)s); %(hint)s"
            )
            % {"line": number, "where": where, "hint": save_as_hint()}
            for number, where in legacy_bad.items()
        }
        note = gettext(
            "The file is not UTF-8: it was read as Windows-1252 (Excel's CSV on Windows). "
            "Check accented letters in the result; to be sure, %(hint)s."
        ) % {"hint": save_as_hint()}
        return DecodedText(_Lines(handle, "cp1252", problems), problems, [note])
    problems = {
        number: gettext("line %(line)s is not UTF-8 text (%(where)s); %(hint)s")
        % {"line": number, "where": where, "hint": save_as_hint()}
        for number, where in bad.items()
    }
    return DecodedText(lines=_Lines(handle, "utf-8-sig", problems), bad_lines=problems)


def _text_lines(handle: BinaryIO, encoding: str, errors: str = "surrogateescape"):
    """The lines of the file as text, split where bytes.splitlines() would (\\r, \\n, \\r\\n)
    and with their endings, for the CSV reader. The caller's file stays open."""
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding=encoding, errors=errors, newline="")
    try:
        yield from text
    finally:
        # Not closed with the wrapper: the file is the caller's. A reading stopped early
        # (a file refused at its header) ends when the caller may have closed it already.
        with contextlib.suppress(ValueError):
            text.detach()


def _scan(handle: BinaryIO, encoding: str) -> tuple[dict[int, str], bool]:
    """The lines that are not `encoding` text (number → where), and whether any line is
    non-ASCII text that is."""
    bad: dict[int, str] = {}
    has_text = False
    for number, line in enumerate(_text_lines(handle, encoding), start=1):
        if "\x00" in line:
            raise ImportFileError(nul_bytes())
        if line.isascii():
            continue
        if _ESCAPED.search(line):
            raw = line.encode(_raw_codec(encoding), "surrogateescape")
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as exc:
                bad[number] = gettext("byte %(byte)s at position %(position)s") % {
                    "byte": f"0x{raw[exc.start]:02X}",
                    "position": exc.start + 1,
                }
        else:
            has_text = True
    return bad, has_text


def _raw_codec(encoding: str) -> str:
    """The codec that gives a decoded line's bytes back (utf-8-sig would add a BOM)."""
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _scan_utf16(handle: BinaryIO) -> None:
    try:
        for line in _text_lines(handle, "utf-16", errors="strict"):
            if "\x00" in line:
                raise ImportFileError(nul_bytes())
    except UnicodeError as exc:
        raise ImportFileError(
            gettext("The file is damaged UTF-16 text: %(hint)s.") % {"hint": save_as_hint()}
        ) from exc


class _Lines:
    """The lines of the file in one encoding, each iteration reading it again; a line that
    could not be decoded has its undecodable bytes as U+FFFD (its row is rejected anyway)."""

    def __init__(self, handle: BinaryIO, encoding: str, bad_lines: dict[int, str] | None = None):
        self.handle, self.encoding, self.bad_lines = handle, encoding, bad_lines or {}

    def __iter__(self) -> Iterator[str]:
        for number, line in enumerate(_text_lines(self.handle, self.encoding), start=1):
            if number in self.bad_lines:
                raw = line.encode(_raw_codec(self.encoding), "surrogateescape")
                line = raw.decode(self.encoding, errors="replace")
            yield line


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
        raise ImportFileError(gettext("The file is empty.")) from None
    except csv.Error as exc:
        raise ImportFileError(
            gettext("Line 1 is not a CSV header: %(error)s.") % {"error": exc}
        ) from exc
    if any(number <= reader.line_num for number in decoded.bad_lines):
        raise ImportFileError(
            gettext("The header %(problem)s.")
            % {"problem": decoded.bad_lines[min(decoded.bad_lines)]}
        )
    header = [name.strip() for name in header]
    if not any(header):
        raise ImportFileError(
            gettext("The first line of the file is empty: it must name the columns.")
        )
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
            raise ImportFileError(
                gettext("Line %(line)s cannot be read as CSV: %(error)s.")
                % {"line": reader.line_num, "error": exc}
            ) from exc
        end = previous_end = reader.line_num
        problem = ""
        if bad_lines:
            problem = next((bad_lines[n] for n in range(start, end + 1) if n in bad_lines), "")
        yield CsvRow(line=start, cells=cells, problem=problem)

"""CSV cells a spreadsheet will not run as a formula (CSV injection, OWASP).

Excel, LibreOffice and Google Sheets treat a cell that starts with `=`, `+`, `-` or `@` as a
formula, and a tab or carriage return first can hide one: a description or an inspection
type named `=HYPERLINK("http://evil","x")` would become a live link (or worse, DDE) on the
desk of whoever opens the open-data file. Every CSV export writes its cells through
`spreadsheet_safe`, which prefixes such a cell with a single quote: spreadsheets then show
it as text. A negative number is quoted too, as OWASP recommends: the exports hold no
numbers (dates are YYYY-MM-DD, permit numbers start with a letter or digit), so nothing a
program reads as a number is changed.

The importer reverses it (`from_spreadsheet_safe`), so Threshold's own export imports back
as it was.
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def _quoted_formula(text: str) -> bool:
    """Whether the text, after any quotes it starts with, starts a formula: such a text gets
    one more quote, so a value that really starts with `'=` reads back as it was."""
    return text.lstrip(QUOTE).startswith(FORMULA_TRIGGERS)


def spreadsheet_safe(value) -> str:
    """The cell as text, with a single quote before it when it would start a formula."""
    text = "" if value is None else str(value)
    return QUOTE + text if _quoted_formula(text) else text


def spreadsheet_safe_row(row: dict) -> dict:
    return {name: spreadsheet_safe(value) for name, value in row.items()}


def from_spreadsheet_safe(text: str) -> str:
    """A cell as `spreadsheet_safe` wrote it, back to its value: the quote it added removed."""
    if text.startswith(QUOTE) and _quoted_formula(text):
        return text[1:]
    return text

"""Text as printed on documents anyone may hold.

An order's "Issued to" is typed as "Name, role and contact", and the contact is often a
personal phone number. The order itself keeps it (staff call that person); an occupancy
permit, handed to owners, buyers and lenders for decades, prints the name and role only.
The form keeps one field on purpose: inspectors type what they know in the field, and this
one function decides what a permit may show of it.
"""

import re

# A North American number: optional +1 or 1, the area code with or without parentheses,
# groups separated by spaces, dots or dashes (or nothing), and an optional extension.
# A label right before it (tel., cell:, c:) goes with it.
_LABEL = (
    r"(?:\b(?:tel(?:ephone)?|phone|ph|cell(?:phone)?|mobile|mob|fax)\b\.?\s*:?\s*"
    r"|\b(?:home|office|work|business|[tcmhwo])\s*[.:]\s*)"
)
_NUMBER = (
    r"(?<![\w+])(?:\+\s?1|\b1)?[\s.\-]*"
    r"(?:\(\s*\d{3}\s*\)|\d{3})[\s.\-]*"
    r"\d{3}[\s.\-]*\d{4}\b"
    r"(?:\s*,?\s*(?:ext(?:ension)?\.?|x|#)\s*\d{1,6}\b)?"
)
_PHONE = re.compile(rf"{_LABEL}?{_NUMBER}", re.IGNORECASE)

_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_SEPARATORS = r"[,;/|]"
# Separators left next to each other ("owner, , e-mail") or with nothing between them.
_REPEATED_SEPARATORS = re.compile(rf"\s*({_SEPARATORS})(?:\s*{_SEPARATORS})+")
_SPACE_BEFORE_SEPARATOR = re.compile(rf"\s+({_SEPARATORS})")
_DANGLING = re.compile(r"^[\s,;:/|\-–—]+|[\s,;:/|\-–—]+$")


def without_phone_numbers(text: str) -> str:
    """`text` without phone-number-like sequences (North American formats, with or without
    +1, an extension or a label such as "cell:") and without the separators they leave
    dangling: "Jordan Smith, owner, 905-555-0101" → "Jordan Smith, owner"."""
    stripped = _PHONE.sub(" ", text)
    if stripped == text:
        return text.strip()
    stripped = _EMPTY_BRACKETS.sub(" ", stripped)
    stripped = _REPEATED_SEPARATORS.sub(r"\1", stripped)
    stripped = _SPACE_BEFORE_SEPARATOR.sub(r"\1", stripped)
    stripped = re.sub(r"\s{2,}", " ", stripped)
    return _DANGLING.sub("", stripped)

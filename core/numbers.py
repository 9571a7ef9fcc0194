"""Numbers written for the active language.

Django's `en_CA` formats group thousands with a space, as French does; Threshold's English
pages have always written 1,000. So English keeps the comma (and the dot for decimals) and
French follows Django's `fr_CA` formats: 1 000 (a non-breaking space) and 4,5.
"""

from django.utils import formats, translation


def grouped(value: int | float, decimal_pos: int | None = None) -> str:
    """`value` with its thousands grouped, `decimal_pos` decimals when given."""
    if (translation.get_language() or "en").startswith("en"):
        return f"{value:,.{decimal_pos}f}" if decimal_pos is not None else f"{value:,}"
    return formats.number_format(value, decimal_pos, use_l10n=True, force_grouping=True)

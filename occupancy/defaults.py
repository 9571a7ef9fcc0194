"""The default occupancy permit templates shipped with Threshold.

Each occupancy/default_templates/*.html file is a template body without any CSS; all of them
share one stylesheet, permit.css, which a template stores next to its body.
"""

from pathlib import Path
from typing import NamedTuple

TEMPLATE_DIR = Path(__file__).resolve().parent / "default_templates"


class DefaultTemplate(NamedTuple):
    body: str
    stylesheet: str


def default_template(filename: str) -> DefaultTemplate:
    """The HTML body of a default permit template and the shared print CSS."""
    return DefaultTemplate(
        body=(TEMPLATE_DIR / filename).read_text(encoding="utf-8"),
        stylesheet=(TEMPLATE_DIR / "permit.css").read_text(encoding="utf-8"),
    )


# The shipped default of each permit kind: a new template starts from its type's.
KIND_DEFAULTS = {
    "general": "general.html",
    "partial": "partial.html",
    "temporary": "temporary.html",
}


def default_template_of_kind(kind: str) -> DefaultTemplate:
    """The shipped default template of a permit kind (occupancy.models.PermitKind)."""
    return default_template(KIND_DEFAULTS.get(kind, "general.html"))

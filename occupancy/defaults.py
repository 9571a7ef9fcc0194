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

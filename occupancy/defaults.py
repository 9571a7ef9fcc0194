"""The default occupancy permit templates shipped with Threshold.

Each occupancy/default_templates/*.html file carries a copy of permit.css between the
/* BEGIN permit.css */ and /* END permit.css */ markers, so the file renders on its own;
default_template_body() replaces that copy with the current permit.css.
"""

import re
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "default_templates"
CSS_COPY = re.compile(r"/\* BEGIN permit\.css \*/.*?/\* END permit\.css \*/", re.S)


def default_template_body(filename: str) -> str:
    """The HTML of a default permit template with the shared print CSS inlined."""
    html = (TEMPLATE_DIR / filename).read_text(encoding="utf-8")
    css = (TEMPLATE_DIR / "permit.css").read_text(encoding="utf-8").strip()
    if not CSS_COPY.search(html):
        raise ValueError(f"{filename} has no /* BEGIN permit.css */ … /* END */ block.")
    return CSS_COPY.sub(lambda _: f"/* BEGIN permit.css */\n{css}\n/* END permit.css */", html)

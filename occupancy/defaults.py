"""The default occupancy permit templates shipped with Threshold.

Each occupancy/default_templates/*.html file is a template body without any CSS; all of them
share one stylesheet, permit.css, which a template stores next to its body. Each kind of
permit (general, partial, temporary) ships in English (general.html), in French
(general_fr.html) and bilingual (general_bilingual.html, both texts side by side); the
French and bilingual ones store permit.css followed by the few rules of their language
(permit-fr.css, permit-bilingual.css: the page footer, the two columns).
"""

from pathlib import Path
from typing import NamedTuple

TEMPLATE_DIR = Path(__file__).resolve().parent / "default_templates"

# The stylesheet added after permit.css for the templates of a language.
LANGUAGE_STYLESHEETS = {"fr-ca": "permit-fr.css", "bilingual": "permit-bilingual.css"}
# The file name's suffix of each language's templates (occupancy.models.PermitLanguage).
LANGUAGE_SUFFIXES = {"en-ca": "", "fr-ca": "_fr", "bilingual": "_bilingual"}


class DefaultTemplate(NamedTuple):
    body: str
    stylesheet: str


def _language_of(filename: str) -> str:
    stem = filename.removesuffix(".html")
    for language, suffix in LANGUAGE_SUFFIXES.items():
        if suffix and stem.endswith(suffix):
            return language
    return "en-ca"


def default_template(filename: str) -> DefaultTemplate:
    """The HTML body of a default permit template and its print CSS: the shared permit.css,
    and for a French or bilingual template the rules of its language after it."""
    stylesheet = (TEMPLATE_DIR / "permit.css").read_text(encoding="utf-8")
    addition = LANGUAGE_STYLESHEETS.get(_language_of(filename))
    if addition:
        stylesheet += "\n" + (TEMPLATE_DIR / addition).read_text(encoding="utf-8")
    return DefaultTemplate(
        body=(TEMPLATE_DIR / filename).read_text(encoding="utf-8"),
        stylesheet=stylesheet,
    )


# The shipped default of each permit kind: a new template starts from its type's.
KIND_DEFAULTS = {
    "general": "general.html",
    "partial": "partial.html",
    "temporary": "temporary.html",
}


def default_filename(kind: str, language: str = "en-ca") -> str:
    """The file of the shipped default template of a permit kind (occupancy.models.PermitKind)
    in a permit language (occupancy.models.PermitLanguage); English when unknown."""
    stem = KIND_DEFAULTS.get(kind, "general.html").removesuffix(".html")
    return f"{stem}{LANGUAGE_SUFFIXES.get(language, '')}.html"


def default_template_of_kind(kind: str, language: str = "en-ca") -> DefaultTemplate:
    """The shipped default template of a permit kind, in the permit type's language."""
    return default_template(default_filename(kind, language))


def shipped_filenames() -> list[str]:
    """Every shipped default template: each kind in each language."""
    return [
        default_filename(kind, language) for kind in KIND_DEFAULTS for language in LANGUAGE_SUFFIXES
    ]

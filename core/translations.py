"""The French catalogue: which strings the project marks, whether each is translated, and
the compiled `.mo` files Django reads.

Pure Python (polib and Django's own `templatize`, the function `makemessages` uses for
templates), so `make install` compiles the catalogue and `make test` checks it on a machine
without GNU gettext. The messages found are the ones `makemessages` would find: Python calls
of Django's translation functions with literal strings, and templates'
`{% translate %}`/`{% blocktranslate %}` after `templatize`.

`manage.py translations` drives it (docs/translation.md).
"""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import polib
from django.conf import settings
from django.utils.translation.template import templatize

# Project folders whose strings users read. Tests, the benchmark and migrations are not shown
# to users; management commands print for operators and stay in English.
SOURCE_DIRS = (
    "config",
    "core",
    "permits",
    "inspections",
    "occupancy",
    "scheduling",
    "exchange",
    "demo",
    "templates",
)
SKIPPED_PARTS = {"migrations", "management", "__pycache__", "locale"}
CATALOGUE_LANGUAGE = "fr_CA"
FRENCH_PLURAL_FORMS = "nplurals=2; plural=(n > 1);"

# name -> positions of (context, singular, plural) among the call's arguments, as
# makemessages tells xgettext (--keyword=pgettext:1c,2 …).
KEYWORDS = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
# templatize writes each marked string as a call with Python literals: ` gettext('…') `.
_TEMPLATIZED_CALL = re.compile(
    r"\b(_|gettext|ngettext|pgettext|npgettext)\("
    r"((?:\s*[rRuU]?(?:'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")\s*,?)+)\s*(?:count\s*)?\)"
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{(\w*)\}")


@dataclass
class Message:
    msgid: str
    plural: str = ""
    context: str = ""
    occurrences: list = field(default_factory=list)

    @property
    def key(self):
        return (self.context, self.msgid)


def catalogue_path():
    return Path(settings.BASE_DIR) / "locale" / CATALOGUE_LANGUAGE / "LC_MESSAGES" / "django.po"


def source_files(paths=None):
    """The files to read: the given files or folders, else the project's source folders."""
    base = Path(settings.BASE_DIR)
    roots = [Path(p) if Path(p).is_absolute() else base / p for p in (paths or SOURCE_DIRS)]
    for root in roots:
        candidates = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in candidates:
            if path.suffix not in (".py", ".html", ".txt") or not path.is_file():
                continue
            if SKIPPED_PARTS & set(path.relative_to(base).parts):
                continue
            if path.suffix == ".txt" and "templates" not in path.relative_to(base).parts:
                continue
            yield path


def extract(paths=None):
    """Every marked message of the files, keyed by (context, msgid), in file order."""
    base = Path(settings.BASE_DIR)
    messages = {}
    for path in source_files(paths):
        source = path.read_text(encoding="utf-8")
        name = str(path.relative_to(base))
        found = _from_python(source) if path.suffix == ".py" else _from_template(source, name)
        for context, msgid, plural, line in found:
            if not msgid:
                continue
            message = messages.setdefault((context, msgid), Message(msgid, plural, context))
            message.plural = message.plural or plural
            message.occurrences.append((name, str(line)))
    return messages


def _from_python(source):
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in KEYWORDS:
            continue
        strings = _literal_args(node.args)
        if strings is None:
            continue
        yield (*_pick(KEYWORDS[name], strings), node.lineno)


def _literal_args(args):
    values = []
    for arg in args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            values.append(arg.value)
        else:
            values.append(None)
    return values


def _pick(positions, strings):
    """(context, singular, plural) of a call's positional arguments; ("", "", "") when the
    call does not give them as literals (a keyword-only call, a variable context): such a
    call cannot be extracted, as xgettext would not either."""
    context_at, singular_at, plural_at = positions
    needed = [i for i in (context_at, singular_at, plural_at) if i is not None]
    if len(strings) <= max(needed) or any(strings[i] is None for i in needed):
        return "", "", ""
    return (
        strings[context_at] if context_at is not None else "",
        strings[singular_at],
        strings[plural_at] if plural_at is not None else "",
    )


def _from_template(source, origin):
    code = templatize(source, origin=origin)
    for match in _TEMPLATIZED_CALL.finditer(code):
        strings = list(ast.literal_eval("(" + match.group(2).strip().rstrip(",") + ",)"))
        line = code.count("\n", 0, match.start()) + 1
        name = match.group(1)
        positions = KEYWORDS[name]
        yield (*_pick(positions, strings), line)


def read_catalogue(path=None):
    path = Path(path or catalogue_path())
    if path.exists():
        return polib.pofile(str(path), wrapwidth=100)
    catalogue = polib.POFile(wrapwidth=100)
    catalogue.metadata = {
        "Project-Id-Version": "Threshold",
        "Language": CATALOGUE_LANGUAGE,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": FRENCH_PLURAL_FORMS,
    }
    return catalogue


def _entry_key(entry):
    return (entry.msgctxt or "", entry.msgid)


def is_translated(entry):
    if "fuzzy" in entry.flags or entry.obsolete:
        return False
    if entry.msgid_plural:
        forms = entry.msgstr_plural or {}
        return len(forms) >= 2 and all(forms.get(i) for i in range(2))
    return bool(entry.msgstr)


def placeholders(text):
    return sorted(m.group(0) for m in _PLACEHOLDER.finditer(text or ""))


# What % may start in a text filled with Python's %: a placeholder or an escaped %%.
_PERCENT_FORMAT = re.compile(r"%%|%\(\w+\)[sdif]|%[sdif]")


def _percent_formatted(msgid: str) -> bool:
    """A msgid with a %-placeholder or a %% is filled with % (gettext(...) % {...}, and
    {% blocktranslate %}, which writes a literal % as %%)."""
    return "%%" in msgid or any(m.group(0).startswith("%") for m in _PLACEHOLDER.finditer(msgid))


def stray_percent(text: str) -> bool:
    """A % that is neither a placeholder nor %%: filling the text raises ("100 %" in French
    typography), so the page shows the English or fails."""
    return "%" in _PERCENT_FORMAT.sub("", text or "")


def update(catalogue, messages, translations=()):
    """Adds the messages missing from the catalogue, marks those no longer in the source
    obsolete, refreshes each entry's references and takes the translations of the given
    catalogues (fragments translated apart; the first one given wins where two differ).
    Returns (added, obsoleted, filled, conflicts)."""
    known = {_entry_key(e): e for e in catalogue if not e.obsolete}
    donors = {}
    conflicts = []
    for donor in translations:
        for entry in donor:
            if is_translated(entry):
                first = donors.setdefault(_entry_key(entry), entry)
                if (first.msgstr, first.msgstr_plural) != (entry.msgstr, entry.msgstr_plural):
                    conflicts.append((entry.msgid, first.msgstr, entry.msgstr))
    added = obsoleted = filled = 0
    for key, message in messages.items():
        entry = known.get(key)
        if entry is None:
            revived = next((e for e in catalogue if e.obsolete and _entry_key(e) == key), None)
            if revived is not None:
                revived.obsolete = False
                entry = revived
            else:
                entry = polib.POEntry(
                    msgid=message.msgid, msgctxt=message.context or None, msgstr=""
                )
                if message.plural:
                    entry.msgid_plural = message.plural
                    entry.msgstr_plural = {0: "", 1: ""}
                catalogue.append(entry)
                added += 1
        entry.occurrences = message.occurrences
        if "%(" in message.msgid or re.search(r"%[sdif]", message.msgid):
            if "python-format" not in entry.flags:
                entry.flags.append("python-format")
        donor = donors.get(key)
        # A fragment is its translator's latest word: it replaces what the catalogue had.
        if donor is not None:
            if entry.msgid_plural:
                entry.msgstr_plural = dict(donor.msgstr_plural)
            else:
                entry.msgstr = donor.msgstr
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            filled += 1
    for key, entry in known.items():
        if key not in messages:
            entry.obsolete = True
            obsoleted += 1
    return added, obsoleted, filled, conflicts


def problems(catalogue, messages):
    """What keeps the catalogue from being complete: each a sentence naming the string."""
    found = []
    entries = {_entry_key(e): e for e in catalogue if not e.obsolete}
    for key, message in messages.items():
        where = ", ".join(":".join(o) for o in message.occurrences[:2])
        entry = entries.get(key)
        if entry is None:
            found.append(f"not in the catalogue: {message.msgid!r} ({where})")
        elif "fuzzy" in entry.flags:
            found.append(f"fuzzy: {message.msgid!r} ({where})")
        elif not is_translated(entry):
            found.append(f"untranslated: {message.msgid!r} ({where})")
        else:
            if entry.msgid_plural:
                # French's first form covers 0 and 1, so it may take the count either form
                # has; the other forms are the English plural's.
                either = set(placeholders(entry.msgid)) | set(placeholders(entry.msgid_plural))
                checks = [
                    (text, either if index == 0 else set(placeholders(entry.msgid_plural)))
                    for index, text in sorted(entry.msgstr_plural.items())
                ]
            else:
                checks = [(entry.msgstr, set(placeholders(entry.msgid)))]
            for text, expected in checks:
                if not set(placeholders(text)) <= expected or (
                    not entry.msgid_plural and set(placeholders(text)) != expected
                ):
                    found.append(f"placeholders differ: {message.msgid!r} -> {text!r} ({where})")
                elif (
                    _percent_formatted(entry.msgid) or _percent_formatted(entry.msgid_plural)
                ) and stray_percent(text):
                    found.append(
                        f"a % that is not a placeholder (write %%): {message.msgid!r} -> "
                        f"{text!r} ({where})"
                    )
    return found


def compile_catalogues():
    """Writes the .mo next to each .po of the project's locale folder; returns their paths."""
    written = []
    for po_path in sorted((Path(settings.BASE_DIR) / "locale").glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        catalogue = polib.pofile(str(po_path))
        # An untranslated or fuzzy entry is left out, so Django shows the English.
        kept = polib.POFile()
        kept.metadata = catalogue.metadata
        for entry in catalogue:
            if is_translated(entry):
                kept.append(entry)
        kept.save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


# Words printed as they are in both languages: the product's name, abbreviations.
UNTRANSLATED_WORDS = re.compile(
    r"\b(Threshold|PDF|PDF/A|QR|SHA-256|BLDS|CSV|iCalendar|iCal|TOTP|URL|HTTPS|PKCS#12|OK|"
    r"Ontario|Div|OBC|ID|N/A)\b"
)
# Attributes whose value people read (or hear, through a screen reader).
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label"}
_WORD = re.compile(r"[^\W\d_]{2,}")


def unmarked_template_text(source: str, plain_text: bool = False):
    """The (line, text) of every piece of a template people read that is not marked for
    translation: text between tags and readable attributes, outside {% translate %},
    {% blocktranslate %}, comments, <script> and <style>. Template tags and variables count
    as nothing (a `{{ name }}` is data)."""
    from html.parser import HTMLParser

    from django.template.base import Lexer, TokenType

    rebuilt = []
    skipping = None  # the tag that ends the block being skipped
    for token in Lexer(source).tokenize():
        newlines = "\n" * token.contents.count("\n")
        if token.token_type is TokenType.BLOCK:
            name = token.contents.split(" ", 1)[0]
            if skipping is None and name in ("blocktranslate", "blocktrans", "comment"):
                skipping = "end" + name
            elif skipping is not None and name == skipping:
                skipping = None
            rebuilt.append("\x00" + newlines)
        elif token.token_type is TokenType.TEXT and skipping is None:
            rebuilt.append(token.contents)
        else:
            rebuilt.append("\x00" + newlines)
    # A tag whose name is itself a template expression (`<{% if tag %}{{ tag }}…`): a tag.
    text = re.sub("<(/?)\x00", lambda m: f"<{m.group(1)}x-template-tag ", "".join(rebuilt))
    # Elsewhere a tag or variable separates words like a space (also inside a tag).
    text = text.replace("\x00", " ")
    found = []

    def check(value, line):
        value = UNTRANSLATED_WORDS.sub("", value.replace("\x00", " "))
        if _WORD.search(value):
            found.append((line, " ".join(value.split())))

    if plain_text:
        for number, line in enumerate(text.splitlines(), start=1):
            check(line, number)
        return found

    class Reader(HTMLParser):
        raw = None

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style"):
                self.raw = tag
            for name, value in attrs:
                if name in READ_ATTRIBUTES and value:
                    check(value, self.getpos()[0])
                # An <input type="submit"> shows its value; a <button>'s value is only sent.
                is_input_button = tag == "input" and dict(attrs).get("type") in ("submit", "button")
                if name == "value" and is_input_button:
                    check(value or "", self.getpos()[0])

        def handle_endtag(self, tag):
            if tag == self.raw:
                self.raw = None

        def handle_data(self, data):
            if self.raw is None:
                check(data, self.getpos()[0])

    reader = Reader(convert_charrefs=True)
    reader.feed(text)
    reader.close()
    return found

"""The French catalogue is complete and the English labels keep their fixed French
(docs/french.md): every marked string is translated (not fuzzy, same placeholders), no
template text people read is left unmarked, and the compiled catalogue is what Django reads.
`make messages` adds new strings to locale/fr_CA/LC_MESSAGES/django.po; docs/translation.md."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from core import translations

BASE = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def catalogue():
    return translations.read_catalogue()


@pytest.fixture(scope="module")
def messages():
    return translations.extract()


def test_every_marked_string_is_translated(catalogue, messages):
    problems = translations.problems(catalogue, messages)
    assert not problems, (
        f"{len(problems)} strings are not translated (make messages, then translate them in "
        "locale/fr_CA/LC_MESSAGES/django.po):\n" + "\n".join(problems[:60])
    )


def test_the_catalogue_has_no_fuzzy_entries_and_parses(catalogue):
    fuzzy = [e.msgid for e in catalogue if "fuzzy" in e.flags and not e.obsolete]
    assert fuzzy == []
    assert catalogue.metadata["Plural-Forms"] == translations.FRENCH_PLURAL_FORMS


def template_files():
    for path in sorted((BASE / "templates").rglob("*")):
        if path.suffix in (".html", ".txt"):
            yield path


def test_no_template_text_is_left_unmarked():
    unmarked = []
    for path in template_files():
        found = translations.unmarked_template_text(
            path.read_text(encoding="utf-8"), plain_text=path.suffix == ".txt"
        )
        unmarked += [f"{path.relative_to(BASE)}:{line}: {text}" for line, text in found]
    assert not unmarked, "Template text not marked for translation:\n" + "\n".join(unmarked[:60])


@pytest.mark.parametrize(
    "template, expected",
    [
        ("<p>Start new visit</p>", [(1, "Start new visit")]),
        (
            '<a title="Open the visit" href="{% url "x" %}">{% translate "Open" %}</a>',
            [(1, "Open the visit")],
        ),
        ("{% blocktranslate %}Permit {{ n }} issued{% endblocktranslate %}", []),
        ("<script>let open = 1;</script><style>.x{color:red}</style>", []),
        ("{% comment %}Why this is so{% endcomment %}<td>{{ permit.number }}</td>", []),
        ('<input type="submit" value="Confirm">', [(1, "Confirm")]),
        ("<span>PDF · SHA-256</span> Threshold", []),
    ],
)
def test_the_unmarked_text_check_sees_what_people_read(template, expected):
    assert translations.unmarked_template_text(template) == expected


def fixed_labels():
    """The seed's labels and their fixed French, from docs/french.md's first table."""
    text = (BASE / "docs" / "french.md").read_text(encoding="utf-8")
    section = text.split("## The seed's fourteen steps", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|$", section, re.M)
    labels = {}
    for english, french in rows:
        if set(english) <= {"-", " "} or english.startswith("English"):
            continue
        labels[re.sub(r"\s*\*\(.*\)\*$", "", english)] = french
    return labels


def test_the_seeds_labels_have_their_fixed_french(catalogue):
    labels = fixed_labels()
    assert len(labels) >= 20
    # The label itself has no context; the same word in another sense has one (e.g.
    # pgettext("visit status", "Open")) and its own French.
    entries = {}
    for entry in catalogue:
        if not entry.obsolete and not entry.msgctxt:
            entries.setdefault(entry.msgid, []).append(entry)
    wrong = []
    for english, french in labels.items():
        found = entries.get(english, [])
        if not found:
            wrong.append(f"{english!r} is not marked anywhere")
        for entry in found:
            if entry.msgstr != french:
                wrong.append(f"{english!r} ({entry.msgctxt or 'no context'}): {entry.msgstr!r}")
    assert not wrong, "Fixed labels translated otherwise:\n" + "\n".join(wrong)


def test_django_reads_the_compiled_catalogue(catalogue, tmp_path):
    # make install compiles it; compile again here into a copy and compare with what the
    # running Django translates, so a stale .mo fails too.
    compiled = tmp_path / "django.mo"
    kept = polib.POFile()
    kept.metadata = catalogue.metadata
    for entry in catalogue:
        if translations.is_translated(entry):
            kept.append(entry)
    kept.save_as_mofile(str(compiled))
    fresh = polib.mofile(str(compiled))
    with translation.override("fr-ca"):
        stale = [
            e.msgid
            for e in fresh
            if not e.msgid_plural
            and (
                translation.pgettext(e.msgctxt, e.msgid)
                if e.msgctxt
                else translation.gettext(e.msgid)
            )
            != e.msgstr
        ]
    assert not stale, f"{len(stale)} strings differ from the .mo Django reads (make install)"
    with translation.override("en-ca"):
        assert translation.gettext("Start new visit") == "Start new visit"


# Words that are the same in both languages.
SAME_IN_FRENCH = {
    "photo",
    "photos",
    "inspection",
    "inspections",
    "description",
    "type",
    "Description",
    "Photos",
    "Inspections",
    "Inspection",
    "Photo",
    "Type",
    "Administration",
    "Date",
    "date",
    "version",
    "Version",
    "Ontario",
    "Alberta",
    "Manitoba",
    "Nunavut",
    "Saskatchewan",
    "Yukon",
    "Occupation",
    "occupation",
    "Position",
    "position",
    "Notes",
    "notes",
    "Message",
    "message",
    "Total",
    "total",
    "Actions",
    "actions",
    "Site web",
    "Menu",
    "Documents",
    "documents",
    "Visites",
    "Action",
    "action",
    "Code",
    "code",
    "Statut",
    "statut",
    "Partielle",
    "Communication",
    "province",
    "organisation",
    "image",
    "condition",
    "pdf",
    # Each language named in itself (settings.LANGUAGES), as the switch shows it.
    "English",
    "Français",
}


def _project_labels():
    from django.apps import apps

    project = {"core", "permits", "inspections", "occupancy", "scheduling", "exchange", "demo"}
    for config in apps.get_app_configs():
        if config.label not in project:
            continue
        yield f"app {config.label}", config.verbose_name
        for model in config.get_models(include_auto_created=False):
            name = model._meta.label
            yield name, model._meta.verbose_name
            yield name, model._meta.verbose_name_plural
            for field in model._meta.get_fields():
                if field.auto_created or not hasattr(field, "verbose_name"):
                    continue
                yield f"{name}.{field.name}", field.verbose_name
                if field.help_text:
                    yield f"{name}.{field.name} help", field.help_text
                if field.name == "blds_type":
                    continue  # BLDS's own values: an English open-data standard
                for _value, label in field.flatchoices or []:
                    yield f"{name}.{field.name} choice", label


def test_the_project_models_labels_read_in_french():
    """What the admin and the forms show of the project's models: apps, models, fields,
    help texts and choices. A label that stays English in French was not marked."""
    english_only = []
    for where, label in _project_labels():
        with translation.override("en-ca"):
            english = str(label)
        with translation.override("fr-ca"):
            french = str(label)
        if (
            english == french
            and english.strip() not in SAME_IN_FRENCH
            and re.search("[A-Za-z]{2}", english)
        ):
            english_only.append(f"{where}: {english!r}")
    assert not english_only, "Not translated:\n" + "\n".join(english_only)


def test_extraction_skips_calls_it_cannot_read_like_makemessages():
    source = (
        'pgettext(context="c", message="m")\n'
        'pgettext(some_context, "m")\n'
        'gettext(f"{x} items")\n'
        'ngettext("%(n)s photo", "%(n)s photos", n)\n'
        'pgettext("visit status", "Open")\n'
    )
    found = [(c, s, p) for c, s, p, _line in translations._from_python(source) if s]
    assert found == [("", "%(n)s photo", "%(n)s photos"), ("visit status", "Open", "")]


def test_plural_translations_may_take_the_count_in_their_first_form():
    catalogue = polib.POFile()
    catalogue.append(
        polib.POEntry(
            msgid="Delete this photo",
            msgid_plural="Delete %(count)s photos",
            msgstr_plural={0: "Supprimer %(count)s photo", 1: "Supprimer %(count)s photos"},
        )
    )
    catalogue.append(
        polib.POEntry(
            msgid="%(count)s left",
            msgid_plural="%(count)s left",
            msgstr_plural={0: "%(count)s restant", 1: "%(other)s restants"},
        )
    )
    messages = {
        ("", "Delete this photo"): translations.Message(
            "Delete this photo", "Delete %(count)s photos"
        ),
        ("", "%(count)s left"): translations.Message("%(count)s left", "%(count)s left"),
    }
    assert translations.problems(catalogue, messages) == [
        "placeholders differ: '%(count)s left' -> '%(other)s restants' ()"
    ]


def test_a_deployment_check_warns_of_a_catalogue_not_compiled(settings, tmp_path):
    from core.checks import compiled_catalogues_check

    folder = tmp_path / "locale" / "fr_CA" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "django.po").write_text('msgid ""\nmsgstr ""\n', encoding="utf-8")
    settings.BASE_DIR = tmp_path
    [warning] = compiled_catalogues_check(None)
    assert warning.id == "threshold.W003" and "is missing" in warning.msg
    translations.compile_catalogues()
    assert compiled_catalogues_check(None) == []


def test_a_stray_percent_in_a_translation_filled_with_percent_is_a_problem():
    """French writes "100 %": in a string filled with % that raises when filled, so the
    check names it (a literal % is written %% there). A string not filled with % may hold
    one as it is."""
    catalogue = polib.POFile()
    for msgid, msgstr in [
        ("Applicant: %(name)s", "Demandeur 100 % : %(name)s"),
        ("Saved 100%% of it", "Enregistré à 100 %%"),
        ("Done 100% of the time", "Fait 100 % du temps"),
        ("Roll %(roll)s", "Rôle %(roll)s"),
    ]:
        catalogue.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    # A plural filled with % whose singular has no placeholder ("One file") counts too.
    catalogue.append(
        polib.POEntry(
            msgid="One file",
            msgid_plural="%(n)s files",
            msgstr_plural={0: "Un fichier", 1: "%(n)s fichiers (100 %)"},
        )
    )
    messages = {("", e.msgid): translations.Message(e.msgid, e.msgid_plural) for e in catalogue}
    assert translations.problems(catalogue, messages) == [
        "a % that is not a placeholder (write %%): 'Applicant: %(name)s' -> "
        "'Demandeur 100 % : %(name)s' ()",
        "a % that is not a placeholder (write %%): 'One file' -> '%(n)s fichiers (100 %)' ()",
    ]

"""The French catalogue (core.translations, docs/translation.md):

translations update [--from FRAGMENT.po ...]   add new strings, mark removed ones obsolete
translations compile                           write the .mo files Django reads
translations check [PATH ...]                  list strings not (well) translated
translations fragment FILE.po PATH ...         a separate .po of the strings of PATH not
                                               yet translated, to translate apart
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core import translations


class Command(BaseCommand):
    help = "Keeps the French catalogue (locale/fr_CA) in step with the marked strings."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["update", "compile", "check", "fragment"])
        parser.add_argument("paths", nargs="*", help="Files or folders (default: the project's).")
        parser.add_argument(
            "--from",
            dest="donors",
            action="append",
            default=[],
            help="update: take translations of untranslated entries from this .po file.",
        )

    def handle(self, action, paths, donors, **options):
        if action == "compile":
            for path in translations.compile_catalogues():
                self.stdout.write(f"Compiled {path}")
            return
        if action == "fragment":
            return self.fragment(*paths)
        messages = translations.extract(paths or None)
        catalogue = translations.read_catalogue()
        if action == "update":
            donor_catalogues = [translations.read_catalogue(p) for p in donors]
            added, obsoleted, filled, conflicts = translations.update(
                catalogue, messages, donor_catalogues
            )
            for msgid, kept, other in conflicts:
                self.stdout.write(f"Two translations of {msgid!r}: kept {kept!r}, not {other!r}")
            translations.catalogue_path().parent.mkdir(parents=True, exist_ok=True)
            catalogue.save(str(translations.catalogue_path()))
            self.stdout.write(
                f"{len(messages)} strings: {added} added, {obsoleted} no longer used, "
                f"{filled} translated from fragments."
            )
            return
        if action == "check":
            found = translations.problems(catalogue, messages)
            for line in found:
                self.stdout.write(line)
            if found:
                raise CommandError(f"{len(found)} strings are not translated.")
            self.stdout.write(f"All {len(messages)} strings are translated.")
            return

    def fragment(self, out="", *paths):
        if not out.endswith(".po") or not paths:
            raise CommandError("fragment needs the .po file to write, then files or folders.")
        messages = translations.extract(paths)
        catalogue = translations.read_catalogue()
        fragment = translations.read_catalogue(out)
        done = {(e.msgctxt or "", e.msgid) for e in catalogue if translations.is_translated(e)}
        wanted = {key: m for key, m in messages.items() if key not in done}
        translations.update(fragment, wanted)
        # A fragment only grows: strings of other paths (or run with fewer paths) stay in it.
        for entry in fragment:
            entry.obsolete = False
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fragment.save(out)
        missing = sum(1 for e in fragment if not e.obsolete and not translations.is_translated(e))
        self.stdout.write(f"{out}: {len(wanted)} strings, {missing} still to translate.")

"""Import a municipality's building-permit applications from a CSV file.

    python manage.py import_applications FILE --municipality SLUG --mapping NAME [--dry-run]

NAME is a built-in mapping (burlington, blds) or the path of a mapping .toml file. Running it
again with the same file changes nothing; with a newer file it updates what changed.

Unlike the admin's upload (exchange.importing.forms.IMPORT_MAX_BYTES), the command has no size
limit: it is for the files too large for a request. The file is read line by line, never
whole; memory grows with the number of distinct permit numbers (one record each), not with
the file's size.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.models import Municipality
from exchange.importing.mapping import MappingError, builtin_mappings, load_mapping
from exchange.importing.reading import ImportFileError
from exchange.importing.services import BATCH_SIZE, applications_import

SHOWN_REJECTIONS = 50


class Command(BaseCommand):
    help = "Import applications from a CSV file (idempotent; --dry-run saves nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file.")
        parser.add_argument("--municipality", required=True, help="Slug of the municipality.")
        parser.add_argument(
            "--mapping",
            required=True,
            help=f"Built-in mapping ({', '.join(builtin_mappings())}) or a mapping .toml file.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and report only.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, file, municipality, mapping, dry_run, batch_size, **options):
        try:
            municipality_obj = Municipality.objects.get(slug=municipality)
        except Municipality.DoesNotExist:
            known = ", ".join(Municipality.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No municipality {municipality!r}. Known: {known}.") from None
        try:
            mapping_obj = load_mapping(mapping)
        except MappingError as exc:
            raise CommandError(str(exc)) from exc
        path = Path(file)
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc

        try:
            with handle:
                report = applications_import(
                    municipality=municipality_obj,
                    data=handle,
                    mapping=mapping_obj,
                    source_name=path.name,
                    dry_run=dry_run,
                    batch_size=batch_size,
                    progress=self.progress_bar() if self.stderr.isatty() else None,
                )
        except ImportFileError as exc:
            raise CommandError(f"{path.name}: {exc}") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc

        for note in report.notes:
            self.stdout.write(self.style.WARNING(f"Note: {note}"))
        shown = report.rejected if options["verbosity"] > 1 else report.rejected[:SHOWN_REJECTIONS]
        for rejection in shown:
            number = f" ({rejection.number})" if rejection.number else ""
            self.stdout.write(f"Rejected line {rejection.line}{number}: {rejection.reason}")
        if len(shown) < len(report.rejected):
            self.stdout.write(
                f"… and {len(report.rejected) - len(shown)} more rejected rows (-v 2 lists all)."
            )
        warnings = report.warnings[: None if options["verbosity"] > 1 else SHOWN_REJECTIONS]
        for warning in warnings:
            self.stdout.write(
                f"Data-quality warning, line {warning.line} ({warning.number}): {warning.what}; "
                "imported as the file has it"
            )
        style = self.style.WARNING if report.rejected else self.style.SUCCESS
        self.stdout.write(style(f"{municipality_obj.name}, {path.name}: {report.summary()}"))

    def progress_bar(self):
        """Shown on a terminal only: a log file gets the summary alone."""

        def show(done: int, total: int) -> None:
            width = 30
            filled = width * done // total if total else width
            bar = f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} applications"
            ending = "\n" if done >= total else ""
            self.stderr.write(bar, style_func=lambda text: text, ending=ending)
            self.stderr.flush()

        return show

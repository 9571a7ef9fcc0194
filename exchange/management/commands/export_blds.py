"""Write a municipality's BLDS open data: the core permits and the inspections datasets.

    python manage.py export_blds --municipality SLUG --out DIR [--format csv|json|both]

Files: blds-permits.csv/.json and blds-inspections.csv/.json in DIR (created if missing,
existing files of these names replaced). No internal notes, no personal contact details.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.models import Municipality
from exchange.exporting import blds_datasets, csv_bytes, json_bytes


class Command(BaseCommand):
    help = "Export a municipality's permits and inspections as BLDS open data (CSV, JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--municipality", required=True, help="Slug of the municipality.")
        parser.add_argument("--out", required=True, help="Directory to write the files to.")
        parser.add_argument("--format", choices=["csv", "json", "both"], default="both")

    def handle(self, *args, municipality, out, format, **options):
        try:
            municipality_obj = Municipality.objects.get(slug=municipality)
        except Municipality.DoesNotExist:
            known = ", ".join(Municipality.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No municipality {municipality!r}. Known: {known}.") from None
        formats = ("csv", "json") if format == "both" else (format,)
        directory = Path(out)
        datasets = blds_datasets(municipality=municipality_obj)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for name, (fields, rows) in datasets.items():
                written = []
                if "csv" in formats:
                    (directory / f"blds-{name}.csv").write_bytes(csv_bytes(fields, rows))
                    written.append(f"blds-{name}.csv")
                if "json" in formats:
                    (directory / f"blds-{name}.json").write_bytes(json_bytes(rows))
                    written.append(f"blds-{name}.json")
                self.stdout.write(f"  {name}: {len(rows):,} rows → {', '.join(written)}")
        except OSError as exc:
            raise CommandError(f"Cannot write to {out}: {exc.strerror}.") from exc
        self.stdout.write(
            self.style.SUCCESS(f"BLDS data of {municipality_obj.name} written to {directory}.")
        )

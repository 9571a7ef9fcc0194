"""Measure the CSV import at growing file sizes: rows per second should not fall as the file
grows (the import is linear in its size).

    python manage.py bench_import [--sizes 1 5 20] [--source FILE]

Each file is made from the rows of the City of Burlington file (shared/data/), repeated with
new permit numbers (`24-019651` becomes `24-019651-R3` in the third copy) until it reaches
the size in MB, written to a temporary directory and imported from disk with the burlington
mapping into a municipality made for the run (`import-bench`), which is deleted with its
applications afterwards. Prints, per size: rows, applications, seconds (wall clock and this
process's CPU: on a shared machine the CPU time is the steadier figure; the database's own
work is in the wall clock only), rows/s, the peak resident memory of the process so far, and
the load average. Nothing else is touched; run it
on a database of its own.
"""

import csv
import os
import resource
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from core.models import Activity, Municipality
from exchange.importing.mapping import load_mapping
from exchange.importing.services import applications_import
from permits.models import Application

BENCH_SLUG = "import-bench"
DEFAULT_SOURCE = Path(settings.BASE_DIR).parent / "shared/data/burlington-on-building-permits.csv"


def write_file(source: Path, target: Path, megabytes: float) -> int:
    """`target` made of `source`'s rows with new numbers until it has `megabytes`; its rows."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    number = header.index("FILENO")
    limit = int(megabytes * 1024 * 1024)
    written = 0
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        copy = 0
        while out.tell() < limit:
            copy += 1
            for row in rows:
                row = list(row)
                row[number] = f"{row[number]}-R{copy}"
                writer.writerow(row)
                written += 1
                if out.tell() >= limit:
                    break
    return written


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def remove_bench_data() -> None:
    municipality = Municipality.objects.filter(slug=BENCH_SLUG).first()
    if municipality is None:
        return
    with transaction.atomic():
        applications = Application.objects.filter(municipality=municipality)
        Activity.objects.filter(application__in=applications).delete()
        applications.delete()
        municipality.delete()


class Command(BaseCommand):
    help = "Measure the CSV import's rows/s at growing file sizes (1, 5, 20 MB by default)."

    def add_arguments(self, parser):
        parser.add_argument("--sizes", type=float, nargs="+", default=[1, 5, 20])
        parser.add_argument("--source", default=str(DEFAULT_SOURCE))

    def handle(self, *args, **options):
        # As in production: with DEBUG every query's SQL is formatted and kept (9,000 bulk
        # inserts of 500 rows: half a gigabyte at 20 MB, and a third of the time).
        with override_settings(DEBUG=False):
            self.run(**options)

    def run(self, *, sizes, source, **options):
        source_path = Path(source)
        if not source_path.is_file():
            raise CommandError(f"No file {source}: the Burlington file lies in shared/data/.")
        mapping = load_mapping("burlington")
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.stdout.write(f"Import benchmark on {engine}, {os.cpu_count()} CPUs")
        self.stdout.write(
            "| file | rows | applications | seconds | CPU seconds | rows/s | peak memory | load |"
        )
        self.stdout.write("|--:|--:|--:|--:|--:|--:|--:|--:|")
        with tempfile.TemporaryDirectory() as directory:
            for megabytes in sorted(sizes):
                path = Path(directory) / f"bench-{megabytes:g}mb.csv"
                rows = write_file(source_path, path, megabytes)
                remove_bench_data()
                municipality = Municipality.objects.create(
                    slug=BENCH_SLUG, name="Import benchmark", city="Burlington"
                )
                try:
                    started, cpu_started = time.perf_counter(), time.process_time()
                    with path.open("rb") as handle:
                        report = applications_import(
                            municipality=municipality,
                            data=handle,
                            mapping=mapping,
                            source_name=path.name,
                        )
                    seconds = time.perf_counter() - started
                    cpu_seconds = time.process_time() - cpu_started
                finally:
                    remove_bench_data()
                size = path.stat().st_size / (1024 * 1024)
                load = os.getloadavg()[0]
                self.stdout.write(
                    f"| {size:.1f} MB | {rows:,} | {report.created:,} | {seconds:.1f} | "
                    f"{cpu_seconds:.1f} | "
                    f"{rows / seconds:,.0f} | {peak_memory_mb():,.0f} MB | {load:.1f} |"
                )

"""bench_import: prints a figures row per size and leaves nothing behind in the database."""

import io

import pytest
from django.core.management import call_command

from core.models import Activity, Municipality
from permits.models import Application
from tests.exchange.test_import import BURLINGTON_CSV


@pytest.mark.django_db(transaction=True)
def test_bench_import_prints_its_figures_and_removes_its_data():
    if not BURLINGTON_CSV.is_file():
        pytest.skip(f"{BURLINGTON_CSV} is missing")
    out = io.StringIO()

    call_command("bench_import", "--sizes", "0.02", "0.05", stdout=out)

    rows = [line for line in out.getvalue().splitlines() if line.startswith("| 0.")]
    assert [row.split(" | ")[0] for row in rows] == ["| 0.0 MB", "| 0.1 MB"]
    assert all(int(row.split(" | ")[2].replace(",", "")) > 0 for row in rows)  # applications
    assert not Municipality.objects.filter(slug="import-bench").exists()
    assert not Application.objects.exists() and not Activity.objects.exists()

"""The records stay verifiable: every stored PDF against its SHA-256, also after a backup
is restored into an empty database."""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from inspections.models import Visit
from occupancy.services import GrantDetails, visit_finish_and_close
from tests.factories import make_inspection

ROOT = Path(__file__).resolve().parents[2]


def issue_permits(application, inspection_type, inspector, template, count=2):
    permits = []
    for _ in range(count):
        visit = Visit.objects.create(
            inspection=make_inspection(application, inspection_type),
            sequence=1,
            started_by=inspector,
        )
        permits.append(
            visit_finish_and_close(
                visit=visit,
                actor=inspector,
                result="granted_full",
                grant=GrantDetails(
                    template=template, granted_on=timezone.localdate(), description="Whole"
                ),
            ).permit
        )
    return permits


def test_verify_records_passes_then_reports_tampering_and_missing_files(
    inspector, application_a, occupancy_type_a, general_template, capsys
):
    first, second = issue_permits(application_a, occupancy_type_a, inspector, general_template)
    call_command("verify_records")
    assert "All 4 documents verified;" in capsys.readouterr().out  # 2 permits, 2 reports
    path = Path(first.pdf.path)
    path.write_bytes(path.read_bytes().replace(b"%%EOF", b"%%EOX"))
    Path(Visit.objects.get(pk=second.visit_id).report_pdf.path).unlink()
    with pytest.raises(CommandError, match=r"2 problem\(s\) found; 4 documents checked"):
        call_command("verify_records")
    err = capsys.readouterr().err
    assert f"MISMATCH occupancy permit alpha {first.number}" in err
    assert "file is missing" in err


def test_verify_records_reads_in_bounded_batches_and_checks_every_document(
    inspector, application_a, occupancy_type_a, general_template, capsys, monkeypatch
):
    """Issue 16: the documents are read BATCH_SIZE rows per query (keyset on the primary
    key), not a whole table in one result; with batches of 2, three permits and three
    reports are still each checked once, and a tampered one in the last batch is found."""
    from django.test.utils import CaptureQueriesContext

    from occupancy import records

    monkeypatch.setattr(records, "BATCH_SIZE", 2)
    *_, last = issue_permits(application_a, occupancy_type_a, inspector, general_template, 3)
    with CaptureQueriesContext(connection) as queries:
        call_command("verify_records")
    assert "All 6 documents verified;" in capsys.readouterr().out
    permit_reads = [  # the document walk's reads of the permits (in primary-key order)
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "occupancy_occupancypermit"' in q["sql"]
        and q["sql"].endswith('ORDER BY "occupancy_occupancypermit"."id" ASC LIMIT 2')
    ]
    # 3 permits in batches of 2: a full batch, then the rest; never the whole table at once.
    assert len(permit_reads) == 2
    assert all('"snapshot"' not in sql.split(" FROM ")[0] for sql in permit_reads)
    path = Path(last.pdf.path)
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(CommandError, match=r"1 problem\(s\) found; 6 documents checked"):
        call_command("verify_records")
    assert f"MISMATCH occupancy permit alpha {last.number}" in capsys.readouterr().err


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump and pg_restore")
@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_verifies_every_pdf(
    inspector, application_a, occupancy_type_a, general_template, settings, tmp_path
):
    permits = issue_permits(application_a, occupancy_type_a, inspector, general_template, 3)
    db = connection.settings_dict
    conn = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]
    dump = tmp_path / "threshold.dump"
    subprocess.run(["pg_dump", *conn, "-Fc", "-f", str(dump), db["NAME"]], check=True)
    media_backup = tmp_path / "media-backup"
    shutil.copytree(settings.MEDIA_ROOT, media_backup)

    restored = f"threshold_restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", *conn, restored], check=True)
    try:
        subprocess.run(["pg_restore", *conn, "--no-owner", "-d", restored, str(dump)], check=True)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(
            DEBUG="1",
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{restored}",
            MEDIA_ROOT=str(media_backup),
        )
        result = subprocess.run(
            [sys.executable, "manage.py", "verify_records"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "All 6 documents verified;" in result.stdout
        numbers = subprocess.run(
            ["psql", *conn, "-At", "-d", restored, "-c",
             "SELECT number FROM occupancy_occupancypermit ORDER BY number"],
            check=True, capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        assert numbers == sorted(p.number for p in permits)
    finally:
        subprocess.run(["dropdb", *conn, "--if-exists", restored], check=True)

"""Build (or reuse) the benchmark database: migrations, configuration through the ORM, then
the bulk of the rows with PostgreSQL COPY, then VACUUM ANALYZE.

During the COPY the bulk tables carry only their primary keys and unique constraints: their
other indexes and foreign keys are dropped first and recreated afterwards from the
definitions PostgreSQL reports, which also validates every foreign key and the partial
unique index (one open visit per inspection) over the loaded rows. CHECK constraints stay
in place throughout.

A database is reused when its `bench_meta` says it was completely built, by this version of
the builder, for the requested number of applications, and no migration has been added
since; otherwise it is dropped and rebuilt.

`vacuum_analyze()` runs before every timed run (bench.run): an earlier run's rows (visits
started, findings added, permits issued) and dead tuples otherwise change the plans and the
figures from one run to the next.
"""

import contextlib
import hashlib
import os
import time

import psycopg
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from bench import environment
from bench.data import (
    COLUMNS,
    INSPECTION_TYPES,
    SHARED_PERMIT_PDF,
    SHARED_REPORT_PDF,
    Generator,
)
from occupancy.snapshot import MunicipalityPart

# 4: columns read from the models (no Visit.grant_draft); 5: the long histories are 40
# visits and 100 findings (issue 16), applications-only databases for search at scale
BUILD_VERSION = 5
PASSWORD = "bench-password-not-secret"
BULK_TABLES = list(COLUMNS)
SEED = 2026


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def _connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url, **kwargs)


def existing_build(url: str) -> dict | None:
    try:
        with _connect(url) as conn:
            row = conn.execute("SELECT value FROM bench_meta WHERE key = 'build'").fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


def _shared_pdf_matches(url: str) -> bool:
    """Whether the shared permit PDF on disk is the file the permits' rows record."""
    path = environment.MEDIA_ROOT / SHARED_PERMIT_PDF
    with _connect(url) as conn:
        row = conn.execute("SELECT pdf_sha256 FROM occupancy_occupancypermit LIMIT 1").fetchone()
    if row is None:
        return True
    return path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == row[0]


def _unapplied_migrations() -> list[str]:
    """Migrations the code has and the database lacks, and (marked "not in the code")
    migrations the database had applied that the code does not have: either way the
    schema is not the code's."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    applied = set(executor.loader.applied_migrations)
    unknown = sorted(applied - set(executor.loader.graph.nodes))
    connections.close_all()
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan] + [
        f"{app}.{name} (not in the code)" for app, name in unknown
    ]


def ensure(n: int, *, applications_only: bool = False) -> dict:
    """The benchmark database with `n` applications, built now unless it already exists.
    `applications_only`: the applications alone (bench.data), for search at scale."""
    url = environment.database_url()
    build = existing_build(url)
    reusable = bool(
        build
        and build.get("applications") == n
        and build.get("version") == BUILD_VERSION
        and build.get("applications_only", False) == applications_only
    )
    if reusable and not applications_only and not _shared_pdf_matches(url):
        # Another copy of the tree built it, with its own media folder: the pages serving
        # the PDFs check their SHA-256 and would answer 500.
        log("rebuilding: the shared permit PDF in MEDIA_ROOT is not the one the rows record")
        reusable = False
    if reusable:
        missing = _unapplied_migrations()
        forward_only = not any(name.endswith("(not in the code)") for name in missing)
        if missing and forward_only and os.environ.get("BENCH_MIGRATE_REUSED") == "1":
            # Quicker than a rebuild, but the new columns hold their defaults, not what the
            # generator would write: recorded with the build, and said in the results.
            log(f"migrating the reused database forward: {missing}")
            call_command("migrate", interactive=False, verbosity=0)
            build = {**build, "migrated_forward": [*build.get("migrated_forward", []), *missing]}
            with _connect(url, autocommit=True) as conn:
                conn.execute(
                    "UPDATE bench_meta SET value = %s WHERE key = 'build'",
                    [psycopg.types.json.Jsonb(build)],
                )
            return {**build, "reused": True}
        if missing:
            log(f"rebuilding: the database's migrations are not the code's: {missing}")
        else:
            log(f"reusing database {environment.database_name(url)} ({n} applications)")
            return {**build, "reused": True}
    started = time.monotonic()
    _recreate_database(url)
    log("migrating")
    call_command("migrate", interactive=False, verbosity=0)
    config = _configuration()
    log(f"loading {n} applications with COPY")
    stats = _load(url, n, config, applications_only=applications_only)
    build = {
        "applications": n,
        "applications_only": applications_only,
        "version": BUILD_VERSION,
        "built_at": timezone.now().isoformat(timespec="seconds"),
        "rows": stats["rows"],
        "per_application": {table: round(count / n, 2) for table, count in stats["rows"].items()},
        "long_open_inspections": stats["long_open"],
        "seconds": round(time.monotonic() - started, 1),
    }
    with _connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        conn.execute(
            "INSERT INTO bench_meta VALUES ('build', %s)", [psycopg.types.json.Jsonb(build)]
        )
    log(f"database built in {build['seconds']} s: {build['per_application']} per application")
    return {**build, "reused": False}


def _recreate_database(url: str) -> None:
    name = environment.database_name(url)
    connections.close_all()
    with _connect(environment.maintenance_url(url), autocommit=True) as conn:
        log(f"(re)creating database {name}")
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _configuration() -> dict:
    """Municipalities, staff, inspection and permit types, the permit template: the rows
    an administrator creates, made with demo.builders (as the tests and the demo make them)
    and the template through its service."""
    from core.models import Municipality, Role
    from demo import builders
    from occupancy.defaults import default_template
    from occupancy.models import OccupancyPermitTemplate, OccupancyPermitType
    from occupancy.services import permit_template_preview, permit_template_save

    password = make_password(PASSWORD)  # hashed once, shared by every bench user
    cities = []
    for slug, name, city, staff in [
        ("lakeport", "City of Lakeport", "Lakeport", 30),
        ("northfield", "Township of Northfield", "Northfield", 3),
    ]:
        municipality = builders.municipality(
            slug=slug,
            name=name,
            city=city,
            department_name="Building Division",
            street_address="1 City Hall Square",
            postal_code="L5B 3C1",
            phone="905-555-0100",
            email=f"building@{slug}.example.com",
            chief_building_official="Alex Morgan",
        )
        inspectors = {}
        for i in range(1, staff + 1):
            user = builders.staff_user(
                username=f"{slug}-inspector-{i:02}",
                municipality=municipality,
                role=Role.INSPECTOR,
                hashed_password=password,
                first_name=["Daniel", "Priya", "Luc", "Mei", "Omar"][i % 5],
                last_name=f"Inspector {i:02}",
            )
            inspectors[user.pk] = user.get_full_name()
        for role in (Role.CLERK, Role.VIEWER):
            builders.staff_user(
                username=f"{slug}-{role}",
                municipality=municipality,
                role=role,
                hashed_password=password,
            )
        types = {}
        for type_name, kind, order in INSPECTION_TYPES:
            inspection_type = builders.inspection_type(
                municipality=municipality, name=type_name, kind=kind, display_order=order
            )
            types[type_name] = (inspection_type.pk, kind)
        permit_type = builders.permit_type(
            municipality=municipality, name="General", number_format="{prefix}-{year}-{seq:05}"
        )
        template = permit_template_save(
            template=OccupancyPermitTemplate(
                municipality=municipality,
                permit_type=permit_type,
                name="General occupancy permit",
                body=default_template("general.html").body,
                stylesheet=default_template("general.html").stylesheet,
            ),
            actor=None,
        )
        cities.append(
            {
                "municipality_id": municipality.pk,
                "slug": slug,
                "city": city,
                "inspector_ids": inspectors,
                "inspection_types": types,
                "permit_type_id": permit_type.pk,
                "template_version_id": template.versions.get().pk,
                "municipality_snapshot": MunicipalityPart.of(municipality).to_json(),
            }
        )
    # One real permit PDF stands for every generated permit and inspection report.
    first = Municipality.objects.get(pk=cities[0]["municipality_id"])
    pdf = permit_template_preview(
        body=default_template("general.html").body,
        stylesheet=default_template("general.html").stylesheet,
        permit_type=OccupancyPermitType.objects.get(pk=cities[0]["permit_type_id"]),
        municipality=first,
    )
    for name in (SHARED_PERMIT_PDF, SHARED_REPORT_PDF):
        path = environment.MEDIA_ROOT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pdf)
    digest = hashlib.sha256(pdf).hexdigest()
    for city in cities:
        city.update(permit_sha256=digest, report_sha256=digest)
    connections.close_all()
    return {"cities": cities}


@contextlib.contextmanager
def _without_secondary_constraints(url: str, tables: list[str]):
    """Drop the tables' foreign keys and non-constraint indexes, recreate them afterwards."""
    with _connect(url, autocommit=True) as conn:
        fks = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [tables],
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i"
            " WHERE indrelid = ANY(%s::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
            " WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))",
            [tables],
        ).fetchall()
        for table, name, _ in fks:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
    yield
    with _connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        started = time.monotonic()
        for _, definition in indexes:
            conn.execute(definition)
        log(f"{len(indexes)} indexes recreated in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        for table, name, definition in fks:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        log(
            f"{len(fks)} foreign keys recreated and validated in {time.monotonic() - started:.1f} s"
        )


def vacuum_analyze(url: str) -> float:
    """VACUUM (ANALYZE) the whole database; returns the seconds it took."""
    connections.close_all()
    started = time.monotonic()
    with _connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    seconds = round(time.monotonic() - started, 1)
    log(f"VACUUM (ANALYZE) in {seconds} s")
    return seconds


def _load(url: str, n: int, config: dict, *, applications_only: bool = False) -> dict:
    from occupancy.models import PermitNumberSequence

    now = timezone.now()
    today = timezone.localdate(now)
    ids = {}
    with _connect(url) as conn:
        for table in BULK_TABLES:
            ids[table] = conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]
    small = max(n // 100, 10)
    big, little = config["cities"]
    generators = [
        Generator(
            n=n - small,
            now=now,
            today=today,
            config=big,
            ids=ids,
            seed=SEED,
            number_prefix="BP",
            long_open=0 if applications_only else max(20, n // 4000),
            applications_only=applications_only,
        ),
        Generator(
            n=small,
            now=now,
            today=today,
            config=little,
            ids=ids,
            seed=SEED + 1,
            number_prefix="NF",
            applications_only=applications_only,
        ),
    ]
    started = time.monotonic()
    with _without_secondary_constraints(url, BULK_TABLES):
        with contextlib.ExitStack() as stack:
            copies = {}
            for table, columns in COLUMNS.items():
                conn = stack.enter_context(_connect(url))
                conn.execute("SET synchronous_commit = off")
                # The rows are history (closed visits with their findings): loaded like
                # pg_restore --disable-triggers, past the record guards (inspections 0008,
                # occupancy 0011) that refuse adding to a closed visit.
                conn.execute("SET session_replication_role = replica")
                copies[table] = stack.enter_context(
                    conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
                )
            for generator in generators:
                for table, row in generator.rows():
                    copies[table].write_row(row)
        log(f"rows copied in {time.monotonic() - started:.1f} s")
    with _connect(url, autocommit=True) as conn:
        for table in BULK_TABLES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
    for generator, city in zip(generators, config["cities"], strict=True):
        PermitNumberSequence.objects.bulk_create(
            PermitNumberSequence(
                municipality_id=city["municipality_id"],
                key="occupancy",
                year=year,
                last_value=count,
            )
            for year, count in generator.permits_per_year.items()
        )
    # Vacuum too: a freshly loaded table would otherwise be vacuumed by autovacuum in the
    # middle of the measurements.
    vacuum_analyze(url)
    rows = {table: 0 for table in COLUMNS}
    for generator in generators:
        for table, count in generator.stats.items():
            rows[table] += count
    return {"rows": rows, "long_open": generators[0].long_open_codes}

"""The benchmark's generated rows against the real schema.

`make bench` loads its rows with PostgreSQL COPY into the columns the models declare; here the
same rows go in with one multi-row INSERT per table (any database), so a generator that no
longer fits the schema is caught by the suite, not an hour into a benchmark run.
"""

import datetime as dt

import pytest
from django.db import connection, models
from django.utils import timezone

from bench.data import (
    COLUMNS,
    INSPECTION_TYPES,
    LONG_FINDINGS,
    LONG_VISITS,
    ColumnMismatch,
    Generator,
    bulk_tables,
)
from core.models import Activity, Role
from demo import builders
from inspections.models import Finding, Inspection, Order, Visit, VisitStatus
from occupancy.models import OccupancyPermit
from occupancy.snapshot import MunicipalityPart
from permits.models import Application


def bench_config() -> dict:
    """What bench.build makes before the COPY, built the same way, without the PDF."""
    municipality = builders.municipality(slug="lakeport", name="City of Lakeport", city="Lakeport")
    inspectors = {}
    for i in range(1, 4):
        user = builders.staff_user(
            username=f"lakeport-inspector-{i:02}",
            municipality=municipality,
            role=Role.INSPECTOR,
            last_name=f"Inspector {i:02}",
        )
        inspectors[user.pk] = user.get_full_name()
    types = {
        name: (builders.inspection_type(municipality=municipality, name=name, kind=kind).pk, kind)
        for name, kind, _ in INSPECTION_TYPES
    }
    permit_type = builders.permit_type(municipality=municipality)
    template = builders.permit_template(permit_type=permit_type)
    return {
        "municipality_id": municipality.pk,
        "city": municipality.city,
        "inspector_ids": inspectors,
        "inspection_types": types,
        "permit_type_id": permit_type.pk,
        "template_version_id": template.versions.get().pk,
        "municipality_snapshot": MunicipalityPart.of(municipality).to_json(),
        "permit_sha256": "0" * 64,
        "report_sha256": "0" * 64,
    }


def generator(config, n=120) -> Generator:
    now = timezone.now()
    return Generator(
        n=n,
        now=now,
        today=timezone.localdate(now),
        config=config,
        ids=dict.fromkeys(COLUMNS, 1),
        seed=2026,
        number_prefix="BP",
        long_open=2,
    )


def load(rows) -> None:
    """One multi-row INSERT per table into the columns bench.data names: the bench's bulk
    write, without COPY; past the record guards, as bench.build loads it (history)."""
    by_table: dict[str, list[tuple]] = {table: [] for table in COLUMNS}
    for table, values in rows:
        by_table[table].append(values)
    with builders.written_as_history(), connection.cursor() as cursor:
        for table, values in by_table.items():
            columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS[table])
            marks = ", ".join(["%s"] * len(COLUMNS[table]))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                [tuple(adapt(v) for v in row) for row in values],
            )


def adapt(value):
    # COPY takes PostgreSQL's text forms; a DB-API INSERT wants the database's own.
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def test_bench_columns_are_the_models_columns():
    assert COLUMNS["inspections_visit"] == tuple(f.column for f in Visit._meta.concrete_fields)
    assert set(COLUMNS) == {
        m._meta.db_table
        for m in (Application, Inspection, Visit, Finding, Order, Activity, OccupancyPermit)
    }


def test_bench_rows_load_into_the_schema_and_read_back_through_the_orm(db):
    config = bench_config()
    rows = generator(config)
    load(rows.rows())

    assert Application.objects.count() == 120
    assert rows.stats == {
        "permits_application": 120,
        "inspections_inspection": Inspection.objects.count(),
        "inspections_visit": Visit.objects.count(),
        "inspections_finding": Finding.objects.count(),
        "inspections_order": Order.objects.count(),
        "permits_activity": Activity.objects.count(),
        "occupancy_occupancypermit": OccupancyPermit.objects.count(),
    }
    assert all(count > 0 for count in rows.stats.values())
    # The long histories end in an open visit, one per inspection (the database's rule), and
    # are the inspection view's budget case: 40 visits, 100 findings.
    assert len(rows.long_open_codes) == 2
    for code in rows.long_open_codes:
        inspection = Inspection.objects.get(code=code)
        assert inspection.visits.filter(status=VisitStatus.OPEN).count() == 1
        assert inspection.visits.count() == LONG_VISITS == 40
        assert Finding.objects.filter(visit__inspection=inspection).count() == LONG_FINDINGS == 100
    permit = OccupancyPermit.objects.select_related("visit", "application").first()
    assert permit.visit.inspection.application == permit.application
    assert permit.snapshot["application"]["number"] == permit.application.number
    application = Application.objects.get(pk=permit.application_id)
    assert application.search_text == application.build_search_text()


def test_bench_applications_only_rows_load_and_are_all_applications(db):
    """The search-at-scale database: applications alone, each with its search text."""
    config = bench_config()
    rows = generator(config, n=60)
    rows.applications_only = True
    load(rows.rows())

    assert Application.objects.count() == 60
    assert Inspection.objects.count() == Activity.objects.count() == 0
    application = Application.objects.order_by("?").first()
    assert application.search_text == application.build_search_text()


def test_bench_row_missing_a_new_model_column_fails_naming_model_and_column(db, monkeypatch):
    """A column added to Visit that the generator does not write stops the build."""
    weather = models.CharField(max_length=40, default="")
    weather.set_attributes_from_name("weather")
    monkeypatch.setitem(
        Visit._meta.__dict__, "concrete_fields", (*Visit._meta.concrete_fields, weather)
    )

    with pytest.raises(ColumnMismatch) as caught:
        list(generator(bench_config(), n=5).rows())

    assert caught.value.model is Visit
    assert caught.value.missing == ["weather"]
    assert caught.value.extra == []
    assert str(caught.value) == (
        "bench rows for inspections.Visit (table inspections_visit) do not match the model's "
        "columns: missing ['weather'], extra none. Bring bench/data.py's Generator up to date."
    )


def test_bench_row_for_a_removed_model_column_fails_naming_it(db, monkeypatch):
    """A column dropped from Finding that the generator still writes stops the build."""
    kept = tuple(f for f in Finding._meta.concrete_fields if f.column != "is_remark")
    monkeypatch.setitem(Finding._meta.__dict__, "concrete_fields", kept)

    with pytest.raises(ColumnMismatch, match=r"inspections\.Finding .*extra \['is_remark'\]"):
        list(generator(bench_config(), n=20).rows())


def test_bulk_table_refuses_a_row_with_a_misspelt_column():
    table = bulk_tables()["permits_activity"]
    row = dict.fromkeys(table.columns)
    row["actor"] = row.pop("actor_id")

    with pytest.raises(ColumnMismatch) as caught:
        table.values(row)

    assert (caught.value.missing, caught.value.extra) == (["actor_id"], ["actor"])
    assert table.values(dict.fromkeys(table.columns, 1)) == (1,) * len(table.columns)

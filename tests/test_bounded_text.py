"""Issue 16, deliverable 1: every free text a user types has a maximum that the database
holds too (core.text_limits), so no path that skips a form (the admin, an import, the shell,
a bug) can store a text that makes a close render for 30 s under the number lock.

Rows stored before the limit existed stay as they are (the constraints are added NOT VALID:
issued permits and closed visits may not be changed, and a migration must not fail on them).
"""

import datetime

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.db.migrations.executor import MigrationExecutor

from core.text_limits import BoundedTextField
from inspections.models import Finding, Inspection, InspectionStatus, Order, Visit
from occupancy.models import GrantDraft, OccupancyPermitTemplate, OccupancyPermitTemplateVersion
from permits.models import Application
from scheduling.models import InspectionRequest, RequestStatus
from tests.factories import make_finding, make_inspection, make_order

# What a user types, by field, and the limit it is held to (docs/architecture.md lists them).
LIMITS = {
    "permits.Application.description": 4000,
    "permits.Application.legal_description": 2000,
    "inspections.Inspection.cancelled_reason": 1000,
    "inspections.Visit.internal_notes": 5000,
    "inspections.Visit.site_conditions": 2000,
    "inspections.Finding.description": 5000,
    "inspections.Order.description": 5000,
    "occupancy.GrantDraft.description": 2000,
    "occupancy.OccupancyPermit.description": 2000,
    "occupancy.OccupancyPermitRevocation.reason": 5000,
    "occupancy.OccupancyPermitTemplate.body": 250_000,
    "occupancy.OccupancyPermitTemplate.stylesheet": 250_000,
    "occupancy.OccupancyPermitTemplateVersion.body": 250_000,
    "occupancy.OccupancyPermitTemplateVersion.stylesheet": 250_000,
    "scheduling.InspectionRequest.access_notes": 1000,
    "scheduling.InspectionRequest.decline_reason": 1000,
    "scheduling.InspectionRequest.cancel_reason": 1000,
}
BOUNDED_APPS = ("core", "permits", "inspections", "occupancy", "exchange", "scheduling")


def text_fields():
    for app_label in BOUNDED_APPS:
        for model in apps.get_app_config(app_label).get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, models.TextField) and field.editable:
                    yield f"{model._meta.label}.{field.name}", model, field


def test_every_text_field_a_user_types_is_bounded_with_its_listed_limit():
    found = {
        label: field.max_length
        for label, _, field in text_fields()
        # An e-mail the app composes itself (core's outbox), not typed by anyone.
        if label != "core.Delivery.body"
    }
    assert found == LIMITS
    # Typed in the app's forms: the clear message and the limit in the help text. A permit
    # template's editor (the admin) states and checks its own, lower, limits.
    plain = {label for label, _, f in text_fields() if not isinstance(f, BoundedTextField)}
    assert {label for label in plain if label in LIMITS} == {
        f"occupancy.{model}.{field}"
        for model in ("OccupancyPermitTemplate", "OccupancyPermitTemplateVersion")
        for field in ("body", "stylesheet")
    }


@pytest.mark.django_db
def test_every_bounded_field_has_its_named_check_constraint_in_the_database():
    missing = []
    with connection.cursor() as cursor:
        for label, model, field in text_fields():
            if label not in LIMITS:
                continue
            table = model._meta.db_table
            constraints = connection.introspection.get_constraints(cursor, table)
            name = f"{table}_{field.name}_max_length"
            if not constraints.get(name, {}).get("check"):
                missing.append(name)
    assert missing == []


@pytest.fixture
def rows(application_a, occupancy_type_a, inspector, general_template):
    inspection = make_inspection(application_a, occupancy_type_a)
    visit = Visit.objects.create(inspection=inspection, sequence=1, started_by=inspector)
    return {
        "application": application_a,
        "inspection": make_inspection(application_a, occupancy_type_a),
        "visit": visit,
        "finding": make_finding(visit, inspector),
        "order": make_order(visit, inspector),
        "draft": GrantDraft.objects.create(visit=visit),
        "template": general_template,
        "request": InspectionRequest.objects.create(
            municipality=application_a.municipality,
            application=application_a,
            inspection_type=occupancy_type_a,
            inspection=make_inspection(application_a, occupancy_type_a),
            requested_date=datetime.date(2026, 12, 16),
            site_contact_name="Sam Builder",
            site_contact_phone="905-555-0142",
            requested_by=inspector,
        ),
    }


def write(rows, target: str, field: str, text: str) -> None:
    """Write `text` into the field straight through the ORM, as no form would let it."""
    if target == "version":
        template = rows["template"]
        values = {"body": "<p>v2</p>", field: text}
        OccupancyPermitTemplateVersion.objects.create(
            template=template, version=template.versions.count() + 1, **values
        )
        return
    row = rows[target]
    values = {field: text}
    if target == "inspection":  # a reason only with a cancellation (its own constraint)
        values["status"] = InspectionStatus.CANCELLED
    if target == "request" and field != "access_notes":  # likewise, declined or cancelled
        reason_of = {
            "decline_reason": RequestStatus.DECLINED,
            "cancel_reason": RequestStatus.CANCELLED,
        }
        values["status"] = reason_of[field]
    type(row).objects.filter(pk=row.pk).update(**values)


WRITES = [
    ("application", Application, "description", 4000),
    ("application", Application, "legal_description", 2000),
    ("inspection", Inspection, "cancelled_reason", 1000),
    ("visit", Visit, "internal_notes", 5000),
    ("visit", Visit, "site_conditions", 2000),
    ("finding", Finding, "description", 5000),
    ("order", Order, "description", 5000),
    ("draft", GrantDraft, "description", 2000),
    ("template", OccupancyPermitTemplate, "body", 250_000),
    ("template", OccupancyPermitTemplate, "stylesheet", 250_000),
    ("version", OccupancyPermitTemplateVersion, "body", 250_000),
    ("version", OccupancyPermitTemplateVersion, "stylesheet", 250_000),
    ("request", InspectionRequest, "access_notes", 1000),
    ("request", InspectionRequest, "decline_reason", 1000),
    ("request", InspectionRequest, "cancel_reason", 1000),
]


@pytest.mark.parametrize(
    "target, model, field, limit", WRITES, ids=[f"{w[1].__name__}.{w[2]}" for w in WRITES]
)
def test_the_database_refuses_a_text_one_character_over_its_limit(
    rows, target, model, field, limit
):
    # Characters, not bytes: "é" is two bytes in UTF-8, and the limit counts it once.
    write(rows, target, field, "é" * limit)
    assert model.objects.filter(**{f"{field}__startswith": "é" * 10}).exists()

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        write(rows, target, field, "é" * (limit + 1))
    assert f"{model._meta.db_table}_{field}_max_length" in str(refused.value)
    longest = max(len(value) for value in model.objects.values_list(field, flat=True))
    assert longest == limit


# The last migration of each app before the limits (issue 16).
BEFORE_LIMITS = [
    ("permits", "0005_move_to_core"),
    ("inspections", "0009_report_after_close"),
    ("occupancy", "0012_proof_records_append_only"),
]


@pytest.fixture
def executor(transactional_db):
    executor = MigrationExecutor(connection)
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_older_longer_texts_are_shortened_unless_a_legal_record_and_new_ones_refused(executor):
    executor.migrate(BEFORE_LIMITS)
    old = executor.loader.project_state(BEFORE_LIMITS).apps
    town = old.get_model("core", "Municipality").objects.create(name="Oldtown")
    inspector = old.get_model("auth", "User").objects.create(username="old-inspector")
    application = old.get_model("permits", "Application").objects.create(
        municipality=town,
        number="OLD-1",
        description="d" * 9000,
        legal_description="l" * 3000,
        street_address="1 Main Street",
        city="Oldtown",
        applicant_name="Ann Old",
        applied_on=datetime.date(2020, 1, 2),
    )
    framing = old.get_model("inspections", "InspectionType").objects.create(
        municipality=town, name="Framing"
    )
    visits = {}
    for status in ("open", "closed"):
        inspection = old.get_model("inspections", "Inspection").objects.create(
            application=application, inspection_type=framing
        )
        closed = {"result": "failed", "failure_reason": "deficiencies", "closed_by": inspector}
        visits[status] = old.get_model("inspections", "Visit").objects.create(
            inspection=inspection,
            sequence=1,
            started_by=inspector,
            status=status,
            site_conditions="s" * 2_000_000,
            **(
                closed | {"closed_at": datetime.datetime(2020, 3, 4, tzinfo=datetime.UTC)}
                if status == "closed"
                else {}
            ),
        )

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    # Not a legal record: shortened to the limit, so the row can still be updated.
    kept = Application.objects.get(number="OLD-1")
    assert kept.description == "d" * 3999 + "…"
    assert kept.legal_description == "l" * 1999 + "…"
    assert Visit.objects.get(pk=visits["open"].pk).site_conditions == "s" * 1999 + "…"
    closed = Visit.objects.get(pk=visits["closed"].pk)
    if connection.vendor == "postgresql":
        # A closed visit is a legal record: exactly as it was (the check is NOT VALID).
        assert len(closed.site_conditions) == 2_000_000
    else:
        # SQLite re-checks every row whenever it copies a table: shortened there too.
        assert closed.site_conditions == "s" * 1999 + "…"

    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=kept.pk).update(description="n" * 4001)
    Application.objects.filter(pk=kept.pk).update(status="in_review")
    assert Application.objects.get(pk=kept.pk).status == "in_review"

"""Bounded text (issue 16): a cancellation's reason, a visit's internal notes and site
conditions, and the descriptions of findings and orders get a maximum in the database, the
same the forms refuse at the field. The close renders the report from these texts; an
unbounded one made a close run for 30 s under the permit-number lock.

The fields stay `text` columns: a TextField's max_length changes nothing in the database, so
the AlterFields are state only (no table copy). Rows stored before the limit and longer
than it (core.text_limits.AddConstraintNotValid):
- of an open visit, or an inspection's reason: shortened to the limit (ending in "…", each
  printed by migrate), so that the visit can still be saved and closed;
- of a closed visit: a legal record the record guards (0008) forbid changing, so left
  exactly as it is; the check is added NOT VALID on PostgreSQL, which checks every write
  from now on without failing on, or scanning, the rows stored. The forms have held these
  limits since issue 13, so no such row is expected.
SQLite (no record guards) re-checks every row whenever it copies a table: there, every
longer text is shortened."""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

from core.text_limits import AddConstraintNotValid, BoundedTextField


def bounded(model_name, name, max_length, *args, **options):
    return migrations.AlterField(
        model_name=model_name,
        name=name,
        field=BoundedTextField(*args, max_length=max_length, **options),
    )


def max_length_check(model_name, table, field, limit, shorten):
    return AddConstraintNotValid(
        model_name=model_name,
        shorten=shorten,
        constraint=models.CheckConstraint(
            condition=django.db.models.lookups.LessThanOrEqual(
                django.db.models.functions.text.Length(field), limit
            ),
            name=f"{table}_{field}_max_length",
            violation_error_message=f"Keep this to at most {limit:,} characters.",
        ),
    )


OPEN_VISIT = models.Q(status="open")
ON_OPEN_VISIT = models.Q(visit__status="open")


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0009_report_after_close"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                bounded(
                    "inspection", "cancelled_reason", 1000, "reason for cancelling", blank=True
                ),
                bounded(
                    "visit",
                    "internal_notes",
                    5000,
                    blank=True,
                    help_text="Staff only: never printed on a document or exported.",
                ),
                bounded("visit", "site_conditions", 2000, blank=True),
                bounded("finding", "description", 5000),
                bounded("order", "description", 5000),
            ],
        ),
        max_length_check(
            "inspection", "inspections_inspection", "cancelled_reason", 1000, shorten=True
        ),
        max_length_check("visit", "inspections_visit", "internal_notes", 5000, OPEN_VISIT),
        max_length_check("visit", "inspections_visit", "site_conditions", 2000, OPEN_VISIT),
        max_length_check("finding", "inspections_finding", "description", 5000, ON_OPEN_VISIT),
        max_length_check("order", "inspections_order", "description", 5000, ON_OPEN_VISIT),
    ]

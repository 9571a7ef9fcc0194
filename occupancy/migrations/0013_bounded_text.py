"""Bounded text (issue 16): a grant's description, an issued permit's description, a
revocation's reason and a permit template's body and stylesheet (and each saved version of
them) get a maximum, refused by the form at the field and by the database.

The fields stay `text` columns: a TextField's max_length changes nothing in the database, so
the AlterFields are state only (no table copy). Rows stored before the limit and longer
than it (core.text_limits.AddConstraintNotValid):
- a template, or the grant draft of an open visit: shortened to the limit (ending in "…",
  each printed by migrate), so that it can still be saved;
- an issued permit, a revocation, a template version that permits were rendered from:
  legal records the record guards (0011, 0012) forbid changing, so left exactly as they are;
  the check is added NOT VALID on PostgreSQL, which checks every write from now on without
  failing on, or scanning, the rows stored. The forms have held the grant's and the
  reason's limits since they existed, so no such row is expected.
SQLite (no record guards) re-checks every row whenever it copies a table: there, every
longer text is shortened."""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

from core.text_limits import AddConstraintNotValid, BoundedTextField


def bounded(model_name, name, max_length, field_class=BoundedTextField, **options):
    return migrations.AlterField(
        model_name=model_name,
        name=name,
        field=field_class(max_length=max_length, **options),
    )


def backstop(model_name, name, max_length, **options):
    """A template's source: a plain TextField (the editor states and checks its own, lower
    limits), bounded in the database."""
    return bounded(model_name, name, max_length, field_class=models.TextField, **options)


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


ON_OPEN_VISIT = models.Q(visit__status="open")


class Migration(migrations.Migration):
    dependencies = [
        ("occupancy", "0012_proof_records_append_only"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                bounded("grantdraft", "description", 2000, blank=True),
                bounded("occupancypermit", "description", 2000),
                bounded("occupancypermitrevocation", "reason", 5000),
                backstop(
                    "occupancypermittemplate",
                    "body",
                    250_000,
                    help_text="HTML in the Django template language; its print CSS goes in "
                    "the stylesheet.",
                ),
                backstop(
                    "occupancypermittemplate",
                    "stylesheet",
                    250_000,
                    blank=True,
                    help_text="Print CSS for this template (WeasyPrint): @page, fonts, layout. "
                    "Images only as data: URIs; no @import.",
                ),
                backstop("occupancypermittemplateversion", "body", 250_000),
                backstop("occupancypermittemplateversion", "stylesheet", 250_000, blank=True),
            ],
        ),
        max_length_check(
            "grantdraft", "occupancy_grantdraft", "description", 2000, ON_OPEN_VISIT
        ),
        max_length_check(
            "occupancypermit", "occupancy_occupancypermit", "description", 2000, shorten=False
        ),
        max_length_check(
            "occupancypermitrevocation",
            "occupancy_occupancypermitrevocation",
            "reason",
            5000,
            shorten=False,
        ),
        max_length_check(
            "occupancypermittemplate",
            "occupancy_occupancypermittemplate",
            "body",
            250_000,
            shorten=True,
        ),
        max_length_check(
            "occupancypermittemplate",
            "occupancy_occupancypermittemplate",
            "stylesheet",
            250_000,
            shorten=True,
        ),
        max_length_check(
            "occupancypermittemplateversion",
            "occupancy_occupancypermittemplateversion",
            "body",
            250_000,
            shorten=False,
        ),
        max_length_check(
            "occupancypermittemplateversion",
            "occupancy_occupancypermittemplateversion",
            "stylesheet",
            250_000,
            shorten=False,
        ),
    ]

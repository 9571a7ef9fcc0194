"""Bounded text (issue 16): an application's description and legal description get a
maximum, refused by the form at the field and by the database.

The fields stay `text` columns (a TextField's max_length changes nothing in the database, so
its AlterField is state only: no table copy). An application is not a legal record and is
updated all the time (its status, its search text), so a text stored before the limit and
longer than it is shortened to it (ending in "…", each printed by migrate) rather than
left to make every later update of its row fail; the check is then added NOT VALID on
PostgreSQL, sparing a scan under the table's lock (core.text_limits.AddConstraintNotValid).
The limits sit far above any real row: Burlington's longest description is 40 characters."""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

import core.text_limits


class Migration(migrations.Migration):
    dependencies = [
        ("permits", "0005_move_to_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="application",
                    name="description",
                    field=core.text_limits.BoundedTextField(max_length=4000),
                ),
                migrations.AlterField(
                    model_name="application",
                    name="legal_description",
                    field=core.text_limits.BoundedTextField(blank=True, max_length=2000),
                ),
            ],
        ),
        core.text_limits.AddConstraintNotValid(
            model_name="application",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("description"), 4000
                ),
                name="permits_application_description_max_length",
                violation_error_message="Keep this to at most 4,000 characters.",
            ),
        ),
        core.text_limits.AddConstraintNotValid(
            model_name="application",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("legal_description"), 2000
                ),
                name="permits_application_legal_description_max_length",
                violation_error_message="Keep this to at most 2,000 characters.",
            ),
        ),
    ]

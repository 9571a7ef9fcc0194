"""Imported history is kept whole (issue 16): an application gets `data_quality_notes`, set by
the importer when the source's record is odd, and the check that a permit is not issued
before its application was made allows such a record when it carries its notes. Entered in
Threshold (forms, services, the admin without notes), the check refuses it as before.
Existing rows have no notes, so the check holds for them unchanged."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("permits", "0007_search_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="data_quality_notes",
            field=models.CharField(blank=True, default="", max_length=500),
        ),
        migrations.RemoveConstraint(
            model_name="application",
            name="application_issued_not_before_applied",
        ),
        migrations.AddConstraint(
            model_name="application",
            constraint=models.CheckConstraint(
                condition=models.Q(permit_issued_on__isnull=True)
                | models.Q(permit_issued_on__gte=models.F("applied_on"))
                | ~models.Q(data_quality_notes=""),
                name="application_issued_not_before_applied",
            ),
        ),
    ]

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Before this migration an inspection could only be set to Cancelled in the admin, without a
# reason; the new constraint needs one.
EARLIER_REASON = "Cancelled before reasons were recorded."


def give_earlier_cancellations_a_reason(apps, schema_editor):
    Inspection = apps.get_model("inspections", "Inspection")
    Inspection.objects.filter(status="cancelled", cancelled_reason="").update(
        cancelled_reason=EARLIER_REASON
    )


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0004_remove_visit_grant_draft"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="inspection",
            name="cancelled_reason",
            field=models.TextField(
                blank=True, max_length=1000, verbose_name="reason for cancelling"
            ),
        ),
        migrations.AddField(
            model_name="inspection",
            name="cancelled_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="inspection",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(give_earlier_cancellations_a_reason, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="inspection",
            constraint=models.CheckConstraint(
                condition=(models.Q(status="cancelled") & ~models.Q(cancelled_reason=""))
                | (~models.Q(status="cancelled") & models.Q(cancelled_reason="")),
                name="inspection_cancelled_has_reason",
                violation_error_message="A cancelled inspection needs a reason, and only a "
                "cancelled one has one: cancel it from the inspection page.",
            ),
        ),
    ]

"""Follow-up visits (issue 13): a closed inspection with outstanding matters can be reopened
for a follow-up visit, which resolves them and never issues a permit. Choices and checks only:
no existing row changes."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0005_inspection_cancellation"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="inspection",
            name="inspection_status_valid",
        ),
        migrations.AlterField(
            model_name="inspection",
            name="status",
            field=models.CharField(
                choices=[
                    ("not_started", "Not started"),
                    ("in_progress", "Visit in progress"),
                    ("revisit_required", "Not passed – new visit required"),
                    ("closed", "Closed"),
                    ("cancelled", "Cancelled"),
                    ("follow_up", "Follow-up of outstanding matters"),
                ],
                default="not_started",
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="inspection",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "not_started",
                            "in_progress",
                            "revisit_required",
                            "closed",
                            "cancelled",
                            "follow_up",
                        ],
                    )
                ),
                name="inspection_status_valid",
            ),
        ),
        migrations.AlterField(
            model_name="visit",
            name="visit_type",
            field=models.CharField(
                choices=[
                    ("on_site", "On-site"),
                    ("communication_only", "Communication only"),
                    ("follow_up", "Follow-up of outstanding matters"),
                ],
                default="on_site",
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="visit",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("visit_type", "follow_up"), _negated=True),
                    models.Q(("result__in", ["granted_full", "granted_outstanding"]), _negated=True),
                    _connector="OR",
                ),
                name="visit_follow_up_never_grants",
            ),
        ),
    ]

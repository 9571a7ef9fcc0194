from django.db import migrations


class Migration(migrations.Migration):
    # The grant draft is now occupancy's own model (occupancy 0005 copied every draft there).
    dependencies = [
        ("inspections", "0003_municipality_in_core"),
        ("occupancy", "0005_grant_draft"),
    ]

    operations = [migrations.RemoveField(model_name="visit", name="grant_draft")]

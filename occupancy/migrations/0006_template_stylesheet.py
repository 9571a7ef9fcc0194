from django.db import migrations, models

# Templates and versions of the previous release keep their bodies as they are, with an
# empty stylesheet. Their <style> elements are not moved out: a body with its own <style>
# renders exactly as before, so every permit already issued re-renders byte for byte from
# its version (body, empty stylesheet) and its snapshot. A moved sheet would cascade as a
# user-origin sheet instead of an author one, which is not the same rendering for every CSS.


class Migration(migrations.Migration):
    dependencies = [("occupancy", "0005_grant_draft")]

    operations = [
        migrations.AddField(
            model_name="occupancypermittemplate",
            name="stylesheet",
            field=models.TextField(
                blank=True,
                help_text="Print CSS for this template (WeasyPrint): @page, fonts, layout. "
                "Images only as data: URIs; no @import.",
            ),
        ),
        migrations.AddField(
            model_name="occupancypermittemplateversion",
            name="stylesheet",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="occupancypermittemplate",
            name="body",
            field=models.TextField(
                help_text="HTML in the Django template language; its print CSS goes in the "
                "stylesheet."
            ),
        ),
    ]

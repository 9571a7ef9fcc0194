from django.core.management import call_command
from django.db import migrations, models


def create_cache_table(apps, schema_editor):
    # The password reset throttle counts in Django's database cache (settings.CACHES), shared
    # by every worker. Making its table here means every installation that migrates has it:
    # `make run`, CI and a production deploy alike, with no extra command to remember.
    # createcachetable skips a table that exists (a test database already has it).
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_roles_and_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="municipality",
            name="require_two_factor_for_officials",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Require a second factor (authenticator app) for municipal administrators "
                    "and chief building officials."
                ),
                verbose_name="require a second factor for officials",
            ),
        ),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=True),
    ]

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# A trigram GIN index makes LIKE '%word%' on search_text an index scan on PostgreSQL.
# SQLite has no such index: there the search falls back to a plain scan.
CREATE = (
    "CREATE INDEX IF NOT EXISTS application_search_trgm_idx "
    "ON permits_application USING gin (search_text gin_trgm_ops)"
)
DROP = "DROP INDEX IF EXISTS application_search_trgm_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("permits", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]

# An index on django_tasks_db's job table, which Threshold does not own: the stranded-mail
# rule (core.models._stranded) asks it, for every queued delivery, whether a live
# delivery_send job exists. Finished jobs pile up between two prunes (prune_job_results,
# nightly), and without this index that question read every one of them. Partial: only
# the few live rows (READY, RUNNING) are in it, so its size and the lookup's time do not
# grow with the finished history. The package has no index on task_path; the name is ours
# (core_ prefix) and cannot clash with its own (tasks_db_..., django_task_...). Raw SQL: a
# migration's AddIndex reaches only its own app's models. PostgreSQL uses it (its planner
# proves the rule's READY-or-recently-RUNNING within the condition); SQLite builds it too
# but will not match a partial index against Django's bound parameters (development only).

from django.db import migrations

INDEX = "core_dbtaskresult_live_task_path_idx"
TABLE = "django_tasks_database_dbtaskresult"
COLUMNS = "(task_path) WHERE status IN ('READY', 'RUNNING')"


def create_index(apps, schema_editor):
    """On PostgreSQL CONCURRENTLY: a plain CREATE INDEX would hold up every enqueue and
    claim of the job table while it builds, during a rolling upgrade whose old servers
    keep serving (docs/deploying.md). A concurrent build that failed leaves an invalid
    index of that name: dropped and built again."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} {COLUMNS}")
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
            "WHERE c.relname = %s",
            [INDEX],
        )
        found = cursor.fetchone()
        if found is not None and not found[0]:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
        cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON {TABLE} {COLUMNS}")


def drop_index(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        ("core", "0012_delivery_last_queued_at"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]

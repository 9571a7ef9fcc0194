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


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0012_delivery_last_queued_at"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} (task_path) "
                "WHERE status IN ('READY', 'RUNNING')"
            ),
            reverse_sql=f"DROP INDEX IF EXISTS {INDEX}",
        ),
    ]

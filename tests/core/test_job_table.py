"""The job table (django_tasks_db) over months: finished jobs are pruned nightly after
JOB_RESULTS_KEEP_DAYS (prune_job_results), never a job that will still send a mail, and the
stranded-mail rule finds live jobs through an index (core 0013) however many finished jobs
are kept."""

import datetime
import io
import logging
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.models import DELIVERY_SEND_TASK, Delivery
from tests.factories import make_delivery

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
LIVE_JOB_INDEX = "core_dbtaskresult_live_task_path_idx"
FINISHED = ("SUCCESSFUL", "FAILED")
# django-tasks' prune command reports through this logger (to stdout when nothing else logs).
PRUNE_LOG = "django_tasks_db.prune_db_task_results"


def job(status, *, days_ago=0, delivery=None, queue="default", task_path=DELIVERY_SEND_TASK):
    """A job row as the worker leaves it: finished `days_ago` (SUCCESSFUL, FAILED), or
    waiting (READY) or claimed (RUNNING) since then."""
    at = timezone.now() - datetime.timedelta(days=days_ago)
    return DBTaskResult(
        id=uuid.uuid4(),
        status=status,
        args_kwargs={"args": [delivery.pk if delivery else 0], "kwargs": {}},
        task_path=task_path,
        backend_name="default",
        queue_name=queue,
        run_after=at,
        started_at=None if status == "READY" else at,
        finished_at=at if status in FINISHED else None,
        exception_class_path="",
        traceback="",
    )


def queued_mail(application, *, queued_ago):
    when = timezone.now() - queued_ago
    return make_delivery(
        application, recipient="owner@example.com", queued_at=when, last_queued_at=when
    )


def saved(*jobs):
    """Jobs written as the queue writes them (enqueued_at is set on insert: moved back)."""
    DBTaskResult.objects.bulk_create(jobs)
    for row in jobs:
        DBTaskResult.objects.filter(pk=row.pk).update(enqueued_at=row.run_after)
    return [row.pk for row in jobs]


def test_prune_deletes_finished_jobs_past_the_setting_and_never_a_live_one(
    application_a, settings, caplog
):
    settings.TASKS = DATABASE_TASKS
    settings.JOB_RESULTS_KEEP_DAYS = 30
    # A mail whose job waits (deferred, or no worker ran for weeks) and one whose job a worker
    # holds: both will still be sent, whatever their age.
    waiting = queued_mail(application_a, queued_ago=datetime.timedelta(days=60))
    held = queued_mail(application_a, queued_ago=datetime.timedelta(days=60))
    live = saved(
        job("READY", days_ago=60, delivery=waiting),
        job("RUNNING", days_ago=0, delivery=held),
    )
    old = saved(
        job("SUCCESSFUL", days_ago=31),
        job("FAILED", days_ago=31),
        job("SUCCESSFUL", days_ago=31, queue="reports"),
    )
    recent = saved(job("SUCCESSFUL", days_ago=29), job("FAILED", days_ago=29))

    with caplog.at_level(logging.INFO, logger=PRUNE_LOG):
        call_command("prune_job_results")

    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == set(live + recent)
    assert not DBTaskResult.objects.filter(pk__in=old).exists()
    assert caplog.messages == ["Deleted 3 task result(s)"]
    # Their mails are still live: nothing to resend or recover.
    assert not Delivery.objects.filter(pk__in=[waiting.pk, held.pk]).stranded().exists()


def test_prune_dry_run_counts_and_deletes_nothing(db, settings, caplog):
    settings.TASKS = DATABASE_TASKS
    saved(job("FAILED", days_ago=45), job("SUCCESSFUL", days_ago=1))
    with caplog.at_level(logging.INFO, logger=PRUNE_LOG):
        call_command("prune_job_results", "--dry-run", "--keep-days", "40")
    assert caplog.messages == ["Would delete 1 task result(s)"]
    assert DBTaskResult.objects.count() == 2


def test_prune_with_another_job_backend_says_so_and_deletes_nothing(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    saved(job("SUCCESSFUL", days_ago=90))
    out = io.StringIO()
    call_command("prune_job_results", stdout=out)
    assert out.getvalue() == "The job queue is not the database's: nothing to prune.\n"
    assert DBTaskResult.objects.count() == 1


def explain(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN ANALYZE " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the plan of PostgreSQL's planner (partial index)"
)
def test_the_stranded_rule_finds_live_jobs_by_index_among_many_finished_ones(application_a):
    lost = queued_mail(application_a, queued_ago=datetime.timedelta(hours=1))
    waiting = queued_mail(application_a, queued_ago=datetime.timedelta(hours=1))
    saved(job("READY", delivery=waiting))
    # Months of finished jobs, many of them this very mail's: none of them will send it.
    DBTaskResult.objects.bulk_create(
        job(FINISHED[i % 2], days_ago=i % 30, delivery=lost if i % 7 == 0 else None)
        for i in range(20_000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {DBTaskResult._meta.db_table}")

    for queryset in (
        Delivery.objects.stranded(),
        Delivery.objects.filter(application=application_a).with_stranded(),
    ):
        plan = explain(queryset)
        assert f"Index Scan using {LIVE_JOB_INDEX}" in plan, plan
        assert f"Seq Scan on {DBTaskResult._meta.db_table}" not in plan, plan

    assert list(Delivery.objects.stranded()) == [lost]
    shown = {mail.pk: mail.is_stranded for mail in Delivery.objects.with_stranded()}
    assert shown == {lost.pk: True, waiting.pk: False}

"""Background jobs of exchange (run by `manage.py db_worker`, see core.jobs): the import of a
CSV file uploaded in the admin (exchange.importing.runs)."""

from __future__ import annotations

from django_tasks import task

from exchange.importing.runs import import_run_execute


@task()
def import_run_job(run_id: int) -> bool:
    """Import the stored file of queued ImportRun `run_id` and record the outcome on the run;
    True when this job ran it. A job run twice, or for a run no longer queued, does nothing
    (the run is claimed by a conditional UPDATE). Not retried: a failure is recorded on the
    run with its reason, and a run whose worker was lost is queued again from its page.
    """
    return import_run_execute(run_id)

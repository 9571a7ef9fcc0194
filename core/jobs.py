"""Background jobs: work that follows a commit and must not keep a request waiting (the
applicant's e-mail, a document rendered after a close).

Jobs are django-tasks tasks (`@task()` from `django_tasks`), queued in a table of the same
database (`django_tasks_db`) and run by `manage.py db_worker`, which `make run` starts beside
the web server. A job is enqueued only once the transaction that made its work necessary has
committed, so a worker never sees a row that a rollback takes back. The tests run each job
at once, when it is enqueued (tests/conftest.py).

A job whose outside world failed (an SMTP server down) calls `retry_later` to run again after
a growing delay; its own record says what happened (e.g. core.Delivery for mail).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.files import transaction_committed

logger = logging.getLogger(__name__)

# Seconds before the 2nd, 3rd, … attempt: a relay restarting, then an outage of hours.
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 60 * 60)


def enqueue_after_commit(job, /, *args, **kwargs) -> None:
    """Enqueue `job(*args, **kwargs)` once the enclosing transaction commits (at once when
    none is open). Arguments must be JSON: pass primary keys, not model instances."""
    if transaction_committed():
        job.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: job.enqueue(*args, **kwargs))


def retry_delay(attempt: int) -> timedelta | None:
    """How long to wait before attempt `attempt + 1` after attempt `attempt` (1-based)
    failed; None once every retry is used up."""
    if attempt > len(RETRY_DELAYS):
        return None
    return timedelta(seconds=RETRY_DELAYS[attempt - 1])


def retry_later(job, /, *args, attempt: int, **kwargs) -> bool:
    """Enqueue `job` again for attempt `attempt + 1` after the backoff delay; False when the
    attempts are used up. A backend that cannot defer (the tests') runs it again at once."""
    delay = retry_delay(attempt)
    if delay is None:
        return False
    backend = job.get_backend()
    if backend.supports_defer:
        job = job.using(run_after=timezone.now() + delay)
    job.enqueue(*args, attempt=attempt + 1, **kwargs)
    return True

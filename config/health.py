"""GET /healthz for load balancers: can this app server do its work right now?

It checks the database (SELECT 1), the document storage (a small probe written, read back
and deleted under health/) and the job queue (its table answers); on PostgreSQL each query
may run HEALTH_DATABASE_TIMEOUT_MS, and a new connection DATABASE_CONNECT_TIMEOUT seconds,
so a database that never answers gives 503 in time. All well: 200 "ok".
Anything wrong: 503 "unavailable" and nothing more, as the address is public; what failed
goes to the log.

A middleware rather than a view, placed before SecurityMiddleware: a load balancer probes
each app server at its own address over plain HTTP, so the probe must be answered before
the HTTPS redirect and the ALLOWED_HOSTS check (neither protects anything here: the answer
names no host and carries no data), and without a session, login or second factor. It costs
a few small queries (with their transactions' BEGIN and COMMIT) and three storage calls, so
it can be asked every few seconds.
"""

import contextlib
import datetime
import logging
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.http import HttpResponse
from django.utils import timezone

logger = logging.getLogger("threshold.health")

PATH = "/healthz"
PROBE = b"threshold health probe"
DATABASE_QUEUE = "django_tasks_db.DatabaseBackend"


DATABASE_CHECK_SQL = "SELECT 1"


@contextlib.contextmanager
def bounded_transaction():
    """A transaction whose statements may each run HEALTH_DATABASE_TIMEOUT_MS on PostgreSQL
    (SET LOCAL: it ends with the transaction), so a database that takes the query and never
    answers fails the check in time. A new connection is bounded by connect_timeout
    (settings.DATABASES). A kept connection to a host that stops answering at the network
    level is not: that is the TCP keepalive's (docs/deploying.md). SQLite is a local file,
    and its transactions take the write lock (IMMEDIATE): no transaction there."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                [f"{settings.HEALTH_DATABASE_TIMEOUT_MS}ms"],
            )
        yield


def database_check() -> None:
    with bounded_transaction(), connection.cursor() as cursor:
        cursor.execute(DATABASE_CHECK_SQL)
        if cursor.fetchone() != (1,):
            raise RuntimeError(f"{DATABASE_CHECK_SQL} did not answer 1")


def storage_check() -> None:
    """Issuing a permit writes its PDF: a storage that reads but refuses writes is down."""
    name = default_storage.save(f"health/probe-{uuid.uuid4().hex}", ContentFile(PROBE))
    try:
        with default_storage.open(name, "rb") as handle:
            if handle.read() != PROBE:
                raise RuntimeError(f"storage gave back other bytes for {name}")
    finally:
        default_storage.delete(name)


def queue_check() -> None:
    """The queue's table answers. A backlog (the oldest job due for longer than
    HEALTH_QUEUE_WARN_MINUTES) is logged as a warning but leaves the server healthy: the
    workers are behind or stopped, and taking app servers out of rotation would not help."""
    if settings.TASKS["default"]["BACKEND"] != DATABASE_QUEUE:
        return
    from django_tasks_db.models import DBTaskResult, get_date_max

    with bounded_transaction():
        oldest = list(
            DBTaskResult.objects.ready()
            .order_by("enqueued_at")
            .values_list("enqueued_at", "run_after")[:1]
        )
    for enqueued_at, run_after in oldest:
        due = enqueued_at if run_after == get_date_max() else max(enqueued_at, run_after)
        waiting = timezone.now() - due
        if waiting > datetime.timedelta(minutes=settings.HEALTH_QUEUE_WARN_MINUTES):
            logger.warning(
                "Job queue: the oldest job due has waited %d minutes; is db_worker running?",
                waiting.total_seconds() // 60,
            )


CHECKS = {"database": database_check, "storage": storage_check, "queue": queue_check}


def health() -> HttpResponse:
    failed = []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # any failure means "not now"; the log says which and why
            logger.exception("Health check failed: %s", name)
            failed.append(name)
    headers = {"Cache-Control": "no-store"}
    if failed:
        return HttpResponse(
            "unavailable", status=503, content_type="text/plain; charset=utf-8", headers=headers
        )
    return HttpResponse("ok", content_type="text/plain; charset=utf-8", headers=headers)


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH and request.method in ("GET", "HEAD"):
            return health()
        return self.get_response(request)

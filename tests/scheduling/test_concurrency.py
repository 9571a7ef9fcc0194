"""Cancelling a request at the same moment as something else changes it, on PostgreSQL with
real concurrent transactions (each thread has its own connection, as two server workers do).

Each race is run in both orders: the first transaction is held open, after its change and
before its commit, until the second is seen waiting on its row lock (pg_stat_activity); then
the first commits. Exactly one change wins; the other is refused with a message saying why
and changes nothing, or (a visit started after the cancel won) starts the visit without the
cancelled request, as it would a moment later."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse

from core.models import Activity, Delivery, DeliveryKind
from inspections.models import Visit
from inspections.services import visit_start
from scheduling import services
from scheduling.exceptions import RequestNotOpen, SchedulingError
from scheduling.models import InspectionRequest, RequestStatus
from tests.conftest import client_for
from tests.scheduling.conftest import THURSDAY, make_request

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]

NOTIFY = "sam@builder.example"
REASON = "The owner called: the drywall is not finished."
VISIT_STARTED = "A visit was started for this request: it cannot be cancelled."


class Thread(threading.Thread):
    """Runs `job` on its own database connection and keeps what it returned or raised."""

    def __init__(self, job):
        super().__init__()
        self.job = job
        self.result = None

    def run(self):
        try:
            self.result = self.job()
        except Exception as exc:  # collected for the assertions
            self.result = exc
        finally:
            connections.close_all()

    def outcome(self):
        self.join(timeout=60)
        assert not self.is_alive(), "still running: a deadlock?"
        return self.result


def first_then_second(first, second):
    """Run `first` in a transaction held open until `second`, started meanwhile, waits on a
    row lock; then commit `first` and let `second` finish. Returns both outcomes."""
    changed, commit = threading.Event(), threading.Event()

    def held():
        with transaction.atomic():
            result = first()
            changed.set()
            assert commit.wait(timeout=30)
        return result

    holder = Thread(held)
    holder.start()
    assert changed.wait(timeout=30), holder.outcome()
    waiter = Thread(second)
    waiter.start()
    try:
        wait_for_a_lock_wait()
    finally:
        commit.set()
    return holder.outcome(), waiter.outcome()


def wait_for_a_lock_wait():
    """Until another connection of this database waits on a lock (else the test would only
    show the changes one after the other)."""
    with connection.cursor() as cursor:
        for _ in range(200):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the second transaction never waited on the first one's lock")


@pytest.fixture
def confirmed(application_a, occupancy_type_a, inspector, clerk):
    request = make_request(application_a, occupancy_type_a, clerk, notify_email=NOTIFY)
    services.request_assign(
        request=request, inspector=inspector, day=THURSDAY, half_day="morning", actor=clerk
    )
    return request


def cancellations(request):
    return (
        Activity.objects.filter(
            application=request.application, verb="inspection_request_cancelled"
        ).count(),
        Delivery.objects.filter(kind=DeliveryKind.REQUEST_CANCELLED).count(),
    )


def test_a_visit_started_first_wins_and_the_cancel_is_refused(confirmed, inspector, clerk):
    started, cancelled = first_then_second(
        lambda: visit_start(inspection=confirmed.inspection, actor=inspector),
        lambda: services.request_cancel(request=confirmed, reason=REASON, actor=clerk),
    )
    assert isinstance(started, Visit)
    assert isinstance(cancelled, SchedulingError)
    assert str(cancelled) == VISIT_STARTED
    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.visit_id, confirmed.cancel_reason) == (
        RequestStatus.CONFIRMED,
        started.pk,
        "",
    )
    assert (confirmed.cancelled_by, confirmed.cancelled_at) == (None, None)
    assert cancellations(confirmed) == (0, 0)


def test_a_cancel_first_wins_and_the_visit_starts_without_the_request(
    confirmed, inspector, clerk
):
    cancelled, started = first_then_second(
        lambda: services.request_cancel(request=confirmed, reason=REASON, actor=clerk),
        lambda: visit_start(inspection=confirmed.inspection, actor=inspector),
    )
    assert isinstance(cancelled, InspectionRequest)
    # Starting a visit is the inspection's act (the inspection stays when its request is
    # cancelled): it starts as it would a moment later, and does not take the request.
    assert isinstance(started, Visit)
    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.visit_id, confirmed.cancel_reason) == (
        RequestStatus.CANCELLED,
        None,
        REASON,
    )
    assert cancellations(confirmed) == (1, 1)
    assert not Activity.objects.filter(verb="inspection_request_visited").exists()


def test_two_dispatchers_cancelling_at_once_cancel_it_once(confirmed, clerk, chief):
    first, second = first_then_second(
        lambda: services.request_cancel(request=confirmed, reason=REASON, actor=clerk),
        lambda: services.request_cancel(
            request=confirmed, reason="Duplicate of another request.", actor=chief
        ),
    )
    assert isinstance(first, InspectionRequest)
    assert isinstance(second, RequestNotOpen)
    assert str(second) == "This request is cancelled already; nothing was changed."
    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.cancel_reason, confirmed.cancelled_by) == (
        RequestStatus.CANCELLED,
        REASON,
        clerk,
    )
    assert confirmed.updated_at == first.updated_at  # the second wrote nothing
    assert cancellations(confirmed) == (1, 1)


def test_the_dispatcher_who_cancels_second_is_told_on_dispatch(confirmed, clerk, chief):
    client = client_for(chief)
    url = reverse("scheduling:request_cancel", args=[confirmed.code])
    _, response = first_then_second(
        lambda: services.request_cancel(request=confirmed, reason=REASON, actor=clerk),
        lambda: client.post(url, {"reason": "Duplicate.", "back": "dispatch"}),
    )
    assert (response.status_code, response["Location"]) == (302, reverse("scheduling:dispatch"))
    page = client.get(response["Location"]).content.decode()
    assert "This request is cancelled already; nothing was changed." in page
    confirmed.refresh_from_db()
    assert (confirmed.cancel_reason, confirmed.cancelled_by) == (REASON, clerk)
    assert cancellations(confirmed) == (1, 1)

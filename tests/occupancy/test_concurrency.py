"""Concurrent closes on PostgreSQL: numbers stay unique and gap-free, and one visit never
gets two permits. Each thread has its own database connection, as two server workers do."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from inspections.models import Visit
from occupancy.exceptions import VisitAlreadyClosed
from occupancy.models import OccupancyPermit
from occupancy.services import GrantDetails, visit_finish_and_close
from tests.factories import make_inspection

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL"
)


def run_in_threads(jobs):
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:  # collected for the assertions
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def grant(template):
    return GrantDetails(
        template=template, granted_on=timezone.localdate(), description="Whole building"
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_closes_get_distinct_contiguous_numbers(
    inspector, application_a, occupancy_type_a, general_template
):
    visits = []
    for _ in range(6):
        inspection = make_inspection(application_a, occupancy_type_a)
        visits.append(Visit.objects.create(inspection=inspection, sequence=1, started_by=inspector))
    results = run_in_threads(
        [
            lambda v=v: visit_finish_and_close(
                visit=v, actor=inspector, result="granted_full", grant=grant(general_template)
            )
            for v in visits
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    year = timezone.localdate().year
    numbers = sorted(OccupancyPermit.objects.values_list("number", flat=True))
    assert numbers == [f"OCC-{year}-{n:04}" for n in range(1, 7)]


@pytest.mark.django_db(transaction=True)
def test_two_inspectors_closing_the_same_visit_issue_one_permit(
    inspector, application_a, occupancy_type_a, general_template
):
    inspection = make_inspection(application_a, occupancy_type_a)
    visit = Visit.objects.create(inspection=inspection, sequence=1, started_by=inspector)
    results = run_in_threads(
        [
            lambda: visit_finish_and_close(
                visit=visit, actor=inspector, result="granted_full", grant=grant(general_template)
            )
        ]
        * 3
    )
    assert sum(isinstance(r, VisitAlreadyClosed) for r in results) == 2
    assert OccupancyPermit.objects.count() == 1
    assert "already closed by Inspector" in str(
        next(r for r in results if isinstance(r, Exception))
    )


@pytest.mark.django_db(transaction=True)
def test_closes_and_visit_starts_in_one_municipality_do_not_deadlock(
    inspector, application_a, occupancy_type_a, general_template
):
    # Mixed closes and starts on one inspection type. (The deadlock make loadtest once found,
    # closes locking the shared type and municipality rows, needs a timing this small run
    # does not reliably hit; the load test is what guards it.)
    from inspections.services import visit_start

    to_close, to_start = [], []
    for _ in range(4):
        inspection = make_inspection(application_a, occupancy_type_a)
        to_close.append(
            Visit.objects.create(inspection=inspection, sequence=1, started_by=inspector)
        )
        to_start.append(make_inspection(application_a, occupancy_type_a))
    jobs = [
        lambda v=v: visit_finish_and_close(
            visit=v, actor=inspector, result="granted_full", grant=grant(general_template)
        )
        for v in to_close
    ] + [lambda i=i: visit_start(inspection=i, actor=inspector) for i in to_start]
    results = run_in_threads(jobs)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert OccupancyPermit.objects.count() == 4
    assert Visit.objects.filter(status="open").count() == 4

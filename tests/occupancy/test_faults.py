"""Faults in the middle of Finish and Close Inspection: the close happens whole or not at
all, and a retry succeeds. (Renderer and storage faults: test_finish_and_close.py.)"""

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

import occupancy.services
from core.models import Delivery, DeliveryStatus
from inspections.models import Visit, VisitStatus
from occupancy.models import OccupancyPermit, PermitNumberSequence
from occupancy.services import GrantDetails, visit_finish_and_close
from tests.factories import make_inspection


def media_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(p.name for p in root.rglob("*.pdf")) if root.exists() else []


def close(visit, inspector, template):
    return visit_finish_and_close(
        visit=visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(template=template, granted_on=timezone.localdate(), description="All"),
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="kills a PostgreSQL backend")
@pytest.mark.django_db(transaction=True)
def test_database_connection_dropping_mid_close_leaves_nothing_and_retry_succeeds(
    inspector, application_a, occupancy_type_a, general_template, settings, monkeypatch
):
    visit = Visit.objects.create(
        inspection=make_inspection(application_a, occupancy_type_a),
        sequence=1,
        started_by=inspector,
    )
    real_step = occupancy.services.application_add_other_number

    def lose_the_connection(**kwargs):
        # Inside the close's transaction, the permit's PDF written and its row saved.
        result = real_step(**kwargs)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        db = connection.settings_dict
        with psycopg.connect(
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
            dbname=db["NAME"], autocommit=True,
        ) as killer:  # fmt: skip
            killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        return result

    monkeypatch.setattr(occupancy.services, "application_add_other_number", lose_the_connection)
    with pytest.raises(Exception):  # noqa: B017 - the driver's error type varies with timing
        close(visit, inspector, general_template)
    connection.close()  # as Django does at the end of a request
    monkeypatch.undo()

    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.OPEN
    assert not OccupancyPermit.objects.exists()
    assert not PermitNumberSequence.objects.filter(last_value__gt=0).exists()
    assert media_files(settings) == []

    outcome = close(visit, inspector, general_template)
    assert outcome.permit.number == f"OCC-{timezone.localdate().year}-0001"
    report = Visit.objects.get(pk=outcome.visit.pk).report_pdf.name  # stored by its job
    assert sorted(media_files(settings)) == sorted(
        [f"{outcome.permit.number}.pdf", report.rsplit("/", 1)[-1]]
    )


def test_smtp_down_does_not_undo_a_close(
    inspector, application_a, occupancy_type_a, general_template, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    visit = Visit.objects.create(
        inspection=make_inspection(application_a, occupancy_type_a),
        sequence=1,
        started_by=inspector,
    )
    with django_capture_on_commit_callbacks(execute=True):
        outcome = close(visit, inspector, general_template)
    assert OccupancyPermit.objects.get() == outcome.permit
    assert Visit.objects.get().status == VisitStatus.CLOSED
    # The mail is the job's (the tests' backend runs every retry at once): it failed, and
    # says why, where the application's history shows it.
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.FAILED, 5, "connection refused"
    )  # fmt: skip

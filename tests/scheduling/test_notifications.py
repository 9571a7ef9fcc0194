"""The requester is e-mailed through the job queue (core.mail) when a request is confirmed,
moved or declined and when its visit closes; each message is a Delivery on the
application's history. Jobs run at once in the tests, after the commit."""

import pytest
from django.core import mail
from django.utils import timezone, translation

from core.models import Delivery, DeliveryKind, DeliveryStatus
from inspections.models import VisitStatus
from inspections.services import visit_start
from scheduling import services
from tests.scheduling.conftest import THURSDAY, WEDNESDAY, make_request

NOTIFY = "sam@builder.example"


@pytest.fixture
def booked(application_a, occupancy_type_a, inspector, clerk, django_capture_on_commit_callbacks):
    request = make_request(application_a, occupancy_type_a, clerk, notify_email=NOTIFY)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_assign(
            request=request, inspector=inspector, day=WEDNESDAY, half_day="afternoon", actor=clerk
        )
    return request


def test_confirmation_is_mailed_with_day_half_day_and_inspector(booked, application_a):
    delivery = Delivery.objects.get()
    assert (delivery.kind, delivery.recipient, delivery.status, delivery.application) == (
        DeliveryKind.REQUEST_CONFIRMED,
        NOTIFY,
        DeliveryStatus.SENT,
        application_a,
    )
    [message] = mail.outbox
    assert message.to == [NOTIFY]
    assert message.subject == (
        "Inspection confirmed for Wednesday December 16: Occupancy, 47 Maple Crescent, Alpha"
    )
    for line in [
        "The Occupancy inspection of 47 Maple Crescent, Alpha (application B-2026-0001) is "
        "confirmed:",
        "  Day: Wednesday December 16, 2026",
        "  Time: Afternoon, between 13:00 and 17:00",
        "  Inspector: Inspector",
        "The site contact we have is Sam Builder, 905-555-0142.",
        "Town of Alpha, Building Department",
    ]:
        assert line in message.body, line
    assert "&" not in message.body and "<" not in message.body  # plain text, not HTML


def test_move_and_decline_are_mailed(booked, clerk, chief, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.request_move(
            request=booked, inspector=chief, day=THURSDAY, half_day="morning", actor=clerk
        )
    moved = mail.outbox[-1]
    assert moved.subject.startswith("Inspection moved to Thursday December 17")
    assert "  Inspector: Chief" in moved.body
    assert "It was: Wednesday December 16, afternoon, Inspector." in moved.body
    with django_capture_on_commit_callbacks(execute=True):
        services.request_decline(
            request=booked, reason="The site is not ready: no guard on the stairs.", actor=clerk
        )
    declined = mail.outbox[-1]
    assert declined.subject.startswith("Inspection request declined")
    assert "  The site is not ready: no guard on the stairs." in declined.body
    assert list(Delivery.objects.order_by("queued_at", "id").values_list("kind", flat=True)) == [
        DeliveryKind.REQUEST_CONFIRMED,
        DeliveryKind.REQUEST_MOVED,
        DeliveryKind.REQUEST_DECLINED,
    ]


def test_the_visits_result_is_mailed(booked, inspector, django_capture_on_commit_callbacks):
    visit = visit_start(inspection=booked.inspection, actor=inspector)
    with django_capture_on_commit_callbacks(execute=True):
        visit.status, visit.result, visit.failure_reason = (
            VisitStatus.CLOSED,
            "not_granted",
            "information_required",
        )
        visit.closed_by, visit.closed_at = inspector, timezone.now()
        visit.save()
    result = mail.outbox[-1]
    assert result.subject == "Inspection result: Not granted: Occupancy, 47 Maple Crescent, Alpha"
    assert "  Result: Not granted\n  Reason: Information required" in result.body
    assert "request another inspection once the work is ready" in result.body
    assert Delivery.objects.filter(kind=DeliveryKind.REQUEST_RESULT, status="sent").exists()


def test_nobody_is_mailed_without_an_address(
    application_a, framing_type_a, inspector, clerk, django_capture_on_commit_callbacks
):
    request = make_request(application_a, framing_type_a, clerk, notify_email="")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_assign(
            request=request, inspector=inspector, day=WEDNESDAY, half_day="morning", actor=clerk
        )
    assert mail.outbox == [] and not Delivery.objects.exists()


def test_the_application_history_lists_the_messages(booked, application_a, clerk):
    from tests.conftest import client_for

    page = client_for(clerk).get(application_a.get_absolute_url()).content.decode()
    assert NOTIFY in page


def test_a_french_application_is_mailed_in_french_whoever_acts(
    french,
    application_a,
    occupancy_type_a,
    inspector,
    clerk,
    chief,
    django_capture_on_commit_callbacks,
):
    application_a.correspondence_language = "fr-ca"
    application_a.save(update_fields=["correspondence_language"])
    request = make_request(application_a, occupancy_type_a, clerk, notify_email=NOTIFY)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_assign(
            request=request, inspector=inspector, day=WEDNESDAY, half_day="afternoon", actor=clerk
        )
    [confirmed] = mail.outbox
    assert confirmed.subject == (
        "Inspection confirmée pour le mercredi 16 décembre : Occupancy, 47 Maple Crescent, Alpha"
    )
    for line in [
        "Bonjour,",
        "L'inspection Occupancy au 47 Maple Crescent, Alpha (demande B-2026-0001) est confirmée :",
        "  Jour : mercredi 16 décembre 2026",
        "  Heure : Après-midi, entre 13 h 00 et 17 h 00",
        "  Inspecteur : Inspector",
        "Notre personne-ressource sur le chantier est Sam Builder, 905-555-0142.",
        "Town of Alpha, Building Department",
    ]:
        assert line in confirmed.body, line
    with django_capture_on_commit_callbacks(execute=True):
        services.request_move(
            request=request, inspector=chief, day=THURSDAY, half_day="morning", actor=clerk
        )
    moved = mail.outbox[-1]
    assert moved.subject.startswith("Inspection déplacée au jeudi 17 décembre : ")
    assert "  Heure : Matin, entre 8 h 00 et 12 h 00" in moved.body
    assert "Réservation précédente : mercredi 16 décembre, après-midi, Inspector." in moved.body
    with django_capture_on_commit_callbacks(execute=True):
        services.request_decline(request=request, reason="Le garde-corps manque.", actor=clerk)
    declined = mail.outbox[-1]
    assert declined.subject.startswith("Demande d'inspection refusée : Occupancy")
    assert "pour le mercredi 16 décembre 2026 a été refusée :" in declined.body
    assert "Veuillez communiquer avec le service du bâtiment" in declined.body


def test_an_english_application_is_mailed_in_english_whoever_acts(
    french, application_a, occupancy_type_a, inspector, clerk, django_capture_on_commit_callbacks
):
    request = make_request(application_a, occupancy_type_a, clerk, notify_email=NOTIFY)
    with translation.override("fr-ca"), django_capture_on_commit_callbacks(execute=True):
        services.request_assign(
            request=request, inspector=inspector, day=WEDNESDAY, half_day="afternoon", actor=clerk
        )
    [message] = mail.outbox
    assert message.subject == (
        "Inspection confirmed for Wednesday December 16: Occupancy, 47 Maple Crescent, Alpha"
    )
    assert "  Time: Afternoon, between 13:00 and 17:00" in message.body

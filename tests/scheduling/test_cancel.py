"""Cancelling an inspection request (scheduling.services.request_cancel, the Cancel button of
the Work view and of Dispatch): who may, what it writes and tells, and that every refusal
changes nothing."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.models import Activity, Delivery, DeliveryKind
from inspections.services import visit_start
from scheduling import queries, services
from scheduling.exceptions import RequestNotOpen, RequestRefused, SchedulingError
from scheduling.models import InspectionRequest, RequestStatus
from tests.conftest import client_for
from tests.db_rows import tables_digest
from tests.scheduling.conftest import THURSDAY, WEDNESDAY, make_request

NOTIFY = "sam@builder.example"
REASON = "The owner called: the drywall is not finished."


def cancel_url(request):
    return reverse("scheduling:request_cancel", args=[request.code])


@pytest.fixture
def confirmed(application_a, occupancy_type_a, inspector, clerk):
    request = make_request(application_a, occupancy_type_a, clerk, notify_email=NOTIFY)
    services.request_assign(
        request=request, inspector=inspector, day=THURSDAY, half_day="morning", actor=clerk
    )
    return request


def test_request_cancel_writes_the_reason_who_and_when_and_the_history(confirmed, clerk):
    services.request_cancel(request=confirmed, reason=f"  {REASON} ", actor=clerk)
    confirmed.refresh_from_db()
    assert (
        confirmed.status,
        confirmed.cancel_reason,
        confirmed.cancelled_by,
        timezone.localdate(confirmed.cancelled_at),
    ) == (RequestStatus.CANCELLED, REASON, clerk, timezone.localdate())
    assert Activity.objects.filter(
        application=confirmed.application,
        actor=clerk,
        verb="inspection_request_cancelled",
        summary=f"Occupancy inspection request of Thursday December 17 cancelled: {REASON}",
    ).exists()


def test_a_cancelled_request_leaves_dispatch_and_my_day_and_frees_the_type(
    confirmed, application_a, occupancy_type_a, inspector, clerk
):
    services.request_cancel(request=confirmed, reason=REASON, actor=clerk)
    assert list(queries.dispatch_requests(clerk)) == []
    assert queries.my_day(inspector, THURSDAY) == []
    # The partial unique constraint (one open request per type) lets the type be asked again.
    again = make_request(application_a, occupancy_type_a, clerk, day=THURSDAY)
    assert again.status == RequestStatus.REQUESTED
    assert again.inspection == confirmed.inspection  # the inspection it named was kept
    assert InspectionRequest.objects.filter(application=application_a).count() == 2


def test_request_cancel_needs_a_reason_of_bounded_length(occupancy_request, clerk):
    before = tables_digest()
    for reason, message in [
        ("   ", "Give the reason for cancelling: the requester is told."),
        ("x" * 1001, "Keep this to at most 1,000 characters (it has 1,001)."),
    ]:
        with pytest.raises(RequestRefused) as refused:
            services.request_cancel(request=occupancy_request, reason=reason, actor=clerk)
        assert refused.value.refusals == {"reason": message}
    assert tables_digest() == before


def test_request_cancel_refused_to_a_role_without_the_act(occupancy_request, inspector, viewer):
    before = tables_digest()
    for actor in (inspector, viewer):
        with pytest.raises(SchedulingError) as refused:
            services.request_cancel(request=occupancy_request, reason=REASON, actor=actor)
        assert str(refused.value) == "Your role does not cancel inspection requests."
    assert tables_digest() == before


def test_request_cancel_refused_once_its_visit_started(confirmed, inspector, chief):
    visit_start(inspection=confirmed.inspection, actor=inspector)
    before = tables_digest()
    with pytest.raises(SchedulingError) as refused:
        services.request_cancel(request=confirmed, reason=REASON, actor=chief)
    assert str(refused.value) == "A visit was started for this request: it cannot be cancelled."
    assert tables_digest() == before


@pytest.mark.parametrize("status", [RequestStatus.DONE, RequestStatus.DECLINED])
def test_request_cancel_refused_when_no_longer_open(occupancy_request, clerk, status):
    InspectionRequest.objects.filter(pk=occupancy_request.pk).update(
        status=status, decline_reason="No permit" if status == RequestStatus.DECLINED else ""
    )
    before = tables_digest()
    with pytest.raises(RequestNotOpen):
        services.request_cancel(request=occupancy_request, reason=REASON, actor=clerk)
    assert tables_digest() == before


def test_the_requester_is_mailed_the_cancellation_with_its_reason(
    confirmed, clerk, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_cancel(request=confirmed, reason=REASON, actor=clerk)
    [message] = mail.outbox
    assert message.to == [NOTIFY]
    assert message.subject == "Inspection cancelled: Occupancy, 47 Maple Crescent, Alpha"
    for line in [
        "The Occupancy inspection of 47 Maple Crescent, Alpha (application B-2026-0001) on "
        "Thursday December 17, 2026 is cancelled:",
        f"  {REASON}",
        "Nobody will come for it. Request the inspection again when the work is ready to see.",
        "Town of Alpha, Building Department",
    ]:
        assert line in message.body, line
    assert Delivery.objects.filter(
        kind=DeliveryKind.REQUEST_CANCELLED, recipient=NOTIFY, status="sent"
    ).exists()


def test_a_french_application_is_told_of_the_cancellation_in_french(
    french, application_a, occupancy_type_a, clerk, django_capture_on_commit_callbacks
):
    application_a.correspondence_language = "fr-ca"
    application_a.save(update_fields=["correspondence_language"])
    request = make_request(application_a, occupancy_type_a, clerk, notify_email=NOTIFY)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_cancel(request=request, reason="Le propriétaire a appelé.", actor=clerk)
    [message] = mail.outbox
    assert message.subject == "Inspection annulée : Occupancy, 47 Maple Crescent, Alpha"
    for line in [
        "Bonjour,",
        "L'inspection Occupancy au 47 Maple Crescent, Alpha (demande B-2026-0001) du "
        "mercredi 16 décembre 2026 est annulée :",
        "  Le propriétaire a appelé.",
        "Personne ne viendra pour cette inspection. Demandez-la de nouveau quand les travaux "
        "seront prêts à être vus.",
    ]:
        assert line in message.body, line


def test_work_view_offers_cancel_to_those_who_may(confirmed, application_a, clerk, inspector):
    html = client_for(clerk).get(application_a.get_absolute_url()).content.decode()
    assert f'action="{cancel_url(confirmed)}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="back" value="application"' in html
    # An inspector may request, not cancel: no button.
    html = client_for(inspector).get(application_a.get_absolute_url()).content.decode()
    assert cancel_url(confirmed) not in html


def test_cancel_from_the_work_view_shows_it_cancelled_in_the_history(
    confirmed, application_a, clerk
):
    client = client_for(clerk)
    response = client.post(cancel_url(confirmed), {"reason": REASON, "back": "application"})
    assert response.status_code == 302
    assert response["Location"] == application_a.get_absolute_url() + "#requests"
    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.cancel_reason) == (RequestStatus.CANCELLED, REASON)
    html = client.get(response["Location"]).content.decode()
    assert "Occupancy inspection request of B-2026-0001 cancelled." in html
    assert '<span class="request-status">Cancelled</span>' in html
    assert f"Reason: {REASON}" in html
    assert f"Occupancy inspection request of Thursday December 17 cancelled: {REASON}" in html
    assert cancel_url(confirmed) not in html  # no Cancel on a cancelled request


def test_cancel_from_dispatch_goes_back_there_and_leaves_the_list(confirmed, chief):
    client = client_for(chief)
    html = client.get(reverse("scheduling:dispatch")).content.decode()
    assert f'action="{cancel_url(confirmed)}"' in html
    assert 'name="back" value="dispatch"' in html
    response = client.post(cancel_url(confirmed), {"reason": REASON, "back": "dispatch"})
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:dispatch")
    page = client.get(response["Location"])
    assert page.context["days"] == []
    assert "No inspection request is waiting." in page.content.decode()


def test_cancel_without_a_reason_is_refused_at_the_field(confirmed, clerk):
    client = client_for(clerk)
    before = tables_digest()
    response = client.post(cancel_url(confirmed), {"reason": " ", "back": "dispatch"})
    assert response.status_code == 400
    html = response.content.decode()
    assert response.context["form"].errors["reason"] == [
        "Give the reason for cancelling: the requester is told."
    ]
    assert (
        f'<div class="invalid-feedback" id="cancel_{confirmed.code}_reason_error">'
        "Give the reason for cancelling: the requester is told.</div>"
    ) in html
    assert 'name="back" value="dispatch"' in html  # posted again, it still goes back there
    assert tables_digest() == before


def test_a_too_long_cancel_reason_is_refused_at_the_field_with_the_limit(confirmed, clerk):
    client = client_for(clerk)
    html = client.get(confirmed.application.get_absolute_url()).content.decode()
    help_id = f"cancel_{confirmed.code}_reason_help"
    assert (
        f'<div class="form-text" id="{help_id}">The requester is told, e.g. “The owner asked '
        "to cancel: the work is late”. Up to 1,000 characters.</div>"
    ) in html
    assert f'id="cancel_{confirmed.code}_reason" rows="2" maxlength="1000"' in html
    before = tables_digest()
    response = client.post(cancel_url(confirmed), {"reason": "x" * 1001})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == [
        "Keep this to at most 1,000 characters (it has 1,001)."
    ]
    assert (
        f'<div class="invalid-feedback" id="cancel_{confirmed.code}_reason_error">'
        "Keep this to at most 1,000 characters (it has 1,001).</div>"
    ) in response.content.decode()
    assert tables_digest() == before
    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.cancel_reason) == (RequestStatus.CONFIRMED, "")


def test_cancel_refused_to_a_wrong_role_or_municipality_changes_nothing(
    confirmed, inspector, viewer, inspector_b
):
    clients = {user: client_for(user) for user in (inspector, viewer, inspector_b)}
    before = tables_digest()
    for user, status in [(inspector, 403), (viewer, 403), (inspector_b, 404)]:
        response = clients[user].post(cancel_url(confirmed), {"reason": REASON})
        assert response.status_code == status, user
    assert clients[inspector].get(cancel_url(confirmed)).status_code == 405
    assert tables_digest() == before
    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.cancel_reason) == (RequestStatus.CONFIRMED, "")


def test_cancel_of_a_request_done_meanwhile_changes_nothing(confirmed, clerk):
    InspectionRequest.objects.filter(pk=confirmed.pk).update(status=RequestStatus.DONE)
    client = client_for(clerk)
    before = tables_digest()
    response = client.post(cancel_url(confirmed), {"reason": REASON, "back": "dispatch"})
    assert response.status_code == 302
    assert tables_digest() == before
    assert "This request is done already; nothing was changed." in (
        client.get(response["Location"]).content.decode()
    )
    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.cancel_reason) == (RequestStatus.DONE, "")


def test_a_cancelled_request_leaves_my_today(confirmed, inspector, clerk, monkeypatch):
    from scheduling import rules

    monkeypatch.setattr(rules, "today", lambda: THURSDAY)
    client = client_for(inspector)
    url = reverse("scheduling:my_today")
    assert [r.code for r in client.get(url).context["today_requests"]] == [confirmed.code]
    services.request_cancel(request=confirmed, reason=REASON, actor=clerk)
    assert client.get(url).context["today_requests"] == []
    monkeypatch.setattr(rules, "today", lambda: WEDNESDAY)
    assert client.get(url).context["next_day_requests"] == []

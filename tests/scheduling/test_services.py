"""The state changes of inspection requests: what they write, what they refuse (and that a
refusal changes nothing), capacity, the visit that completes a request."""

import datetime

import pytest
from django.utils import timezone, translation

from core.models import Activity, Role
from inspections.models import Inspection, InspectionStatus, VisitStatus
from inspections.services import visit_start
from scheduling import services
from scheduling.exceptions import RequestNotOpen, RequestRefused, SchedulingError
from scheduling.models import HalfDay, InspectionRequest, InspectorCapacity, RequestStatus
from tests.conftest import make_user
from tests.db_rows import tables_digest
from tests.scheduling.conftest import MONDAY, THURSDAY, WEDNESDAY, make_request


def test_request_create_adds_the_inspection_and_writes_the_history(
    application_a, occupancy_type_a, clerk
):
    request = make_request(application_a, occupancy_type_a, clerk)
    assert (request.status, request.requested_date, request.requested_by) == (
        RequestStatus.REQUESTED,
        WEDNESDAY,
        clerk,
    )
    assert request.inspection.inspection_type == occupancy_type_a
    assert request.inspection.status == InspectionStatus.NOT_STARTED
    assert Activity.objects.filter(
        application=application_a,
        verb="inspection_requested",
        summary="Occupancy inspection requested for Wednesday December 16, morning",
    ).exists()


def test_request_create_uses_the_inspection_not_yet_closed(
    application_a, occupancy_type_a, clerk
):
    existing = Inspection.objects.create(
        application=application_a,
        inspection_type=occupancy_type_a,
        status=InspectionStatus.REVISIT_REQUIRED,
    )
    assert make_request(application_a, occupancy_type_a, clerk).inspection == existing
    assert Inspection.objects.filter(application=application_a).count() == 1


def test_request_create_refused_changes_nothing(application_a, occupancy_type_a, clerk):
    before = tables_digest()
    with pytest.raises(RequestRefused) as refused:
        make_request(application_a, occupancy_type_a, clerk, day=datetime.date(2026, 12, 25))
    assert refused.value.refusals == {
        "requested_date": "Friday December 25 is Christmas Day, a holiday: choose another day."
    }
    assert tables_digest() == before


def test_request_create_refuses_a_second_open_request_of_the_type(
    occupancy_request, application_a, occupancy_type_a, clerk
):
    with pytest.raises(RequestRefused) as refused:
        make_request(application_a, occupancy_type_a, clerk, day=THURSDAY)
    assert set(refused.value.refusals) == {"inspection_type"}
    assert InspectionRequest.objects.count() == 1


def test_request_assign_confirms_with_day_and_inspector(occupancy_request, inspector, clerk):
    services.request_assign(
        request=occupancy_request,
        inspector=inspector,
        day=THURSDAY,
        half_day=HalfDay.AFTERNOON,
        actor=clerk,
    )
    occupancy_request.refresh_from_db()
    assert (
        occupancy_request.status,
        occupancy_request.assigned_inspector,
        occupancy_request.confirmed_date,
        occupancy_request.half_day,
        occupancy_request.position,
    ) == (RequestStatus.CONFIRMED, inspector, THURSDAY, HalfDay.AFTERNOON, 1)
    assert Activity.objects.filter(
        verb="inspection_request_confirmed",
        summary="Occupancy inspection confirmed: Thursday December 17, afternoon, Inspector",
    ).exists()


def test_request_assign_refuses_a_fully_booked_inspector_and_changes_nothing(
    application_a, occupancy_type_a, framing_type_a, inspector, chief, clerk
):
    InspectorCapacity.objects.create(
        municipality=application_a.municipality, user=inspector, inspections_per_day=1
    )
    first = make_request(application_a, framing_type_a, clerk)
    services.request_assign(
        request=first, inspector=inspector, day=THURSDAY, half_day="morning", actor=clerk
    )
    second = make_request(application_a, occupancy_type_a, clerk)
    before = tables_digest()
    for actor in (clerk, chief):  # the chief building official is held to it too
        with pytest.raises(RequestRefused) as refused:
            services.request_assign(
                request=second, inspector=inspector, day=THURSDAY, half_day="morning", actor=actor
            )
        assert refused.value.refusals == {
            "inspector": "Inspector is fully booked on Thursday December 17 (1 of 1 "
            "inspections): choose another inspector or day."
        }
    assert tables_digest() == before
    # Another day has room.
    services.request_assign(
        request=second, inspector=inspector, day=WEDNESDAY, half_day="morning", actor=clerk
    )


def test_request_assign_refuses_a_weekend_a_holiday_and_a_clerk(occupancy_request, clerk):
    inspector = make_user("field", occupancy_request.municipality, Role.INSPECTOR)
    for day, field in [
        (datetime.date(2026, 12, 19), "day"),
        (datetime.date(2026, 12, 25), "day"),
        (MONDAY - datetime.timedelta(days=1), "day"),
    ]:
        with pytest.raises(RequestRefused) as refused:
            services.request_assign(
                request=occupancy_request, inspector=inspector, day=day, half_day="morning",
                actor=clerk,
            )
        assert set(refused.value.refusals) == {field}
    with pytest.raises(RequestRefused) as refused:
        services.request_assign(
            request=occupancy_request, inspector=clerk, day=THURSDAY, half_day="morning",
            actor=clerk,
        )
    assert refused.value.refusals == {"inspector": "Clerk is no inspector of Town of Alpha."}


def test_request_assign_the_minimum_notice_is_not_the_departments(
    occupancy_request, inspector, clerk
):
    services.request_assign(
        request=occupancy_request, inspector=inspector, day=MONDAY, half_day="morning",
        actor=clerk,
    )
    assert InspectionRequest.objects.get().confirmed_date == MONDAY


def test_request_move_to_another_day_and_inspector(occupancy_request, inspector, chief, clerk):
    services.request_assign(
        request=occupancy_request, inspector=inspector, day=WEDNESDAY, half_day="morning",
        actor=clerk,
    )
    services.request_move(
        request=occupancy_request, inspector=chief, day=THURSDAY, half_day="morning", actor=clerk
    )
    occupancy_request.refresh_from_db()
    assert (occupancy_request.assigned_inspector, occupancy_request.confirmed_date) == (
        chief,
        THURSDAY,
    )
    assert Activity.objects.filter(
        verb="inspection_request_moved",
        summary="Occupancy inspection moved: Wednesday December 16, morning, Inspector → "
        "Thursday December 17, morning, Chief",
    ).exists()
    with pytest.raises(RequestRefused):
        services.request_move(
            request=occupancy_request, inspector=chief, day=THURSDAY, half_day="morning",
            actor=clerk,
        )


def test_the_history_is_written_in_english_whoever_acts(
    french, occupancy_request, inspector, chief, clerk
):
    with translation.override("fr-ca"):
        services.request_assign(
            request=occupancy_request,
            inspector=inspector,
            day=WEDNESDAY,
            half_day="morning",
            actor=clerk,
        )
        with pytest.raises(RequestRefused) as refused:  # the message is the actor's
            services.request_move(
                request=occupancy_request,
                inspector=inspector,
                day=WEDNESDAY,
                half_day="morning",
                actor=clerk,
            )
        services.request_move(
            request=occupancy_request, inspector=chief, day=THURSDAY, half_day="afternoon",
            actor=clerk,
        )
    assert refused.value.refusals == {
        "day": "C'est déjà sa réservation : choisissez un autre jour ou un autre inspecteur."
    }
    assert list(
        Activity.objects.filter(verb__startswith="inspection_request_")
        .order_by("id")
        .values_list("summary", flat=True)
    ) == [
        "Occupancy inspection confirmed: Wednesday December 16, morning, Inspector",
        "Occupancy inspection moved: Wednesday December 16, morning, Inspector → "
        "Thursday December 17, afternoon, Chief",
    ]


def test_request_decline_needs_a_reason_and_is_final(occupancy_request, inspector, clerk):
    with pytest.raises(RequestRefused) as refused:
        services.request_decline(request=occupancy_request, reason="  ", actor=clerk)
    assert refused.value.refusals == {
        "reason": "Give the reason for declining: the requester is told."
    }
    with pytest.raises(RequestRefused) as refused:
        services.request_decline(request=occupancy_request, reason="x" * 1001, actor=clerk)
    assert refused.value.refusals == {
        "reason": "Keep this to at most 1,000 characters (it has 1,001)."
    }
    services.request_decline(
        request=occupancy_request, reason="The permit is not issued yet.", actor=clerk
    )
    occupancy_request.refresh_from_db()
    assert (occupancy_request.status, occupancy_request.decline_reason) == (
        RequestStatus.DECLINED,
        "The permit is not issued yet.",
    )
    with pytest.raises(RequestNotOpen):
        services.request_assign(
            request=occupancy_request, inspector=inspector, day=THURSDAY, half_day="morning",
            actor=clerk,
        )


def test_request_reorder_moves_one_place_in_the_inspectors_own_day(
    application_a, municipality_a, inspector, clerk
):
    from demo import builders

    requests = []
    for name in ("Footings", "Framing", "Insulation"):
        kind = builders.inspection_type(municipality=municipality_a, name=name)
        request = make_request(application_a, kind, clerk)
        services.request_assign(
            request=request, inspector=inspector, day=THURSDAY, half_day="morning", actor=clerk
        )
        requests.append(request)

    def order():
        return [r.inspection_type.name for r in services.day_requests(inspector=inspector,
                                                                        day=THURSDAY)]

    assert order() == ["Footings", "Framing", "Insulation"]
    services.request_reorder(request=requests[2], up=True, actor=inspector)
    assert order() == ["Footings", "Insulation", "Framing"]
    services.request_reorder(request=requests[0], up=True, actor=inspector)  # at the top
    assert order() == ["Footings", "Insulation", "Framing"]
    with pytest.raises(SchedulingError):
        services.request_reorder(request=requests[1], up=False, actor=clerk)


def test_a_visit_started_and_closed_completes_the_request(occupancy_request, inspector, clerk):
    services.request_assign(
        request=occupancy_request, inspector=inspector, day=WEDNESDAY, half_day="morning",
        actor=clerk,
    )
    visit = visit_start(inspection=occupancy_request.inspection, actor=inspector)
    occupancy_request.refresh_from_db()
    assert (occupancy_request.visit, occupancy_request.status) == (visit, RequestStatus.CONFIRMED)
    # Closed as visit_close saves it (the full close is the browser test's).
    visit.status, visit.result, visit.failure_reason = VisitStatus.CLOSED, "not_granted", ""
    visit.closed_by, visit.closed_at = inspector, timezone.now()
    visit.save()
    occupancy_request.refresh_from_db()
    assert occupancy_request.status == RequestStatus.DONE
    assert Activity.objects.filter(
        verb="inspection_request_done",
        summary="Occupancy inspection request done: visit 1 closed, Not granted",
    ).exists()
    # Requested again afterwards: the type is no longer open.
    make_request(occupancy_request.application, occupancy_request.inspection_type, clerk)

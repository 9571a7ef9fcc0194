"""Adding and cancelling inspections through inspections.services (test_inspection_views.py
shows the same through the pages): a second open inspection of a type only when confirmed,
the inspector who adds one is assigned to it, a never-visited inspection cancelled with a
reason and kept. Each refusal names its exception and message and changes nothing."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.models import Activity, Role
from inspections import services
from inspections.exceptions import CancelRefused, DuplicateInspection
from inspections.models import Inspection, InspectionStatus
from tests.conftest import make_user
from tests.factories import make_inspection
from tests.inspections.test_services import closed_visit_of, open_visit_of, refused


@pytest.fixture
def framing(application_a, framing_type_a):
    return make_inspection(application_a, framing_type_a)


def add(application, inspection_type, actor, **kwargs) -> Inspection:
    return services.inspection_add(
        application=application, inspection_type=inspection_type, actor=actor, **kwargs
    )


def activities(application) -> list[tuple[str, str]]:
    return list(
        Activity.objects.filter(application=application)
        .order_by("at", "pk")
        .values_list("verb", "summary")
    )


# A second inspection of the same type


@pytest.mark.parametrize(
    "status",
    [InspectionStatus.NOT_STARTED, InspectionStatus.IN_PROGRESS, InspectionStatus.REVISIT_REQUIRED],
)
def test_second_open_inspection_of_a_type_is_refused_without_confirmation(
    clerk, application_a, framing_type_a, framing, status
):
    Inspection.objects.filter(pk=framing.pk).update(status=status)
    label = InspectionStatus(status).label
    message = refused(lambda: add(application_a, framing_type_a, clerk), DuplicateInspection)
    assert message == (
        f"This application already has a Framing inspection ({label}); nothing was added."
    )


def test_duplicate_refusal_names_the_inspection_already_there(
    clerk, application_a, framing_type_a, framing
):
    with pytest.raises(DuplicateInspection) as caught:
        add(application_a, framing_type_a, clerk)
    assert caught.value.existing == framing


def test_second_inspection_of_a_type_is_added_when_confirmed(
    clerk, application_a, framing_type_a, framing
):
    second = add(application_a, framing_type_a, clerk, allow_duplicate=True)
    assert list(Inspection.objects.order_by("pk")) == [framing, second]
    assert activities(application_a) == [
        ("inspection_added", "Framing inspection added (a second one, confirmed)")
    ]


@pytest.mark.parametrize("status", [InspectionStatus.CLOSED, InspectionStatus.CANCELLED])
def test_a_closed_or_cancelled_inspection_is_no_duplicate(
    clerk, application_a, framing_type_a, framing, status
):
    reason = "Added twice" if status == InspectionStatus.CANCELLED else ""
    Inspection.objects.filter(pk=framing.pk).update(status=status, cancelled_reason=reason)
    second = add(application_a, framing_type_a, clerk)
    assert second.status == InspectionStatus.NOT_STARTED
    assert activities(application_a) == [("inspection_added", "Framing inspection added")]


def test_another_type_is_no_duplicate(clerk, application_a, occupancy_type_a, framing):
    assert add(application_a, occupancy_type_a, clerk).inspection_type == occupancy_type_a


# Who a new inspection is assigned to


def test_inspector_who_adds_an_inspection_is_assigned_to_it(
    inspector, application_a, framing_type_a
):
    inspection = add(application_a, framing_type_a, inspector)
    assert (inspection.assigned_inspector, inspection.created_by) == (inspector, inspector)
    assert activities(application_a) == [
        ("inspection_added", "Framing inspection added, assigned to Inspector")
    ]


@pytest.mark.parametrize("persona", ["clerk", "admin_user"])
def test_clerk_or_administrator_who_adds_an_inspection_is_not_assigned(
    request, persona, application_a, framing_type_a
):
    user = request.getfixturevalue(persona)
    inspection = add(application_a, framing_type_a, user)
    assert inspection.assigned_inspector is None
    assert inspection.created_by == user


def test_inspector_elsewhere_but_clerk_here_is_not_assigned(
    application_a, framing_type_a, municipality_a, municipality_b
):
    from core.models import Membership

    user = make_user("both", municipality_b, Role.INSPECTOR)
    Membership.objects.create(user=user, municipality=municipality_a, role=Role.CLERK)
    assert add(application_a, framing_type_a, user).assigned_inspector is None


# inspection_cancel


def cancel(inspection, actor, reason="Added twice by mistake") -> Inspection:
    return services.inspection_cancel(inspection=inspection, actor=actor, reason=reason)


def test_never_visited_inspection_is_cancelled_with_its_reason_and_kept(
    inspector, application_a, framing
):
    before = timezone.now()
    cancel(framing, inspector, reason="  Added twice by mistake\n")
    framing.refresh_from_db()
    assert framing.status == InspectionStatus.CANCELLED
    assert framing.cancelled_reason == "Added twice by mistake"
    assert framing.cancelled_by == inspector
    assert framing.cancelled_at >= before
    assert activities(application_a) == [
        ("inspection_cancelled", "Framing inspection cancelled: Added twice by mistake")
    ]


@pytest.mark.parametrize("reason", ["", "   \n\t "])
def test_cancelling_without_a_reason_is_refused(inspector, framing, reason):
    message = refused(lambda: cancel(framing, inspector, reason=reason), CancelRefused)
    assert message == "Give the reason for cancelling this inspection."


def test_cancelling_with_a_reason_too_long_is_refused(inspector, framing):
    message = refused(lambda: cancel(framing, inspector, reason="x" * 1001), CancelRefused)
    assert message == "The reason may have at most 1000 characters (it has 1001)."


def test_inspection_with_an_open_visit_cannot_be_cancelled(inspector, framing):
    open_visit_of(framing, inspector)
    Inspection.objects.filter(pk=framing.pk).update(status=InspectionStatus.IN_PROGRESS)
    message = refused(lambda: cancel(framing, inspector), CancelRefused)
    assert message == (
        "A visit was started on this inspection, so it cannot be cancelled: only an "
        "inspection never visited can be."
    )


def test_inspection_visited_before_cannot_be_cancelled(inspector, framing):
    closed_visit_of(framing, inspector, result="failed")
    Inspection.objects.filter(pk=framing.pk).update(status=InspectionStatus.REVISIT_REQUIRED)
    message = refused(lambda: cancel(framing, inspector), CancelRefused)
    assert message.startswith("A visit was started on this inspection")


def test_closed_inspection_cannot_be_cancelled(inspector, framing):
    # Closed without a visit row: only possible in the admin, refused all the same.
    Inspection.objects.filter(pk=framing.pk).update(status=InspectionStatus.CLOSED)
    message = refused(lambda: cancel(framing, inspector), CancelRefused)
    assert message == "This inspection is closed: a closed inspection cannot be cancelled."


def test_cancelled_inspection_cannot_be_cancelled_again(inspector, clerk, framing):
    cancel(framing, clerk)
    local = timezone.localtime(Inspection.objects.get(pk=framing.pk).cancelled_at)
    message = refused(lambda: cancel(framing, inspector, reason="Again"), CancelRefused)
    assert message == (
        f"This inspection was already cancelled by Clerk on {local:%Y-%m-%d at %H:%M}."
    )


def test_cancelled_inspection_gets_no_visit(inspector, framing):
    cancel(framing, inspector)
    message = refused(lambda: services.visit_start(inspection=framing, actor=inspector))
    assert message == "This inspection is closed: no new visit can be started."


# The database's own rule


def test_database_refuses_a_cancelled_inspection_without_a_reason(framing):
    with pytest.raises(IntegrityError), transaction.atomic():
        Inspection.objects.filter(pk=framing.pk).update(status=InspectionStatus.CANCELLED)


def test_database_refuses_a_reason_on_an_inspection_not_cancelled(framing):
    with pytest.raises(IntegrityError), transaction.atomic():
        Inspection.objects.filter(pk=framing.pk).update(cancelled_reason="Added twice")


# At the same moment (PostgreSQL row locks; each thread is a server worker)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks are tested on PostgreSQL",
)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_people_adding_the_same_type_at_once_add_one(
    inspector, clerk, application_a, framing_type_a
):
    from tests.occupancy.test_concurrency import run_in_threads

    results = run_in_threads(
        [lambda user=user: add(application_a, framing_type_a, user) for user in (inspector, clerk)]
    )
    assert sorted(type(r).__name__ for r in results) == ["DuplicateInspection", "Inspection"]
    assert Inspection.objects.count() == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_visit_started_while_cancelling_leaves_one_of_the_two(inspector, clerk, framing):
    from tests.occupancy.test_concurrency import run_in_threads

    results = run_in_threads(
        [
            lambda: services.visit_start(inspection=framing, actor=inspector),
            lambda: cancel(framing, inspector),
        ]
    )
    framing.refresh_from_db()
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1, results
    if framing.status == InspectionStatus.CANCELLED:
        assert not framing.visits.exists()
        assert str(failed[0]) == "This inspection is closed: no new visit can be started."
    else:
        assert framing.status == InspectionStatus.IN_PROGRESS
        assert isinstance(failed[0], CancelRefused)

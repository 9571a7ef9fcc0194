"""What inspections.services and inspections.rules refuse, called directly (test_visit_views.py
shows the same refusals through the pages): each test names the exception and its message,
and proves that no row and no file changed."""

import datetime
import io

import pytest
from django.db import transaction
from django.utils import timezone
from PIL import Image

from core.images import ProcessedPhoto
from core.models import Activity
from demo import builders
from inspections import rules, services
from inspections.models import (
    Finding,
    Inspection,
    InspectionKind,
    InspectionStatus,
    InspectionType,
    Order,
    OrderType,
    Photo,
    Visit,
)
from inspections.services import VisitError, VisitNotOpen
from permits.models import Application
from tests.db_rows import media_files, rows
from tests.factories import make_closed_visit, make_finding, make_inspection, make_order

TODAY = timezone.localdate()
# Every table a visit's change can touch (Application: its last activity time).
TABLES = (Application, Inspection, Visit, Finding, Order, Order.findings.through, Photo, Activity)
CLOSED_AT = datetime.datetime(2026, 3, 2, 14, 5)  # local time of the closed visit


def everything():
    return rows(*TABLES), media_files()


def refused(call, exception=VisitError) -> str:
    """Run a change that must be refused; its message, after checking nothing changed."""
    before = everything()
    with pytest.raises(exception) as caught:
        call()
    assert everything() == before
    return str(caught.value)


def open_visit_of(inspection, user, sequence=1) -> Visit:
    return Visit.objects.create(inspection=inspection, sequence=sequence, started_by=user)


def closed_visit_of(inspection, user, sequence=1, **fields) -> Visit:
    # Closed at that time when written: a closed visit is never changed afterwards (on
    # PostgreSQL the database refuses it, inspections 0008).
    fields.setdefault("closed_at", timezone.make_aware(CLOSED_AT))
    visit = make_closed_visit(inspection, user, sequence=sequence, **fields)
    visit.refresh_from_db()
    return visit


def processed_photo() -> ProcessedPhoto:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, format="JPEG")
    return ProcessedPhoto(
        image=buffer.getvalue(), thumbnail=buffer.getvalue(), width=64, height=48, taken_at=None
    )


@pytest.fixture
def framing(application_a, framing_type_a):
    return make_inspection(application_a, framing_type_a)


@pytest.fixture
def occupancy(application_a, occupancy_type_a):
    return make_inspection(application_a, occupancy_type_a)


# inspection_add


def test_inspection_type_of_another_municipality_is_refused(
    inspector, application_a, municipality_b
):
    other = InspectionType.objects.create(municipality=municipality_b, name="Framing")
    message = refused(
        lambda: services.inspection_add(
            application=application_a, inspection_type=other, actor=inspector
        )
    )
    assert message == "That inspection type belongs to another municipality."


def test_inactive_inspection_type_is_refused(inspector, application_a, framing_type_a):
    InspectionType.objects.filter(pk=framing_type_a.pk).update(is_active=False)
    framing_type_a.refresh_from_db()
    message = refused(
        lambda: services.inspection_add(
            application=application_a, inspection_type=framing_type_a, actor=inspector
        )
    )
    assert message == "The inspection type Framing is no longer in use."


# visit_start


def test_second_visit_is_refused_while_one_is_open(inspector, clerk, framing):
    open_visit_of(framing, clerk)
    message = refused(lambda: services.visit_start(inspection=framing, actor=inspector))
    assert message == "Visit 1 is already open (started by Clerk); continue it below."


@pytest.mark.parametrize("status", [InspectionStatus.CLOSED, InspectionStatus.CANCELLED])
def test_finished_inspection_gets_no_new_visit(inspector, framing, status):
    closed_visit_of(framing, inspector, result="passed")
    reason = "Added twice" if status == InspectionStatus.CANCELLED else ""
    Inspection.objects.filter(pk=framing.pk).update(status=status, cancelled_reason=reason)
    message = refused(lambda: services.visit_start(inspection=framing, actor=inspector))
    assert message == "This inspection is closed: no new visit can be started."


# Changes to a closed visit


@pytest.fixture
def closed(inspector, framing):
    """A closed visit with a finding, an order linked to it and a photo."""
    visit = closed_visit_of(framing, inspector)
    finding = make_finding(visit, inspector)
    order = make_order(visit, inspector, findings=[finding])
    # Written as history: on PostgreSQL nothing is added to a closed visit (inspections 0008).
    with builders.written_as_history(visit):
        photo = Photo.objects.create(
            visit=visit,
            image="photos/stairs.jpg",
            thumbnail="photos/stairs-thumb.jpg",
            description="Basement stairs",
            uploaded_by=inspector,
        )
    return {"visit": visit, "finding": finding, "order": order, "photo": photo}


ORDER_FIELDS = dict(
    order_type=OrderType.ORDER_TO_COMPLY,
    issued_to="Jordan Smith, owner",
    description="Install the handrail.",
    comply_by=None,
)
FINDING_FIELDS = dict(discovery_date=TODAY, description="Guard too low", is_remark=False)
CHANGES_TO_A_VISIT = {
    "save the draft": lambda c, actor: services.visit_save_draft(
        visit=c["visit"],
        actor=actor,
        visit_type="on_site",
        internal_notes="Typed after the close",
        site_conditions="",
        time_used_minutes=30,
    ),
    "add a finding": lambda c, actor: services.finding_add(
        visit=c["visit"], actor=actor, **FINDING_FIELDS
    ),
    "edit a finding": lambda c, actor: services.finding_update(
        finding=c["finding"], actor=actor, **FINDING_FIELDS
    ),
    "delete a finding": lambda c, actor: services.finding_delete(finding=c["finding"], actor=actor),
    "add an order": lambda c, actor: services.order_add(
        visit=c["visit"], actor=actor, findings=[c["finding"]], **ORDER_FIELDS
    ),
    "edit an order": lambda c, actor: services.order_update(
        order=c["order"], actor=actor, **ORDER_FIELDS
    ),
    "delete an order": lambda c, actor: services.order_delete(order=c["order"], actor=actor),
    "add a photo": lambda c, actor: services.photos_add(
        visit=c["visit"], actor=actor, photos=[processed_photo()], description="After the close"
    ),
    "delete a photo": lambda c, actor: services.photo_delete(photo=c["photo"], actor=actor),
    "lock it for closing": lambda c, actor: services.lock_visit_for_close(c["visit"]),
}


@pytest.mark.parametrize("change", CHANGES_TO_A_VISIT)
def test_a_closed_visit_is_frozen(inspector, closed, change):
    message = refused(lambda: CHANGES_TO_A_VISIT[change](closed, inspector), VisitNotOpen)
    assert message == (
        "Visit 1 was already closed by Inspector on 2026-03-02 at 14:05; nothing was changed."
    )


# Carried-over deficiencies and orders


@pytest.fixture
def history(inspector, framing, occupancy):
    """Visits 1 and 2 of the framing inspection closed, visit 3 open. From visit 1: a
    deficiency and an order dealt with on visit 2, a deficiency and an order still open, and
    a remark; visit 3 has its own deficiency and order. An occupancy inspection of the same
    application has a deficiency and an order of its own."""
    v1 = closed_visit_of(framing, inspector, sequence=1)
    v2 = closed_visit_of(framing, inspector, sequence=2)
    v3 = open_visit_of(framing, inspector, sequence=3)
    other = closed_visit_of(occupancy, inspector, sequence=1)
    return {
        "visit 2": v2,
        "visit 3": v3,
        "corrected on visit 2": make_finding(v1, inspector, corrected_on_visit=v2),
        "open deficiency": make_finding(v1, inspector),
        "remark": make_finding(v1, inspector, is_remark=True),
        "deficiency of visit 3": make_finding(v3, inspector),
        "deficiency of another inspection": make_finding(other, inspector),
        "complied on visit 2": make_order(v1, inspector, complied_on_visit=v2),
        "open order": make_order(v1, inspector),
        "order of visit 3": make_order(v3, inspector),
        "order of another inspection": make_order(other, inspector),
    }


@pytest.mark.parametrize(
    "finding, corrected, message",
    [
        (
            "deficiency of visit 3",
            True,
            "Only deficiencies from earlier visits of this inspection carry over.",
        ),
        (
            "deficiency of another inspection",
            True,
            "Only deficiencies from earlier visits of this inspection carry over.",
        ),
        ("remark", True, "A remark does not need correcting."),
        (
            "corrected on visit 2",
            True,
            "That deficiency was already marked corrected on an earlier visit.",
        ),
        ("corrected on visit 2", False, "That deficiency was not marked corrected on this visit."),
        ("open deficiency", False, "That deficiency was not marked corrected on this visit."),
    ],
)
def test_marking_a_deficiency_corrected_is_refused(inspector, history, finding, corrected, message):
    refusal = refused(
        lambda: services.finding_set_corrected(
            finding=history[finding], visit=history["visit 3"], actor=inspector, corrected=corrected
        )
    )
    assert refusal == message


@pytest.mark.parametrize(
    "order, complied, message",
    [
        (
            "order of visit 3",
            True,
            "Only orders from earlier visits of this inspection carry over.",
        ),
        (
            "order of another inspection",
            True,
            "Only orders from earlier visits of this inspection carry over.",
        ),
        (
            "complied on visit 2",
            True,
            "That order was already marked complied with on an earlier visit.",
        ),
        ("complied on visit 2", False, "That order was not marked complied with on this visit."),
        ("open order", False, "That order was not marked complied with on this visit."),
    ],
)
def test_marking_an_order_complied_is_refused(inspector, history, order, complied, message):
    refusal = refused(
        lambda: services.order_set_complied(
            order=history[order], visit=history["visit 3"], actor=inspector, complied=complied
        )
    )
    assert refusal == message


def test_marking_on_a_closed_visit_is_refused(inspector, history):
    def correct():
        services.finding_set_corrected(
            finding=history["open deficiency"],
            visit=history["visit 2"],
            actor=inspector,
            corrected=True,
        )

    def comply():
        services.order_set_complied(
            order=history["open order"], visit=history["visit 2"], actor=inspector, complied=True
        )

    expected = (
        "Visit 2 was already closed by Inspector on 2026-03-02 at 14:05; nothing was changed."
    )
    assert refused(correct, VisitNotOpen) == expected
    assert refused(comply, VisitNotOpen) == expected


def test_findings_of_another_inspection_cannot_be_linked_or_photographed(inspector, history):
    visit, foreign = history["visit 3"], history["deficiency of another inspection"]
    add = lambda: services.order_add(  # noqa: E731
        visit=visit, actor=inspector, findings=[foreign], **ORDER_FIELDS
    )
    update = lambda: services.order_update(  # noqa: E731
        order=history["order of visit 3"], actor=inspector, findings=[foreign], **ORDER_FIELDS
    )
    photo = lambda: services.photos_add(  # noqa: E731
        visit=visit, actor=inspector, photos=[processed_photo()], description="x", finding=foreign
    )
    assert refused(add) == "An order can only be linked to findings of this inspection."
    assert refused(update) == "An order can only be linked to findings of this inspection."
    assert refused(photo) == "A photo can only show a finding of this inspection."


# visit_close and the result rules (inspections.rules.result_refusal)


def close(visit, actor, result, failure_reason=""):
    with transaction.atomic():
        visit = services.visit_close(
            visit=services.lock_visit_for_close(visit),
            actor=actor,
            result=result,
            failure_reason=failure_reason,
        )
    services.visit_report_queue(visit=visit)  # rendered by the job at once in tests
    return visit


def outstanding(visit, user, deficiencies=0, orders=0, remarks=0):
    for n in range(deficiencies):
        make_finding(visit, user, description=f"Deficiency {n + 1}")
    for n in range(remarks):
        make_finding(visit, user, description=f"Remark {n + 1}", is_remark=True)
    for _ in range(orders):
        make_order(visit, user)


NOT_OFFERED = "Choose one of the results offered for this inspection."


@pytest.mark.parametrize(
    "kind, matters, result, failure_reason, message",
    [
        ("general", {}, "granted_full", "", NOT_OFFERED),
        ("general", {}, "not_granted", "deficiencies", NOT_OFFERED),
        ("occupancy", {}, "passed", "", NOT_OFFERED),
        ("occupancy", {}, "failed", "deficiencies", NOT_OFFERED),
        ("general", {}, "", "", NOT_OFFERED),
        (
            "general",
            {"deficiencies": 1, "remarks": 1},
            "passed",
            "",
            "An inspection with an open deficiency cannot pass (1 open): mark it corrected, "
            "turn it into a remark, or choose Failed.",
        ),
        (
            "occupancy",
            {"deficiencies": 1},
            "granted_full",
            "",
            "Occupancy cannot be granted as fully completed while 1 deficiency and 0 orders "
            "are outstanding: choose Granted, but outstanding matters, or Not granted.",
        ),
        (
            "occupancy",
            {"deficiencies": 2, "orders": 1},
            "granted_full",
            "",
            "Occupancy cannot be granted as fully completed while 2 deficiencies and 1 order "
            "are outstanding: choose Granted, but outstanding matters, or Not granted.",
        ),
        (
            "occupancy",
            {"remarks": 2},
            "granted_outstanding",
            "",
            "Granted, but outstanding matters needs at least one outstanding deficiency or "
            "order: record it, or choose Granted and fully completed.",
        ),
        ("general", {}, "failed", "", "Choose the reason the inspection was not passed."),
        ("occupancy", {}, "not_granted", "", "Choose the reason the inspection was not passed."),
    ],
)
def test_close_with_a_result_the_rules_refuse_changes_nothing(
    inspector, framing, occupancy, kind, matters, result, failure_reason, message
):
    inspection = occupancy if kind == InspectionKind.OCCUPANCY else framing
    visit = open_visit_of(inspection, inspector)
    outstanding(visit, inspector, **matters)
    refusal = refused(lambda: close(visit, inspector, result, failure_reason))
    assert refusal == message


def test_deficiencies_corrected_by_the_visit_being_closed_no_longer_count(inspector, framing):
    """The other side of the rules: what is dealt with no longer blocks a pass or a grant;
    a deficiency corrected only on a later visit still counts for the earlier one."""
    v1 = closed_visit_of(framing, inspector, sequence=1)
    v2 = closed_visit_of(framing, inspector, sequence=2)
    v3 = open_visit_of(framing, inspector, sequence=3)
    make_finding(v1, inspector, corrected_on_visit=v3)
    make_finding(v2, inspector, is_remark=True)
    make_order(v1, inspector, complied_on_visit=v3)
    general = InspectionKind.GENERAL
    assert rules.result_refusal(visit=v3, kind=general, result="passed") is None
    assert rules.result_refusal(visit=v2, kind=general, result="passed") == (
        "An inspection with an open deficiency cannot pass (1 open): mark it corrected, "
        "turn it into a remark, or choose Failed."
    )
    occupancy = InspectionKind.OCCUPANCY
    assert rules.result_refusal(visit=v3, kind=occupancy, result="granted_full") is None
    assert rules.result_refusal(visit=v2, kind=occupancy, result="granted_outstanding") is None
    assert [i.pk for i in rules.outstanding_orders(v2)] == [Order.objects.get().pk]

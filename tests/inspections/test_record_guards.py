"""Issue 15, deliverable 4: the database guards a closed visit, whatever code writes the rows
(inspections migration 0008). On PostgreSQL every column of a closed visit and of its
findings, orders and photos is refused to an ORM .update() and to raw SQL, with the trigger's
message naming the column; a closed visit is never reopened; none of them is deleted and
nothing is added to a closed visit. The follow-up fields stay open to the workflow: a later,
open visit marks a deficiency corrected or an order complied with (and undoes it), and once
that visit is closed the mark is frozen too."""

import datetime

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from demo import builders
from inspections import services
from inspections.models import (
    Finding,
    Order,
    OrderType,
    Photo,
    Visit,
    VisitStatus,
)
from tests.db_rows import rows
from tests.factories import make_inspection
from tests.inspections.test_services import processed_photo

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the record guards are PostgreSQL triggers"
    ),
]

TODAY = timezone.localdate()
FOLLOW_UP_FIELDS = {Finding: "corrected_on_visit", Order: "complied_on_visit"}


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


@pytest.fixture
def framing(application_a, framing_type_a):
    return make_inspection(application_a, framing_type_a)


@pytest.fixture
def closed(framing, inspector):
    """Visit 1 of a framing inspection, recorded and closed Failed through the services: a
    deficiency, a remark, an order linked to the deficiency, a photo of the deficiency."""
    visit = services.visit_start(inspection=framing, actor=inspector)
    deficiency = services.finding_add(
        visit=visit,
        actor=inspector,
        discovery_date=TODAY,
        description="Guard too low on the landing",
        is_remark=False,
    )
    services.finding_add(
        visit=visit,
        actor=inspector,
        discovery_date=TODAY,
        description="Paint touch-ups",
        is_remark=True,
    )
    order = services.order_add(
        visit=visit,
        actor=inspector,
        order_type=OrderType.ORDER_TO_COMPLY,
        issued_to="Jordan Smith, owner",
        description="Raise the guard to 1070 mm.",
        comply_by=TODAY + datetime.timedelta(days=14),
        findings=[deficiency],
    )
    (photo,) = services.photos_add(
        visit=visit,
        actor=inspector,
        photos=[processed_photo()],
        description="The landing guard",
        finding=deficiency,
    )
    visit = close(visit, inspector, "failed", "deficiencies")
    assert visit.status == VisitStatus.CLOSED
    return visit, deficiency, order, photo


@pytest.fixture
def revisit(closed, framing, inspector):
    """Visit 2, open: the one that may mark what visit 1 left corrected or complied with."""
    return services.visit_start(inspection=framing, actor=inspector)


def other_value(field, value):
    """Another value of the column's type that someone might try to write."""
    if isinstance(field, models.ForeignKey | models.AutoField) or field.primary_key:
        return value + 1000 if value is not None else 1000
    if isinstance(field, models.BooleanField):
        return not value
    if isinstance(field, models.DateTimeField):
        return (value or timezone.now()) - datetime.timedelta(days=1)
    if isinstance(field, models.DateField):
        return (value or TODAY) - datetime.timedelta(days=1)
    if isinstance(field, models.IntegerField):
        return (value or 0) + 7
    if isinstance(field, models.CharField | models.TextField | models.FileField):
        value = str(value or "")
        if field.choices:
            return next(choice for choice, _ in field.choices if choice != value)
        return (value[:-1] + ("x" if value[-1:] != "x" else "y")) if value else "x"
    raise AssertionError(f"no other value for {field!r}")


def guarded_columns(model, *, allowed=()):
    return [
        field
        for field in model._meta.concrete_fields
        if field.name not in allowed and field.name != "status"
    ]


def try_every_column(row, message, *, skip=()):
    """Each column of `row` (but `skip`), changed with an ORM .update() and with raw SQL: all
    refused with `message` (a pattern with {column}), and the table is as it was."""
    model = type(row)
    before = rows(model)
    allowed = (FOLLOW_UP_FIELDS.get(model, ""), *skip)
    tried = []
    for field in guarded_columns(model, allowed=allowed):
        current = getattr(row, field.attname)
        if isinstance(field, models.FileField):
            current = current.name if hasattr(current, "name") else current
        value = other_value(field, current)
        pattern = message.format(column=field.column)
        with pytest.raises(IntegrityError, match=pattern):
            with transaction.atomic():
                model.objects.filter(pk=row.pk).update(**{field.attname: value})
        with pytest.raises(IntegrityError, match=pattern):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f'UPDATE {model._meta.db_table} SET "{field.column}" = %s WHERE id = %s',
                    [value, row.pk],
                )
        tried.append(field.column)
    assert rows(model) == before
    return tried


def label(visit):
    return f"visit {visit.sequence} of inspection {visit.inspection.code}"


# The closed visit


REPORT_COLUMNS = ("report_pdf", "report_sha256")


def test_each_column_of_a_closed_visit_is_refused(closed):
    visit = closed[0]
    tried = try_every_column(
        visit,
        rf"{label(visit)} is closed and cannot be changed \({{column}}\)",
        skip=REPORT_COLUMNS,
    )
    assert {"result", "closed_at", "closed_by_id", "internal_notes"} <= set(tried)


def test_a_closed_visits_report_once_stored_is_never_changed(closed):
    # The report job stored it (inspections 0009 lets it, once, from empty): rewriting,
    # removing or replacing it is refused, whatever writes the row.
    visit = Visit.objects.get(pk=closed[0].pk)
    assert visit.report_pdf and len(visit.report_sha256) == 64
    tried = try_every_column(
        visit,
        rf"{label(visit)} is closed: its report is stored once, with its SHA-256, and never "
        r"changed",
        skip=[f.name for f in Visit._meta.concrete_fields if f.name not in REPORT_COLUMNS],
    )
    assert set(tried) == set(REPORT_COLUMNS)
    message = r"its report is stored once"
    for emptied in ({"report_pdf": "", "report_sha256": ""}, {"report_sha256": ""}):
        with pytest.raises(IntegrityError, match=message):
            with transaction.atomic():
                Visit.objects.filter(pk=visit.pk).update(**emptied)
    assert Visit.objects.get(pk=visit.pk).report_sha256 == visit.report_sha256


def test_a_pending_report_is_stored_once_and_only_with_its_hash(closed):
    # A closed visit whose report is pending (the job has not run): the report and its
    # SHA-256 are set together, once; a report without its hash, a malformed hash or any
    # other column in the same update is refused.
    visit = closed[0]
    with connection.cursor() as cursor:
        # Back to pending as the close leaves it, past the guard (as demo.builders writes
        # history): the trigger is what is under test, not how the row got here.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE inspections_visit SET report_pdf = '', report_sha256 = '' WHERE id = %s",
            [visit.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    message = r"its report is stored once"
    for refused in (
        {"report_pdf": "reports/2026/r.pdf"},
        {"report_sha256": "a" * 64},
        {"report_pdf": "reports/2026/r.pdf", "report_sha256": "not a digest"},
    ):
        with pytest.raises(IntegrityError, match=message):
            with transaction.atomic():
                Visit.objects.filter(pk=visit.pk).update(**refused)
    with pytest.raises(IntegrityError, match=r"cannot be changed \(internal_notes\)"):
        with transaction.atomic():
            Visit.objects.filter(pk=visit.pk).update(
                report_pdf="reports/2026/r.pdf", report_sha256="a" * 64, internal_notes="x"
            )
    stored = {"report_pdf": "reports/2026/r.pdf", "report_sha256": "a" * 64}
    Visit.objects.filter(pk=visit.pk).update(**stored)
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic():
            Visit.objects.filter(pk=visit.pk).update(report_sha256="b" * 64)
    stored = Visit.objects.get(pk=visit.pk)
    assert (stored.report_pdf.name, stored.report_sha256) == ("reports/2026/r.pdf", "a" * 64)


def test_a_closed_visit_is_never_reopened(closed):
    visit = closed[0]
    message = rf"{label(visit)} is closed and is never reopened"
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic():
            Visit.objects.filter(pk=visit.pk).update(
                status=VisitStatus.OPEN, result="", closed_by=None, closed_at=None
            )
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE inspections_visit SET status = 'open' WHERE id = %s", [visit.pk])
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CLOSED


def test_a_closed_visit_is_never_deleted(closed):
    visit = closed[0]
    message = rf"{label(visit)} is closed: it is a record and cannot be deleted"
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM inspections_visit WHERE id = %s", [visit.pk])
    assert Visit.objects.filter(pk=visit.pk).exists()


def test_an_open_visit_is_still_recorded_and_closed(revisit, inspector):
    # The guard is about closed visits: the workflow writes an open one freely.
    services.visit_save_draft(
        visit=revisit,
        actor=inspector,
        visit_type=revisit.visit_type,
        internal_notes="Owner on site",
        site_conditions="Dry",
        time_used_minutes=20,
    )
    finding = services.finding_add(
        visit=revisit,
        actor=inspector,
        discovery_date=TODAY,
        description="Stair riser uneven",
        is_remark=False,
    )
    services.finding_delete(finding=finding, actor=inspector)
    visit = close(revisit, inspector, "failed", "deficiencies")
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CLOSED


# Its findings, orders and photos


@pytest.mark.parametrize("which", ["deficiency", "order", "photo"])
def test_each_column_of_a_closed_visits_finding_order_and_photo_is_refused(closed, which):
    visit, deficiency, order, photo = closed
    row = {"deficiency": deficiency, "order": order, "photo": photo}[which]
    what = type(row).__name__.lower()
    tried = try_every_column(
        row,
        rf"{what} {row.code} belongs to closed {label(visit)} and cannot be changed "
        r"\({column}\)",
    )
    assert "description" in tried and "visit_id" in tried


def test_a_remark_of_a_closed_visit_is_refused_too(closed):
    visit = closed[0]
    remark = Finding.objects.get(visit=visit, is_remark=True)
    with pytest.raises(IntegrityError, match=r"cannot be changed \(is_remark\)"):
        with transaction.atomic():
            Finding.objects.filter(pk=remark.pk).update(is_remark=False)


@pytest.mark.parametrize("which", ["deficiency", "order", "photo"])
def test_a_closed_visits_finding_order_and_photo_are_never_deleted(closed, which):
    visit, deficiency, order, photo = closed
    row = {"deficiency": deficiency, "order": order, "photo": photo}[which]
    model = type(row)
    message = (
        rf"{model.__name__.lower()} {row.code} belongs to closed {label(visit)}: it is a "
        "record and cannot be deleted"
    )
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic():
            model.objects.filter(pk=row.pk)._raw_delete(connection.alias)
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE id = %s", [row.pk])
    assert model.objects.filter(pk=row.pk).exists()


def test_nothing_is_added_to_a_closed_visit(closed, inspector):
    visit, deficiency, _, _ = closed
    with pytest.raises(IntegrityError, match=rf"{label(visit)} is closed: no finding can be added"):
        with transaction.atomic():
            # Not demo.builders: it writes history past the guards.
            Finding.objects.create(
                visit=visit, description="Found after the close", created_by=inspector
            )
    with pytest.raises(IntegrityError, match=rf"{label(visit)} is closed: no order can be added"):
        with transaction.atomic():
            Order.objects.create(
                visit=visit,
                order_type=OrderType.ORDER_TO_COMPLY,
                issued_to="Jordan Smith, owner",
                description="Ordered after the close",
                created_by=inspector,
            )
    with pytest.raises(IntegrityError, match=rf"{label(visit)} is closed: no photo can be added"):
        with transaction.atomic():
            Photo.objects.create(
                visit=visit,
                image="photos/2026/12/added.jpg",
                thumbnail="photos/2026/12/added-thumb.jpg",
                description="Added after the close",
                uploaded_by=inspector,
            )
    assert Finding.objects.filter(visit=visit).count() == 2
    assert Order.objects.filter(visit=visit).count() == 1
    assert Photo.objects.filter(visit=visit).count() == 1


def test_a_finding_of_an_open_visit_cannot_be_moved_onto_a_closed_one(closed, revisit):
    visit = closed[0]
    finding = builders.finding(visit=revisit, description="Stair riser uneven")
    with pytest.raises(IntegrityError, match=rf"{label(visit)} is closed: no finding can be added"):
        with transaction.atomic():
            Finding.objects.filter(pk=finding.pk).update(visit=visit)


def test_the_findings_of_a_closed_visits_order_are_frozen(closed, inspector):
    visit, deficiency, order, _ = closed
    remark = Finding.objects.get(visit=visit, is_remark=True)
    message = rf"the findings of an order of closed {label(visit)} cannot be changed"
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic():
            order.findings.add(remark)
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic():
            order.findings.remove(deficiency)
    assert list(order.findings.all()) == [deficiency]


# The follow-up fields: set and undone by a later, open visit only


def test_a_later_open_visit_marks_corrected_and_complied_and_undoes_it(closed, revisit, inspector):
    _, deficiency, order, _ = closed
    services.finding_set_corrected(
        finding=deficiency, visit=revisit, actor=inspector, corrected=True
    )
    services.order_set_complied(order=order, visit=revisit, actor=inspector, complied=True)
    assert Finding.objects.get(pk=deficiency.pk).corrected_on_visit_id == revisit.pk
    assert Order.objects.get(pk=order.pk).complied_on_visit_id == revisit.pk

    services.finding_set_corrected(
        finding=deficiency, visit=revisit, actor=inspector, corrected=False
    )
    services.order_set_complied(order=order, visit=revisit, actor=inspector, complied=False)
    assert Finding.objects.get(pk=deficiency.pk).corrected_on_visit_id is None
    assert Order.objects.get(pk=order.pk).complied_on_visit_id is None


def test_the_marks_are_frozen_once_the_later_visit_is_closed(closed, revisit, inspector):
    visit, deficiency, order, _ = closed
    services.finding_set_corrected(
        finding=deficiency, visit=revisit, actor=inspector, corrected=True
    )
    services.order_set_complied(order=order, visit=revisit, actor=inspector, complied=True)
    close(revisit, inspector, "passed")
    before = rows(Finding, Order)
    for model, row, field in (
        (Finding, deficiency, "corrected_on_visit"),
        (Order, order, "complied_on_visit"),
    ):
        message = (
            rf"{model.__name__.lower()} {row.code} belongs to closed {label(visit)}: its "
            rf"{field}_id is set or undone only by a later visit while that visit is open"
        )
        with pytest.raises(IntegrityError, match=message):
            with transaction.atomic():
                model.objects.filter(pk=row.pk).update(**{field: None})
        with pytest.raises(IntegrityError, match=message):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {model._meta.db_table} SET {field}_id = NULL WHERE id = %s",
                    [row.pk],
                )
    assert rows(Finding, Order) == before


def test_a_mark_naming_a_closed_visit_is_refused(closed, framing, inspector):
    visit, deficiency, order, _ = closed
    # A later visit, closed without marking anything: naming it afterwards is rewriting it.
    later = services.visit_start(inspection=framing, actor=inspector)
    later = close(later, inspector, "failed", "deficiencies")
    for model, row, field in (
        (Finding, deficiency, "corrected_on_visit"),
        (Order, order, "complied_on_visit"),
    ):
        with pytest.raises(IntegrityError, match=rf"its {field}_id is set or undone only"):
            with transaction.atomic():
                model.objects.filter(pk=row.pk).update(**{field: later})
        assert getattr(model.objects.get(pk=row.pk), f"{field}_id") is None
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CLOSED


def test_history_written_by_the_builders_leaves_the_guards_on(closed, inspector):
    # demo.builders writes a closed visit's past (fixtures, seed_demo) past the guards, for
    # its own statements only: the next insert on the closed visit is refused again.
    visit = closed[0]
    builders.finding(visit=visit, description="Seeded history")
    with pytest.raises(IntegrityError, match=rf"{label(visit)} is closed: no finding can be added"):
        with transaction.atomic():
            Finding.objects.create(visit=visit, description="Afterwards", created_by=inspector)
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone() == ("origin",)

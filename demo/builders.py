"""Data builders shared by the tests, `seed_demo` and the benchmark's configuration.

One keyword-only function per kind of row. Each creates a real row through the ORM, with
defaults good enough for a test and every field overridable by keyword, so the shape of a
municipality, a staff user, an application … is written down once: a field the schema adds
gets its default here, not in three places.

The builders write rows the way the application leaves them (a closed visit has its closer,
time and result), but they are not the application's services: they record no audit entry
and send nothing. Demo history and test worlds are set up, not lived through.
"""

import contextlib
import datetime

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from core.models import Membership, Municipality, Role
from inspections.models import (
    FAILING_RESULTS,
    FailureReason,
    Finding,
    Inspection,
    InspectionKind,
    InspectionType,
    Order,
    OrderType,
    Visit,
    VisitStatus,
)
from occupancy.defaults import default_template
from occupancy.models import (
    OccupancyPermitTemplate,
    OccupancyPermitTemplateVersion,
    OccupancyPermitType,
)
from permits.models import Application, ApplicationStatus
from scheduling.models import HalfDay, InspectionRequest, RequestStatus


@contextlib.contextmanager
def written_as_history(visit: Visit | None = None):
    """Rows of a past written directly (a closed visit's findings and orders, a visit's
    times): on PostgreSQL the record guards (inspections 0008, occupancy 0011) refuse every
    change to a closed visit, as they must for the application. Setting up history is what
    pg_restore --disable-triggers does: these statements run with session_replication_role
    = replica (a superuser's setting), which skips triggers, the guards included, and is
    undone when the block ends. Nothing to do for an open visit or on SQLite."""
    if connection.vendor != "postgresql" or (visit is not None and visit.is_open):
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        (previous,) = cursor.fetchone()
        cursor.execute("SET LOCAL session_replication_role = replica")
        yield
        # Back to what it was (an enclosing block may be writing history too); on an error
        # the savepoint's rollback undoes the setting as well.
        cursor.execute("SELECT set_config('session_replication_role', %s, true)", [previous])


def municipality(*, slug: str = "alpha", name: str = "", **fields) -> Municipality:
    """A municipality; its name defaults to the slug in words ("town-of-example" → "Town Of
    Example")."""
    name = name or slug.replace("-", " ").title()
    return Municipality.objects.create(slug=slug, name=name, **fields)


def staff_user(
    *,
    username: str,
    municipality: Municipality | None = None,
    role: Role = Role.INSPECTOR,
    password: str | None = None,
    hashed_password: str | None = None,
    **fields,
):
    """A user, with a membership in `municipality` (as `role`) when one is given.

    `password` is hashed with the configured hasher; `hashed_password` is stored as it is (the
    benchmark hashes once for all its users). With neither the password is unusable.
    """
    fields.setdefault("first_name", username.title())
    # The admin site lets in staff only; a municipal administrator works there.
    fields.setdefault("is_staff", municipality is not None and role == Role.MUNICIPAL_ADMIN)
    user = get_user_model()(username=username, **fields)
    if hashed_password is not None:
        user.password = hashed_password
    else:
        user.set_password(password)
    user.save()
    if municipality is not None:
        Membership.objects.create(user=user, municipality=municipality, role=role)
    return user


def application(
    *, municipality: Municipality, number: str = "B-2026-0001", **fields
) -> Application:
    """A building-permit application, by default a house under construction."""
    values = {
        "description": "New single detached dwelling with attached garage",
        "street_address": "47 Maple Crescent",
        "city": municipality.city or "Alpha",
        "postal_code": "L7R 3Y4",
        "roll_number": "2402 020 030 01500 0000",
        "applicant_name": "Priya Raman",
        "applicant_email": "priya@example.com",
        "owner_name": "Jordan Smith",
        "status": ApplicationStatus.CONSTRUCTION_STARTED,
        "applied_on": datetime.date(2026, 1, 5),
        "permit_issued_on": datetime.date(2026, 2, 1),
        **fields,
    }
    return Application.objects.create(municipality=municipality, number=number, **values)


def inspection_type(
    *,
    municipality: Municipality,
    name: str = "Framing",
    kind: InspectionKind = InspectionKind.GENERAL,
    **fields,
) -> InspectionType:
    return InspectionType.objects.create(municipality=municipality, name=name, kind=kind, **fields)


def inspection(
    *, application: Application, inspection_type: InspectionType, **fields
) -> Inspection:
    return Inspection.objects.create(
        application=application, inspection_type=inspection_type, **fields
    )


def visit(*, inspection: Inspection, inspector, sequence: int = 1, result: str = "", **fields):
    """An open visit started by `inspector`; with a `result`, a closed one as Finish and Close
    leaves it: closed by the same inspector now, a failing result with the reason
    "deficiencies". Any of these can be overridden by keyword."""
    values = {"started_by": inspector}
    if result:
        values.update(
            status=VisitStatus.CLOSED,
            result=result,
            failure_reason=FailureReason.DEFICIENCIES if result in FAILING_RESULTS else "",
            closed_by=inspector,
            closed_at=timezone.now(),
        )
    values.update(fields)
    return Visit.objects.create(inspection=inspection, sequence=sequence, **values)


def finding(
    *,
    visit: Visit,
    created_by=None,
    description: str = "Handrail missing on basement stairs",
    **fields,
) -> Finding:
    """A deficiency (or, with is_remark=True, a remark), written by the visit's inspector
    unless `created_by` says otherwise."""
    with written_as_history(visit):
        return Finding.objects.create(
            visit=visit,
            description=description,
            created_by=created_by or visit.started_by,
            **fields,
        )


def order(*, visit: Visit, created_by=None, findings=(), **fields) -> Order:
    """An order to comply issued on the visit, linked to `findings`."""
    values = {
        "order_type": OrderType.ORDER_TO_COMPLY,
        "issued_to": "Jordan Smith, owner, 905-555-0101",
        "description": "Install the handrail before occupancy.",
        **fields,
    }
    with written_as_history(visit):
        row = Order.objects.create(visit=visit, created_by=created_by or visit.started_by, **values)
        if findings:
            row.findings.set(findings)
    return row


def permit_type(
    *, municipality: Municipality, name: str = "General", **fields
) -> OccupancyPermitType:
    return OccupancyPermitType.objects.create(municipality=municipality, name=name, **fields)


def permit_template(
    *,
    permit_type: OccupancyPermitType,
    name: str = "",
    filename: str = "general.html",
    body: str | None = None,
    stylesheet: str | None = None,
    created_by=None,
    **fields,
) -> OccupancyPermitTemplate:
    """A permit template of `permit_type`'s municipality with its version 1: the body and
    stylesheet of one of the shipped default templates (`filename`) unless given."""
    default = default_template(filename)
    body = default.body if body is None else body
    stylesheet = default.stylesheet if stylesheet is None else stylesheet
    template = OccupancyPermitTemplate.objects.create(
        municipality=permit_type.municipality,
        permit_type=permit_type,
        name=name or f"{permit_type.name} occupancy permit",
        body=body,
        stylesheet=stylesheet,
        version=1,
        **fields,
    )
    OccupancyPermitTemplateVersion.objects.create(
        template=template, version=1, body=body, stylesheet=stylesheet, created_by=created_by
    )
    return template


def inspection_request(
    *, inspection: Inspection, requested_by, requested_date: datetime.date, **fields
) -> InspectionRequest:
    """A request of `inspection` by `requested_by`, Requested for the morning with a site
    contact; give `status`, `assigned_inspector`, `confirmed_date` and `position` for a
    confirmed one (written as it is: the booking rules are the services')."""
    application = inspection.application
    values = {
        "half_day": HalfDay.MORNING,
        "site_contact_name": application.owner_name or application.applicant_name,
        "site_contact_phone": application.owner_phone or "905-555-0100",
        "notify_email": application.applicant_email,
        "status": RequestStatus.REQUESTED,
        **fields,
    }
    return InspectionRequest.objects.create(
        municipality=application.municipality,
        application=application,
        inspection_type=inspection.inspection_type,
        inspection=inspection,
        requested_by=requested_by,
        requested_date=requested_date,
        **values,
    )

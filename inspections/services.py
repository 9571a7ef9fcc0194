"""State changes of inspections and visits. Each function is the one place its rule lives;
views, the admin and commands call these and never change these rows themselves.

Everything recorded on a visit (findings, orders, photos, the draft result) is a draft
while the visit is open and frozen once it is closed: every change below first locks the
visit row and refuses if it is no longer open, so a change racing a close loses cleanly.
"""

import datetime
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.timezone import localtime
from django.utils.translation import gettext, gettext_noop

from core import access
from core.audit import describe_changes, excerpt, record_text
from core.images import ProcessedPhoto
from core.jobs import enqueue_after_commit
from core.models import Role
from core.people import person_name
from inspections.exceptions import CancelRefused, DuplicateInspection, VisitError, VisitNotOpen
from inspections.models import (
    FAILING_RESULTS,
    GRANT_RESULTS,
    Finding,
    Inspection,
    InspectionStatus,
    InspectionType,
    Order,
    Photo,
    Visit,
    VisitStatus,
    VisitType,
)
from inspections.queries import open_visit
from permits.models import Application, ApplicationStatus
from permits.services import application_record_activity, application_set_status

CANCEL_REASON_MAX_LENGTH = Inspection._meta.get_field("cancelled_reason").max_length


def _lock_open_visit(visit: Visit) -> Visit:
    """Lock the visit row for the rest of the transaction; refuse if it was closed."""
    locked = Visit.objects.select_for_update().get(pk=visit.pk)
    if locked.status != VisitStatus.OPEN:
        # Read the closer afresh: a row that was waited for is re-read, its joins are not.
        raise VisitNotOpen(Visit.objects.select_related("closed_by").get(pk=visit.pk))
    return locked


def _application(visit: Visit):
    return visit.inspection.application


def _order_type(order: Order) -> str:
    return record_text(order.get_order_type_display)


@transaction.atomic
def inspection_add(
    *, application, inspection_type: InspectionType, actor, allow_duplicate: bool = False
) -> Inspection:
    """Add a required inspection to an application.

    Refused (DuplicateInspection) when the application already has an inspection of that type
    that is neither closed nor cancelled, unless `allow_duplicate` (the user confirmed that a
    second one is meant).
    Side effects: one Inspection (Not started), assigned to the actor when they are an
    inspector of the municipality; an Activity on the application.
    """
    if inspection_type.municipality_id != application.municipality_id:
        raise VisitError(gettext("That inspection type belongs to another municipality."))
    if not inspection_type.is_active:
        raise VisitError(
            gettext("The inspection type %(name)s is no longer in use.")
            % {"name": inspection_type.name}
        )
    # Lock the application row: two people adding the same type at once would each find no
    # duplicate and both add one.
    Application.objects.select_for_update().only("pk").get(pk=application.pk)
    existing = (
        Inspection.objects.filter(application=application, inspection_type=inspection_type)
        .exclude(status__in=(InspectionStatus.CLOSED, InspectionStatus.CANCELLED))
        .select_related("inspection_type", "assigned_inspector", "created_by")
        .order_by("created_at")
        .first()
    )
    if existing is not None and not allow_duplicate:
        raise DuplicateInspection(existing)
    is_inspector = actor is not None and (
        access.role_in(actor, application.municipality_id) == Role.INSPECTOR
    )
    inspection = Inspection.objects.create(
        application=application,
        inspection_type=inspection_type,
        created_by=actor,
        assigned_inspector=actor if is_inspector else None,
    )
    summary = f"{inspection_type.name} inspection added"
    if existing is not None:
        summary += " (a second one, confirmed)"
    if is_inspector:
        summary += f", assigned to {person_name(actor)}"
    application_record_activity(
        application=application, actor=actor, verb="inspection_added", summary=summary
    )
    return inspection


@transaction.atomic
def inspection_cancel(*, inspection: Inspection, actor, reason: str) -> Inspection:
    """Cancel an inspection that was never visited (added by mistake). It is kept and shown
    struck through with its reason; an inspection is never deleted.

    Refused (CancelRefused) when the reason is blank or too long, the inspection is already
    cancelled or closed, or a visit was ever started on it. The row lock makes a visit started
    at the same moment wait: either the visit or the cancellation wins, never both.
    Side effects: the Inspection Cancelled with the reason, the canceller and the time; an
    Activity on the application.
    """
    reason = reason.strip()
    if not reason:
        raise CancelRefused(gettext("Give the reason for cancelling this inspection."))
    if len(reason) > CANCEL_REASON_MAX_LENGTH:
        raise CancelRefused(
            gettext("The reason may have at most %(limit)s characters (it has %(length)s).")
            % {"limit": CANCEL_REASON_MAX_LENGTH, "length": len(reason)}
        )
    inspection = (
        Inspection.objects.select_for_update(of=("self",))
        .select_related("application", "inspection_type", "cancelled_by")
        .get(pk=inspection.pk)
    )
    if inspection.is_cancelled:
        who = person_name(inspection.cancelled_by) or gettext("another user")
        if (at := inspection.cancelled_at) is not None:
            at = localtime(at)
            raise CancelRefused(
                gettext("This inspection was already cancelled by %(who)s on %(date)s at %(time)s.")
                % {"who": who, "date": f"{at:%Y-%m-%d}", "time": f"{at:%H:%M}"}
            )
        raise CancelRefused(
            gettext("This inspection was already cancelled by %(who)s.") % {"who": who}
        )
    if inspection.is_closed:
        raise CancelRefused(
            gettext("This inspection is closed: a closed inspection cannot be cancelled.")
        )
    if inspection.visits.exists():
        raise CancelRefused(
            gettext(
                "A visit was started on this inspection, so it cannot be cancelled: only an "
                "inspection never visited can be."
            )
        )
    inspection.status = InspectionStatus.CANCELLED
    inspection.cancelled_reason = reason
    inspection.cancelled_by = actor
    inspection.cancelled_at = timezone.now()
    inspection.save(
        update_fields=["status", "cancelled_reason", "cancelled_by", "cancelled_at", "updated_at"]
    )
    application_record_activity(
        application=inspection.application,
        actor=actor,
        verb="inspection_cancelled",
        summary=f"{inspection.inspection_type.name} inspection cancelled: {excerpt(reason, 200)}",
    )
    return inspection


def _open_next_visit(*, inspection, actor, sequence: int, visit_type, status) -> Visit:
    """The new open visit of a locked inspection, which takes `status` and, when unassigned,
    the actor as its inspector. The database's one-open-visit constraint settles a race."""
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                inspection=inspection, sequence=sequence, started_by=actor, visit_type=visit_type
            )
    except IntegrityError:
        raise VisitError(
            gettext("Another visit was started at the same moment; reload the page.")
        ) from None
    inspection.status = status
    fields = ["status", "updated_at"]
    if inspection.assigned_inspector_id is None:
        inspection.assigned_inspector = actor
        fields.append("assigned_inspector")
    inspection.save(update_fields=fields)
    return visit


@transaction.atomic
def visit_start(*, inspection: Inspection, actor) -> Visit:
    """Start a new visit (the draft every result begins with).

    Refused when a visit is already open or the inspection is closed. The database's
    `visit_one_open_per_inspection` constraint backs this up against two inspectors
    pressing Start new visit at once.
    Side effects: one open Visit numbered after the last; the inspection becomes
    In progress and is assigned to the actor when unassigned; an Activity.
    """
    inspection = (
        # Lock the inspection row only: a lock on the joined type, application or
        # municipality rows would make every close of the municipality wait for the others
        # (and deadlock against the permit-number lock; found by make loadtest).
        Inspection.objects.select_for_update(of=("self",))
        .select_related("application", "inspection_type")
        .get(pk=inspection.pk)
    )
    if inspection.status in (InspectionStatus.CLOSED, InspectionStatus.CANCELLED):
        raise VisitError(gettext("This inspection is closed: no new visit can be started."))
    if (existing := open_visit(inspection=inspection)) is not None:
        who = person_name(existing.started_by)
        raise VisitError(
            gettext("Visit %(sequence)s is already open (started by %(who)s); continue it below.")
            % {"sequence": existing.sequence, "who": who}
        )
    last = inspection.visits.aggregate(last=Max("sequence"))["last"] or 0
    visit = _open_next_visit(
        inspection=inspection,
        actor=actor,
        sequence=last + 1,
        visit_type=VisitType.ON_SITE,
        status=InspectionStatus.IN_PROGRESS,
    )
    application_record_activity(
        application=inspection.application,
        actor=actor,
        verb="visit_started",
        summary=f"{inspection.inspection_type.name}: visit {visit.sequence} started",
    )
    return visit


@transaction.atomic
def visit_start_follow_up(*, inspection: Inspection, actor) -> Visit:
    """Reopen a closed inspection for a follow-up visit that resolves its outstanding
    deficiencies and orders (they carry over to it). What was issued stays as it is: the
    permit is not touched, and a follow-up visit never grants (inspections.rules).

    Refused when the inspection is not closed (a follow-up already open included) or has
    nothing outstanding.
    Side effects: one open Visit of type Follow-up numbered after the last; the inspection
    becomes Follow-up of outstanding matters until the visit closes (visit_close returns it
    to Closed) and is assigned to the actor when unassigned; an Activity.
    """
    from inspections import rules

    inspection = (
        # The inspection row only, as in visit_start.
        Inspection.objects.select_for_update(of=("self",))
        .select_related("application", "inspection_type")
        .get(pk=inspection.pk)
    )
    if inspection.status == InspectionStatus.FOLLOW_UP:
        raise VisitError(
            gettext("A follow-up visit is already open on this inspection; continue it below.")
        )
    if inspection.status != InspectionStatus.CLOSED:
        raise VisitError(
            gettext("Only a closed inspection is followed up: start a new visit instead.")
        )
    last = inspection.visits.order_by("-sequence").first()
    deficiencies = rules.outstanding_findings(last).count() if last else 0
    orders = rules.outstanding_orders(last).count() if last else 0
    if not (deficiencies or orders):
        raise VisitError(
            gettext("Nothing is outstanding on this inspection: no follow-up is needed.")
        )
    visit = _open_next_visit(
        inspection=inspection,
        actor=actor,
        sequence=last.sequence + 1,
        visit_type=VisitType.FOLLOW_UP,
        status=InspectionStatus.FOLLOW_UP,
    )
    application_record_activity(
        application=inspection.application,
        actor=actor,
        verb="follow_up_started",
        summary=f"{inspection.inspection_type.name}: follow-up visit {visit.sequence} started "
        f"for {deficiencies} deficienc{'y' if deficiencies == 1 else 'ies'} and {orders} "
        f"order{'' if orders == 1 else 's'} outstanding",
    )
    return visit


@transaction.atomic
def visit_save_draft(
    *,
    visit: Visit,
    actor,
    visit_type: str,
    internal_notes: str,
    site_conditions: str,
    time_used_minutes: int | None,
    result: str = "",
    failure_reason: str = "",
) -> Visit:
    """Save what was typed in Inspection & visit result; the visit stays an open draft.
    (A grant's draft is occupancy's: see occupancy.services.visit_result_save_draft.)

    Side effects: the Visit row's draft fields.
    """
    visit = _lock_open_visit(visit)
    if VisitType.FOLLOW_UP in (visit.visit_type, visit_type):
        # Fixed when the visit starts: a follow-up visit stays one (it may never grant), and
        # only visit_start_follow_up makes one.
        visit_type = visit.visit_type
    visit.visit_type = visit_type
    visit.internal_notes = internal_notes
    visit.site_conditions = site_conditions
    visit.time_used_minutes = time_used_minutes
    visit.result = result
    visit.failure_reason = failure_reason if result in FAILING_RESULTS else ""
    visit.save(
        update_fields=[
            "visit_type",
            "internal_notes",
            "site_conditions",
            "time_used_minutes",
            "result",
            "failure_reason",
        ]
    )
    return visit


@transaction.atomic
def finding_add(
    *, visit: Visit, actor, discovery_date: datetime.date, description: str, is_remark: bool
) -> Finding:
    """Record a deficiency or a remark on an open visit.

    Side effects: one Finding; an Activity.
    """
    visit = _lock_open_visit(visit)
    finding = Finding.objects.create(
        visit=visit,
        discovery_date=discovery_date,
        description=description,
        is_remark=is_remark,
        created_by=actor,
    )
    application_record_activity(
        application=_application(visit),
        actor=actor,
        verb="finding_added",
        summary=f"{record_text(finding.kind_label)} recorded: {excerpt(description, 120)}",
    )
    return finding


@transaction.atomic
def finding_update(
    *, finding: Finding, actor, discovery_date: datetime.date, description: str, is_remark: bool
) -> Finding:
    """Edit a finding of the open visit (e.g. turn a deficiency into a remark).

    Side effects: the Finding row.
    """
    visit = _lock_open_visit(finding.visit)
    # Read what was saved: a bound ModelForm has already written the new values onto `finding`.
    saved = Finding.objects.get(pk=finding.pk)
    before = {
        "date": saved.discovery_date,
        "description": saved.description,
        "remark": saved.is_remark,
    }
    finding.discovery_date = discovery_date
    finding.description = description
    finding.is_remark = is_remark
    finding.save(update_fields=["discovery_date", "description", "is_remark"])
    after = {"date": discovery_date, "description": description, "remark": is_remark}
    application_record_activity(
        application=_application(visit),
        actor=actor,
        verb="finding_changed",
        summary=f"{record_text(finding.kind_label)} changed: {describe_changes(before, after)}",
    )
    return finding


@transaction.atomic
def finding_delete(*, finding: Finding, actor) -> None:
    """Delete a finding of the open visit.

    Side effects: the Finding and its links to orders deleted; photos showing it are kept
    and no longer tied to it; an Activity.
    """
    visit = _lock_open_visit(finding.visit)
    finding.orders.clear()
    Photo.objects.filter(finding=finding).update(finding=None)
    finding.delete()
    application_record_activity(
        application=_application(visit),
        actor=actor,
        verb="finding_deleted",
        summary=f"{record_text(finding.kind_label)} deleted: {excerpt(finding.description, 120)}",
    )


def _lock_carried_over(model, item, visit: Visit):
    """Lock a finding or order from an earlier visit of the same inspection as `visit`."""
    item = model.objects.select_for_update(of=("self",)).select_related("visit").get(pk=item.pk)
    if item.visit.inspection_id != visit.inspection_id or item.visit.sequence >= visit.sequence:
        raise VisitError(
            gettext("Only deficiencies from earlier visits of this inspection carry over.")
            if model is Finding
            else gettext("Only orders from earlier visits of this inspection carry over.")
        )
    return item


# Whole sentences per kind of matter (word order and agreement differ in French).
_MARKING_REFUSALS = {
    (Finding, True): gettext_noop(
        "That deficiency was already marked corrected on an earlier visit."
    ),
    (Finding, False): gettext_noop("That deficiency was not marked corrected on this visit."),
    (Order, True): gettext_noop("That order was already marked complied with on an earlier visit."),
    (Order, False): gettext_noop("That order was not marked complied with on this visit."),
}


def _check_marking(marked_on_id, visit: Visit, *, mark: bool, model) -> None:
    """Marking on this visit needs the item unmarked (or marked here); undoing needs it
    marked on this very visit."""
    if (mark and marked_on_id not in (None, visit.pk)) or (not mark and marked_on_id != visit.pk):
        raise VisitError(gettext(_MARKING_REFUSALS[model, mark]))


@transaction.atomic
def finding_set_corrected(*, finding: Finding, visit: Visit, actor, corrected: bool) -> Finding:
    """Mark a deficiency from an earlier visit corrected on this (open) visit, or undo that.

    Side effects: Finding.corrected_on_visit; an Activity.
    """
    visit = _lock_open_visit(visit)
    finding = _lock_carried_over(Finding, finding, visit)
    if finding.is_remark:
        raise VisitError(gettext("A remark does not need correcting."))
    _check_marking(finding.corrected_on_visit_id, visit, mark=corrected, model=Finding)
    finding.corrected_on_visit = visit if corrected else None
    finding.save(update_fields=["corrected_on_visit"])
    application_record_activity(
        application=_application(visit),
        actor=actor,
        verb="finding_corrected" if corrected else "finding_reopened",
        summary=("Deficiency corrected: " if corrected else "Correction undone: ")
        + excerpt(finding.description, 120),
    )
    return finding


def _check_linkable(visit: Visit, findings: Iterable[Finding]) -> list[Finding]:
    findings = list(findings)
    for finding in findings:
        if finding.visit.inspection_id != visit.inspection_id:
            raise VisitError(gettext("An order can only be linked to findings of this inspection."))
    return findings


@transaction.atomic
def order_add(
    *,
    visit: Visit,
    actor,
    order_type: str,
    issued_to: str,
    description: str,
    comply_by: datetime.date | None,
    findings: Iterable[Finding] = (),
) -> Order:
    """Issue an order on an open visit, optionally linked to findings.

    Side effects: one Order and its links; an Activity.
    """
    visit = _lock_open_visit(visit)
    findings = _check_linkable(visit, findings)
    order = Order.objects.create(
        visit=visit,
        order_type=order_type,
        issued_to=issued_to,
        description=description,
        comply_by=comply_by,
        created_by=actor,
    )
    order.findings.set(findings)
    application_record_activity(
        application=_application(visit),
        actor=actor,
        verb="order_added",
        summary=f"{_order_type(order)} issued to {excerpt(issued_to, 100)}",
    )
    return order


@transaction.atomic
def order_update(
    *,
    order: Order,
    actor,
    order_type: str,
    issued_to: str,
    description: str,
    comply_by: datetime.date | None,
    findings: Iterable[Finding] = (),
) -> Order:
    """Edit an order of the open visit.

    Side effects: the Order row and its links.
    """
    visit = _lock_open_visit(order.visit)
    findings = _check_linkable(visit, findings)
    saved = Order.objects.get(pk=order.pk)  # `order` may carry a bound form's new values
    before = {
        "type": _order_type(saved),
        "issued to": saved.issued_to,
        "description": saved.description,
        "comply by": saved.comply_by,
        "linked findings": saved.findings.count(),
    }
    order.order_type = order_type
    order.issued_to = issued_to
    order.description = description
    order.comply_by = comply_by
    order.save(update_fields=["order_type", "issued_to", "description", "comply_by"])
    order.findings.set(findings)
    after = {
        "type": _order_type(order),
        "issued to": issued_to,
        "description": description,
        "comply by": comply_by,
        "linked findings": len(findings),
    }
    application_record_activity(
        application=_application(visit),
        actor=actor,
        verb="order_changed",
        summary=f"Order changed: {describe_changes(before, after)}",
    )
    return order


@transaction.atomic
def order_delete(*, order: Order, actor) -> None:
    """Delete an order of the open visit.

    Side effects: the Order and its links deleted; an Activity.
    """
    visit = _lock_open_visit(order.visit)
    label = f"{_order_type(order)} to {excerpt(order.issued_to, 100)}"
    order.findings.clear()
    order.delete()
    application_record_activity(
        application=_application(visit),
        actor=actor,
        verb="order_deleted",
        summary=f"{label} deleted",
    )


@transaction.atomic
def order_set_complied(*, order: Order, visit: Visit, actor, complied: bool) -> Order:
    """Record on this (open) visit that an order from an earlier visit was complied with.

    Side effects: Order.complied_on_visit; an Activity.
    """
    visit = _lock_open_visit(visit)
    order = _lock_carried_over(Order, order, visit)
    _check_marking(order.complied_on_visit_id, visit, mark=complied, model=Order)
    order.complied_on_visit = visit if complied else None
    order.save(update_fields=["complied_on_visit"])
    application_record_activity(
        application=_application(visit),
        actor=actor,
        verb="order_complied" if complied else "order_reopened",
        summary=f"{_order_type(order)} issued to {excerpt(order.issued_to, 100)} "
        + ("complied with" if complied else "compliance undone"),
    )
    return order


def photos_add(
    *,
    visit: Visit,
    actor,
    photos: Iterable[ProcessedPhoto],
    description: str,
    finding: Finding | None = None,
) -> list[Photo]:
    """Attach processed (decoded, re-encoded, metadata-stripped) photos to an open visit.

    Side effects: Photo rows and their image and thumbnail files; an Activity. If anything
    fails, no row is saved and the files already written are removed again.
    """
    written: list[str] = []
    storage = Photo._meta.get_field("image").storage
    try:
        with transaction.atomic():
            visit = _lock_open_visit(visit)
            if finding is not None and finding.visit.inspection_id != visit.inspection_id:
                raise VisitError(gettext("A photo can only show a finding of this inspection."))
            created = []
            for processed in photos:
                photo = Photo(
                    visit=visit,
                    description=description,
                    finding=finding,
                    taken_at=processed.taken_at,
                    width=processed.width,
                    height=processed.height,
                    uploaded_by=actor,
                )
                photo.image.save("photo.jpg", ContentFile(processed.image), save=False)
                written.append(photo.image.name)
                photo.thumbnail.save("thumb.jpg", ContentFile(processed.thumbnail), save=False)
                written.append(photo.thumbnail.name)
                photo.save()
                created.append(photo)
            application_record_activity(
                application=_application(visit),
                actor=actor,
                verb="photos_added",
                summary=f"{len(created)} photo(s) added: {excerpt(description, 100)}",
            )
    except BaseException:
        for name in written:
            storage.delete(name)
        raise
    return created


@transaction.atomic
def photo_delete(*, photo: Photo, actor) -> None:
    """Delete a photo of the open visit.

    Side effects: the Photo row; its files removed once the transaction commits.
    """
    visit = _lock_open_visit(photo.visit)
    names = [photo.image.name, photo.thumbnail.name]
    storage = photo.image.storage
    photo.delete()
    transaction.on_commit(lambda: [storage.delete(name) for name in names if name])
    application_record_activity(
        application=_application(visit),
        actor=actor,
        verb="photo_deleted",
        summary=f"Photo deleted: {excerpt(photo.description, 100)}",
    )


def lock_visit_for_close(visit: Visit) -> Visit:
    """Lock an open visit for closing; a second close of the same visit (double click, two
    tabs, two inspectors) waits here for the first and then gets VisitNotOpen."""
    return _lock_open_visit(visit)


def visit_close(
    *,
    visit: Visit,
    actor,
    result: str,
    failure_reason: str,
    closed_at: datetime.datetime | None = None,
    rules_checked: bool = False,
) -> Visit:
    """Close (freeze) a locked open visit with its result. Runs inside the caller's
    transaction (see occupancy.services.visit_finish_and_close, the one entry point).

    Refused when the rules refuse the result (inspections.rules.result_refusals), unless
    `rules_checked`: the caller checked them under this visit's lock already (occupancy.rules.
    grant_refusals starts from them), and a close counts the outstanding matters once.
    The visit is closed at `closed_at` (now by default; an occupancy permit issued at the
    close is issued at the same instant).
    The inspection report is not rendered here: the visit is closed with an empty report,
    and the caller asks for it once the close has committed (visit_report_queue; a job
    renders and stores it, inspections.tasks).
    Side effects: the Visit closed with result, closer and time; the inspection Closed, or
    left open for a new visit after a failing result; an Activity.
    """
    from inspections import rules

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("visit_close must run inside a transaction")
    inspection = (
        # Lock the inspection row only: a lock on the joined type, application or
        # municipality rows would make every close of the municipality wait for the others
        # (and deadlock against the permit-number lock; found by make loadtest).
        Inspection.objects.select_for_update(of=("self",))
        .select_related("application__municipality", "inspection_type")
        .get(pk=visit.inspection_id)
    )
    visit.inspection = inspection
    if not rules_checked:
        refusals = rules.result_refusals(
            visit=visit,
            kind=inspection.inspection_type.kind,
            result=result,
            failure_reason=failure_reason,
        )
        if refusals:
            raise VisitError(" ".join(str(refusal) for refusal in refusals.values()))
    visit.result = result
    visit.failure_reason = failure_reason if result in FAILING_RESULTS else ""
    visit.status = VisitStatus.CLOSED
    visit.closed_by = actor
    visit.closed_at = closed_at or timezone.now()
    visit.save()
    if visit.is_follow_up:
        # The inspection was done before; what stays open waits for another follow-up.
        inspection.status = InspectionStatus.CLOSED
    else:
        inspection.status = (
            InspectionStatus.REVISIT_REQUIRED
            if result in FAILING_RESULTS
            else InspectionStatus.CLOSED
        )
    inspection.save(update_fields=["status", "updated_at"])
    summary = (
        f"{inspection.inspection_type.name}: visit {visit.sequence} closed, "
        f"{record_text(visit.get_result_display)}"
    )
    if visit.is_follow_up:
        resolved = visit.corrected_findings.count() + visit.complied_orders.count()
        left = rules.outstanding_findings(visit).count() + rules.outstanding_orders(visit).count()
        summary += f" (follow-up: {resolved} resolved, {left} still outstanding)"
    application_record_activity(
        application=inspection.application, actor=actor, verb="visit_closed", summary=summary
    )
    if result not in GRANT_RESULTS:  # a grant's status change is occupancy's
        _application_finish_when_complete(
            application=inspection.application, visit=visit, actor=actor
        )
    return visit


def visit_report_queue(*, visit: Visit, permit_number: str = "") -> None:
    """Ask for the inspection report of a closed visit, printing `permit_number` (the
    occupancy permit issued at its close, if any): a job renders and stores it once the
    enclosing transaction has committed (at once when none is open; inspections.tasks).
    Until then the inspection page shows "Inspection report being prepared"."""
    from inspections.tasks import visit_report_render

    enqueue_after_commit(visit_report_render, visit.pk, permit_number)


def _application_finish_when_complete(*, application, visit: Visit, actor) -> None:
    """The application's status says what is true. An occupied application (a general
    occupancy permit was issued) stays Occupied while anything is left: a deficiency or an
    order still open, or an inspection not closed nor cancelled. The close that leaves
    nothing (typically the follow-up visit resolving the last outstanding matter) makes it
    Finished.

    Side effects: Application.status and completed_on; an Activity (permits.services).
    """
    from inspections import rules

    if application.status != ApplicationStatus.OCCUPIED or rules.has_open_matters(application):
        return
    if application.inspections.exclude(
        status__in=(InspectionStatus.CLOSED, InspectionStatus.CANCELLED)
    ).exists():
        return
    name = visit.inspection.inspection_type.name
    resolved = visit.corrected_findings.exists() or visit.complied_orders.exists()
    application_set_status(
        application=application,
        status=ApplicationStatus.FINISHED,
        actor=actor,
        reason=f"the last outstanding matter was resolved on {name} visit {visit.sequence}"
        if resolved
        else f"{name} visit {visit.sequence} closed with nothing left open",
    )


@transaction.atomic
def application_add_default_inspections(*, application, actor=None) -> list[Inspection]:
    """Add the municipality's default inspections for the application's work type.

    Side effects: one Inspection per active default type not yet on the application; an
    Activity when any was added.
    """
    from inspections.models import DefaultInspection

    present = set(application.inspections.values_list("inspection_type_id", flat=True))
    types = [
        default.inspection_type
        for default in DefaultInspection.objects.filter(
            municipality_id=application.municipality_id,
            work_type=application.work_type,
            inspection_type__is_active=True,
        ).select_related("inspection_type")
        if default.inspection_type_id not in present
    ]
    added = [
        Inspection.objects.create(application=application, inspection_type=t, created_by=actor)
        for t in types
    ]
    if added:
        application_record_activity(
            application=application,
            actor=actor,
            verb="default_inspections_added",
            summary="Required inspections added: " + ", ".join(t.name for t in types),
        )
    return added

"""Read functions for pages that show inspections (the Work view, the inspection view), and
the access helpers that load an inspection or what is recorded on it for a user: another
municipality's object is a 404, a role without the permission gets a 403. Other apps' views
read inspections only through this module."""

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from core import access
from inspections import rules
from inspections.models import (
    Finding,
    Inspection,
    Order,
    Photo,
    Visit,
    VisitStatus,
)


def inspection_rows(*, application) -> QuerySet[Inspection]:
    """The application's inspections with their last closed visit's result and date."""
    last_closed = Visit.objects.filter(
        inspection=OuterRef("pk"), status=VisitStatus.CLOSED
    ).order_by("-sequence")
    return (
        Inspection.objects.filter(application=application)
        .select_related("inspection_type", "assigned_inspector", "cancelled_by")
        .annotate(
            last_result=Subquery(last_closed.values("result")[:1]),
            last_closed_at=Subquery(last_closed.values("closed_at")[:1]),
        )
        .order_by("inspection_type__display_order", "inspection_type__name", "created_at")
    )


def linkable_findings(visit) -> QuerySet[Finding]:
    """Findings an order or a photo may point at: this inspection's, up to this visit."""
    return Finding.objects.filter(
        visit__inspection_id=visit.inspection_id, visit__sequence__lte=visit.sequence
    ).order_by("visit__sequence", "discovery_date", "id")


def open_visit(*, inspection) -> Visit | None:
    return inspection.visits.filter(status=VisitStatus.OPEN).select_related("started_by").first()


def visit_findings(*, visit) -> QuerySet[Finding]:
    return visit.findings.select_related("corrected_on_visit").order_by(
        "discovery_date", "created_at", "id"
    )


def carried_over_findings(*, visit) -> QuerySet[Finding]:
    """Deficiencies from earlier visits of the inspection that were still open when this
    visit started, or that this visit marked corrected."""
    return (
        Finding.objects.filter(
            visit__inspection_id=visit.inspection_id,
            visit__sequence__lt=visit.sequence,
            is_remark=False,
        )
        .filter(Q(corrected_on_visit__isnull=True) | Q(corrected_on_visit=visit))
        .select_related("visit")
        .order_by("discovery_date", "id")
    )


def visit_orders(*, visit) -> QuerySet[Order]:
    return visit.orders.prefetch_related(
        Prefetch("findings", queryset=Finding.objects.order_by("id"))
    ).order_by("created_at", "id")


def carried_over_orders(*, visit) -> QuerySet[Order]:
    return (
        Order.objects.filter(
            visit__inspection_id=visit.inspection_id, visit__sequence__lt=visit.sequence
        )
        .filter(Q(complied_on_visit__isnull=True) | Q(complied_on_visit=visit))
        .select_related("visit")
        .prefetch_related(Prefetch("findings", queryset=Finding.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def outstanding_matters(*, visit) -> tuple[list[Finding], list[Order]]:
    """The deficiencies and orders still outstanding at this visit (inspections.rules)."""
    return list(rules.outstanding_findings(visit)), list(rules.outstanding_orders(visit))


def visit_photos(*, visit) -> QuerySet[Photo]:
    return visit.photos.select_related("finding").order_by("uploaded_at", "id")


def last_closed_visit(*, inspection) -> Visit | None:
    return (
        inspection.visits.filter(status=VisitStatus.CLOSED)
        .select_related("closed_by")
        .order_by("-sequence")
        .first()
    )


def closed_visits(*, inspection) -> QuerySet[Visit]:
    """All visits: the closed ones, newest first."""
    return (
        inspection.visits.filter(status=VisitStatus.CLOSED)
        .select_related("started_by", "closed_by")
        .order_by("-sequence")
    )


def ever_visited(*, inspection) -> bool:
    return inspection.visits.exists()


def get_inspection(user, code: str, *, perm: str | None = None) -> Inspection:
    inspection = (
        Inspection.objects.select_related(
            "application__municipality", "inspection_type", "assigned_inspector", "cancelled_by"
        )
        .filter(code=code)
        .first()
    )
    if inspection is None:
        raise Http404("No such inspection.")
    access.check(user, inspection.application.municipality_id, perm)
    return inspection


def _get_visit_item(model, user, code: str, perm: str | None):
    item = (
        model.objects.select_related(
            "visit__inspection__application__municipality",
            "visit__inspection__inspection_type",
            "visit__closed_by",
        )
        .filter(code=code)
        .first()
    )
    if item is None:
        raise Http404("No such record.")
    access.check(user, item.visit.inspection.application.municipality_id, perm)
    return item


def get_finding(user, code: str, *, perm: str | None = None) -> Finding:
    return _get_visit_item(Finding, user, code, perm)


def get_order(user, code: str, *, perm: str | None = None) -> Order:
    return _get_visit_item(Order, user, code, perm)


def get_photo(user, code: str, *, perm: str | None = None) -> Photo:
    return _get_visit_item(Photo, user, code, perm)

"""Read functions for pages that show inspections (the Work view, the inspection view), and
the access helpers that load an inspection or what is recorded on it for a user: another
municipality's object is a 404, a role without the permission gets a 403. Other apps' views
read inspections only through this module."""

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from core import access
from inspections import rules
from inspections.models import (
    GRANT_RESULTS,
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


def linkable_findings(visit, *, order=None) -> QuerySet[Finding]:
    """Findings an order or a photo of this visit may point at: those recorded on it and the
    deficiencies of earlier visits still open at it (what its Deficiencies & remarks section
    lists), and those `order` links already (editing it keeps them). As many as are open,
    however long the inspection's history: the forms offer each one."""
    open_here = Q(visit=visit) | Q(
        Q(corrected_on_visit__isnull=True) | Q(corrected_on_visit=visit),
        visit__inspection_id=visit.inspection_id,
        visit__sequence__lt=visit.sequence,
        is_remark=False,
    )
    if order is not None:
        open_here |= Q(pk__in=order.findings.values("pk"))
    # Within the inspection's visits first (all three kinds are of this inspection): alone, the
    # OR made PostgreSQL test every finding of the database (1.1 s at 200,000 applications).
    of_the_inspection = Q(visit__in=Visit.objects.filter(inspection_id=visit.inspection_id))
    return Finding.objects.filter(of_the_inspection, open_here).order_by(
        "visit__sequence", "discovery_date", "id"
    )


def open_visit(*, inspection) -> Visit | None:
    # get(), not first(): there is one at most (visit_one_open_per_inspection), and first()
    # orders by Visit's default ordering, which goes through Inspection's to the application
    # and the inspection type: three joins to compile and sort for one row (issue 16).
    try:
        return inspection.visits.select_related("started_by").get(status=VisitStatus.OPEN)
    except Visit.DoesNotExist:
        return None


def findings_at_visit(visit) -> QuerySet[Finding]:
    """The findings an open visit shows and its Add order and Add photos forms may link,
    with their visits: those recorded on it and the deficiencies of earlier visits still open
    at it, or that it marked corrected (linkable_findings). One queryset, read once when
    first iterated: the Deficiencies & remarks section splits it (split_findings) and the
    forms offer it (issue 16: it was three queries of one set)."""
    return linkable_findings(visit).select_related("visit")


def split_findings(findings, visit) -> tuple[list[Finding], list[Finding]]:
    """findings_at_visit as its section lists them: those recorded on this visit (by
    discovery date, then as recorded), and those carried from earlier visits (by discovery
    date)."""
    here = [f for f in findings if f.visit_id == visit.pk]
    carried = [f for f in findings if f.visit_id != visit.pk]
    here.sort(key=lambda f: (f.discovery_date, f.created_at, f.pk))
    carried.sort(key=lambda f: (f.discovery_date, f.pk))
    return here, carried


def orders_at_visit(*, visit) -> tuple[list[Order], list[Order]]:
    """The orders an open visit shows, in one query (and one for their linked findings):
    those issued on it, and those of earlier visits not complied with before it (open, or
    marked complied with on it), each by creation."""
    orders = (
        Order.objects.filter(
            # Within the inspection's visits first, as linkable_findings does.
            Q(visit__in=Visit.objects.filter(inspection_id=visit.inspection_id)),
            Q(visit=visit)
            | Q(
                Q(complied_on_visit__isnull=True) | Q(complied_on_visit=visit),
                visit__sequence__lt=visit.sequence,
            ),
        )
        .select_related("visit")
        .prefetch_related(Prefetch("findings", queryset=Finding.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    here, carried = [], []
    for order in orders:
        (here if order.visit_id == visit.pk else carried).append(order)
    return here, carried


def outstanding_matters(*, visit, for_grant: bool | None = None) -> rules.OutstandingAt:
    """The deficiencies and orders still outstanding at this visit (inspections.rules); for a
    grant, with those carried forward from the application's other inspections (what the
    permit lists). `for_grant` None: as the visit's saved result asks."""
    if for_grant is None:
        for_grant = visit.result in GRANT_RESULTS
    return rules.outstanding_at(visit, for_grant=for_grant)


def open_matters(*, application) -> tuple[list[Finding], list[Order]]:
    """Every deficiency and order still open on the application, whichever inspection and
    visit recorded it (inspections.rules.open_findings_of_application): deficiencies by
    discovery date, orders by comply-by date (none last); orders past their comply-by date
    carry is_overdue. A matter marked resolved on a visit still open stays listed, with
    that visit as corrected_on_visit / complied_on_visit."""
    source = ("visit__inspection__inspection_type",)  # the application is the page's
    findings = (
        rules.open_findings_of_application(application.pk)
        .select_related(*source, "corrected_on_visit")
        .order_by("discovery_date", "visit__sequence", "id")
    )
    orders = (
        rules.open_orders_of_application(application.pk)
        .select_related(*source, "complied_on_visit")
        .annotate(
            is_overdue=Case(
                When(comply_by__lt=timezone.localdate(), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by(F("comply_by").asc(nulls_last=True), "created_at", "id")
    )
    return list(findings), list(orders)


def inspection_open_matters(*, inspection) -> tuple[list[Finding], list[Order]]:
    """The deficiencies and orders a closed inspection left outstanding (what a follow-up
    visit would carry over), or nothing when it has no closed visit."""
    last = last_closed_visit(inspection=inspection)
    if last is None:
        return [], []
    return list(rules.outstanding_findings(last)), list(rules.outstanding_orders(last))


def applications_with_overdue_matters(applications: QuerySet) -> QuerySet:
    """The applications that have an order still open past its comply-by date (a filter of
    the application list, registered in InspectionsConfig.ready()): one EXISTS in the same
    query."""
    overdue = rules.open_orders_of_application(OuterRef("pk")).filter(
        comply_by__lt=timezone.localdate()
    )
    return applications.filter(Exists(overdue))


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
    """All visits: the closed ones, newest first (slice it for the latest)."""
    return (
        inspection.visits.filter(status=VisitStatus.CLOSED)
        .select_related("closed_by")  # the list names who closed each
        .order_by("-sequence")
    )


def ever_visited(*, inspection) -> bool:
    return inspection.visits.exists()


def get_inspection(user, code: str, *, perm: str | None = None) -> Inspection:
    # get() on the unique code: first() would order by the model's default ordering (through
    # the application and the inspection type), about a millisecond of compiling (issue 16).
    try:
        inspection = Inspection.objects.select_related(
            "application__municipality", "inspection_type", "assigned_inspector", "cancelled_by"
        ).get(code=code)
    except Inspection.DoesNotExist:
        raise Http404(gettext("No such inspection.")) from None
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
        raise Http404(gettext("No such record."))
    access.check(user, item.visit.inspection.application.municipality_id, perm)
    return item


def get_finding(user, code: str, *, perm: str | None = None) -> Finding:
    return _get_visit_item(Finding, user, code, perm)


def get_order(user, code: str, *, perm: str | None = None) -> Order:
    return _get_visit_item(Order, user, code, perm)


def get_photo(user, code: str, *, perm: str | None = None) -> Photo:
    return _get_visit_item(Photo, user, code, perm)

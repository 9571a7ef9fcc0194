"""What the inspections app shows on pages (see core.pages): the inspection page it owns, with
its Deficiencies & remarks, Orders, Photos and All visits sections, and the Inspections
section of the Work view. Registered in InspectionsConfig.ready()."""

from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from core import access, list_filters, pages
from core.models import Role
from inspections import queries, rules
from inspections.forms import (
    FindingForm,
    InspectionAddForm,
    InspectionCancelForm,
    OrderForm,
    PhotoUploadForm,
)
from inspections.models import VisitStatus
from permits.models import ApplicationStatus
from permits.sections import STATUS_NOTES

RECORD = "inspections.record_visit"
START = "inspections.add_visit"
CANCEL = "inspections.change_inspection"
VISIT_DOCUMENTS = "visit_documents"


def _role_note(user, inspection) -> str:
    """Why a clerk or a viewer sees none of the inspector's buttons."""
    municipality = inspection.application.municipality
    if inspection.is_finished or any(
        access.can(user, municipality.pk, perm) for perm in (START, RECORD)
    ):
        return ""
    role = access.role_in(user, municipality.pk)
    if not role:
        return gettext(
            "You are signed in as a user without a role of %(municipality)s: starting and "
            "recording visits is for inspectors."
        ) % {"municipality": municipality.name}
    return gettext(
        "You are signed in as %(role)s of %(municipality)s: starting and recording visits is "
        "for inspectors."
    ) % {"role": Role(role).label, "municipality": municipality.name}


def inspection_page_context(request, *, inspection) -> dict:
    user = request.user
    municipality_id = inspection.application.municipality_id
    visit = queries.open_visit(inspection=inspection)
    return {
        "inspection": inspection,
        "application": inspection.application,
        "visit": visit,
        "can_record": visit is not None and access.can(user, municipality_id, RECORD),
        "can_start_visit": visit is None
        and not inspection.is_finished
        and access.can(user, municipality_id, START),
        "role_note": _role_note(user, inspection),
        # One queryset for the Deficiencies & remarks section and the Add order and Add
        # photos forms: read once, when first shown.
        "linkable_findings": queries.findings_at_visit(visit) if visit is not None else None,
    }


def _findings(request, page, forms):
    if (visit := page["visit"]) is None:
        return None
    findings, carried = queries.split_findings(page["linkable_findings"], visit)
    return {
        "findings": findings,
        "carried_findings": carried,
        "finding_form": forms.get("finding_form") or FindingForm(),
    }


def _orders(request, page, forms):
    if (visit := page["visit"]) is None:
        return None
    orders, carried = queries.orders_at_visit(visit=visit)
    return {
        "orders": orders,
        "carried_orders": carried,
        "order_form": forms.get("order_form")
        or (OrderForm(findings=page["linkable_findings"]) if page["can_record"] else None),
    }


def _photos(request, page, forms):
    if (visit := page["visit"]) is None:
        return None
    return {
        "photos": list(queries.visit_photos(visit=visit)),
        "photo_form": forms.get("photo_form")
        or (PhotoUploadForm(findings=page["linkable_findings"]) if page["can_record"] else None),
    }


# In English here (tests look for them); translated where shown.
REPORT_BEING_PREPARED = gettext_noop("Inspection report being prepared")
REPORT_REFRESH_HINT = gettext_noop("Refresh the page in a moment to download it.")


def _report_link(visit) -> pages.Link:
    if not visit.report_pdf:
        # A job renders it right after the close (inspections.tasks): no link yet.
        return pages.Link(gettext(REPORT_BEING_PREPARED), "", note=gettext(REPORT_REFRESH_HINT))
    return pages.Link(
        gettext("Inspection report (PDF)"),
        reverse("inspections:visit_report", args=[visit.inspection.code, visit.sequence]),
    )


def _report_links(visits) -> dict:
    return {
        visit.pk: [_report_link(visit)] for visit in visits if visit.status == VisitStatus.CLOSED
    }


# All visits lists the latest closed visits; "Show all visits" (?visits=all) lists every one.
LATEST_VISITS = 10


def _visits(request, page, forms):
    show_all = request.GET.get("visits") == "all"
    closed = queries.closed_visits(inspection=page["inspection"])
    # One more than shown, to know whether there are more: no count query.
    closed = list(closed if show_all else closed[: LATEST_VISITS + 1])
    more = not show_all and len(closed) > LATEST_VISITS
    closed = closed[:LATEST_VISITS] if more else closed
    for visit in closed:
        visit.inspection = page["inspection"]  # for the links below, without a query each
    documents = pages.links(VISIT_DOCUMENTS, closed)
    for visit in closed:
        visit.documents = documents.get(visit.pk, [])  # the report, and a permit if issued
    return {"closed_visits": closed, "more_visits": more, "all_visits_shown": show_all}


def _cancel(request, page, forms):
    """Cancel this inspection: offered while it was never visited."""
    inspection = page["inspection"]
    if (
        inspection.is_finished
        or page["visit"] is not None
        or not access.can(request.user, inspection.application.municipality_id, CANCEL)
        or queries.ever_visited(inspection=inspection)
    ):
        return None
    return {"cancel_form": forms.get("cancel_form") or InspectionCancelForm()}


def _application_inspections(request, page, forms):
    application = page["application"]
    can_add = access.can(request.user, application.municipality_id, "inspections.add_inspection")
    return {
        "inspections": queries.inspection_rows(application=application),
        "inspection_form": InspectionAddForm(application=application) if can_add else None,
    }


def _follow_up(request, page, forms):
    """A closed inspection that left matters outstanding: what they are, and Start follow-up
    visit for an inspector."""
    inspection = page["inspection"]
    if page["visit"] is not None or not inspection.is_closed:
        return None
    findings, orders = queries.inspection_open_matters(inspection=inspection)
    if not findings and not orders:
        return None
    municipality_id = inspection.application.municipality_id
    return {
        "follow_up_findings": findings,
        "follow_up_orders": orders,
        "follow_up_matters": rules.matters_phrase(len(findings), len(orders)),
        "can_start_follow_up": access.can(request.user, municipality_id, START),
    }


def _open_matters_exist(application) -> bool:
    """rules.has_open_matters, asked once per Work view: an Occupied application's status
    note and its Outstanding matters section both need it (the page's application object
    lives for the request; services ask rules.has_open_matters itself)."""
    known = getattr(application, "_open_matters_exist", None)
    if known is None:
        known = application._open_matters_exist = rules.has_open_matters(application)
    return known


def _application_matters(request, page, forms):
    """Outstanding matters of the Work view: every deficiency and order still open, with the
    inspection, visit and documents (the report, a permit issued on it) they came from."""
    # Most applications have none: one existence check costs half the two lists' queries,
    # with their joins and ordering (issue 16).
    if not _open_matters_exist(page["application"]):
        return None
    findings, orders = queries.open_matters(application=page["application"])
    if not findings and not orders:
        return None
    visits = {matter.visit_id: matter.visit for matter in [*findings, *orders]}
    documents = pages.links(VISIT_DOCUMENTS, visits.values())
    for matter in [*findings, *orders]:
        matter.documents = documents.get(matter.visit_id, [])
    return {
        "open_findings": findings,
        "open_orders": orders,
        "open_matters": rules.matters_phrase(len(findings), len(orders)),
        "overdue_orders": sum(1 for order in orders if order.is_overdue),
    }


def _status_notes(applications) -> dict:
    """Occupied, but with deficiencies or orders still open: the status says so."""
    return {
        application.pk: [pages.Link(gettext("with outstanding matters"), "#outstanding")]
        for application in applications
        if application.status == ApplicationStatus.OCCUPIED and _open_matters_exist(application)
    }


def register() -> None:
    pages.register_page(
        pages.Page("inspection", "inspections/inspection_detail.html", inspection_page_context)
    )
    for order, (name, label, template, context, form) in enumerate(
        [
            ("findings", _("Deficiencies & remarks"), "findings", _findings, "finding_form"),
            ("orders", _("Orders"), "orders", _orders, "order_form"),
            ("photos", _("Photos"), "photos", _photos, "photo_form"),
        ]
    ):
        pages.register_section(
            pages.Section(
                page="inspection",
                name=name,
                label=label,
                template=f"inspections/sections/{template}.html",
                context=context,
                order=10 * (order + 1),
                forms=(form,),
            )
        )
    pages.register_section(
        pages.Section(
            page="inspection",
            name="visits",
            label=_("All visits"),
            template="inspections/sections/visits.html",
            context=_visits,
            order=90,
        )
    )
    pages.register_section(
        pages.Section(
            page="inspection",
            name="cancel",
            label=_("Cancel this inspection"),
            template="inspections/sections/cancel.html",
            context=_cancel,
            order=95,
            forms=("cancel_form",),
            in_menu=False,
        )
    )
    pages.register_links(VISIT_DOCUMENTS, _report_links, order=20)
    pages.register_links(STATUS_NOTES, _status_notes)
    pages.register_section(
        pages.Section(
            page="application",
            name="inspections",
            label=_("Inspections"),
            template="inspections/sections/application_inspections.html",
            context=_application_inspections,
            order=10,
        )
    )
    # Issue 13: outstanding matters are never lost.
    pages.register_section(
        pages.Section(
            page="inspection",
            name="follow-up",
            label=_("Outstanding matters"),
            template="inspections/sections/follow_up.html",
            context=_follow_up,
            order=5,
            in_menu=False,
        )
    )
    pages.register_section(
        pages.Section(
            page="application",
            name="outstanding",
            label=_("Outstanding matters"),
            template="inspections/sections/application_matters.html",
            context=_application_matters,
            order=5,
        )
    )
    list_filters.register_filter(
        list_filters.ListFilter(
            list_name="applications",
            name="overdue_matters",
            label=_("With overdue matters"),
            apply=queries.applications_with_overdue_matters,
        )
    )

"""What the occupancy app shows on other apps' pages (see core.pages): the Inspection & visit
result section of the inspection page (Save draft, Finish and Close), the Occupancy section
of the Work view, and each issued permit among the documents of its visit. Registered in
OccupancyConfig.ready()."""

from django.urls import reverse

from core import pages
from inspections.models import FAILING_RESULTS, GRANT_RESULTS
from inspections.sections import VISIT_DOCUMENTS
from occupancy import queries
from occupancy.forms import VisitResultForm, visit_details_form


def _visit_result(request, page, forms):
    if (visit := page["visit"]) is None:
        return None
    if not page["can_record"]:
        return {}  # the section shows the visit's details read-only
    return {
        # The results that show the Reason field and the grant fields (static/js/threshold.js).
        "failing_results": " ".join(FAILING_RESULTS),
        "grant_results": " ".join(GRANT_RESULTS),
        "visit_form": forms.get("visit_form") or visit_details_form(visit),
        "result_form": forms.get("result_form")
        or VisitResultForm(visit=visit, initial=VisitResultForm.initial_from_draft(visit)),
    }


def _application_permits(request, page, forms):
    return {"permits": queries.permits_for_application(application=page["application"])}


def _permit_links(visits) -> dict:
    links = {}
    for visit_id, permit in queries.permits_by_visit(visits=[v.pk for v in visits]).items():
        url = reverse("occupancy:permit_pdf", args=[permit.municipality.slug, permit.number])
        badge = "Revoked" if permit.is_revoked else ""
        links[visit_id] = [pages.Link(f"Occupancy permit {permit.number} (PDF)", url, badge)]
    return links


def register() -> None:
    pages.register_section(
        pages.Section(
            page="inspection",
            name="result",
            label="Inspection & visit result",
            template="occupancy/sections/visit_result.html",
            context=_visit_result,
            order=40,
            forms=("visit_form", "result_form"),
        )
    )
    pages.register_links(VISIT_DOCUMENTS, _permit_links, order=10)
    pages.register_section(
        pages.Section(
            page="application",
            name="occupancy",
            label="Occupancy",
            template="occupancy/sections/application_permits.html",
            context=_application_permits,
            order=20,
        )
    )

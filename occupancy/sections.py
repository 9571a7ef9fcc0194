"""What the occupancy app shows on other apps' pages (see core.pages): the Inspection & visit
result section of the inspection page (Save draft, Finish and Close), the Occupancy section
of the Work view, and each issued permit among the documents of its visit. Registered in
OccupancyConfig.ready()."""

import dataclasses

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import access, pages
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
    application = page["application"]
    return {
        "permits": queries.permits_for_application(application=application),
        # Revoke is offered next to an issued permit to whom may revoke it (the chief
        # building official); everyone else sees the permit and, once revoked, its notice.
        "can_revoke_permits": access.can(
            request.user, application.municipality_id, queries.REVOKE_PERMIT
        ),
    }


def _permit_links(visits) -> dict:
    """The permit issued on each visit; a revoked one says so, with the effective date and the
    reason, and links its notice of revocation."""
    links = {}
    for visit_id, permit in queries.permits_by_visit(visits=[v.pk for v in visits]).items():
        args = [permit.municipality.slug, permit.number]
        permit_link = pages.Link(
            gettext("Occupancy permit %(number)s (PDF)") % {"number": permit.number},
            reverse("occupancy:permit_pdf", args=args),
        )
        links[visit_id] = [permit_link]
        if permit.is_revoked:
            revocation = permit.revocation
            links[visit_id] = [
                dataclasses.replace(
                    permit_link,
                    badge=gettext("Revoked"),
                    note=gettext("Effective %(revoked_on)s: %(reason)s")
                    % {
                        "revoked_on": f"{revocation.revoked_on:%Y-%m-%d}",
                        "reason": revocation.reason,
                    },
                ),
                pages.Link(
                    gettext("Notice of revocation of %(number)s (PDF)") % {"number": permit.number},
                    reverse("occupancy:revocation_notice_pdf", args=args),
                ),
            ]
    return links


def register() -> None:
    pages.register_section(
        pages.Section(
            page="inspection",
            name="result",
            label=_("Inspection & visit result"),
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
            label=_("Occupancy"),
            template="occupancy/sections/application_permits.html",
            context=_application_permits,
            order=20,
        )
    )

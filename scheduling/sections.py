"""What the scheduling app shows on other apps' pages (see core.pages): the Inspection
requests section of the Work view, with Request inspection. Registered in
SchedulingConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from core import access, pages
from scheduling import queries, rules
from scheduling.forms import CancelForm


def _application_requests(request, page, forms):
    application = page["application"]
    can_request = access.can(request.user, application.municipality_id, queries.REQUEST)
    requests = queries.application_requests(application=application)
    if not requests and not can_request:
        return None
    for item in requests:
        may_cancel = rules.cancel_refusal(request=item, user=request.user) is None
        item.cancel_form = (
            CancelForm(request=item, initial={"back": "application"}) if may_cancel else None
        )
    return {
        "inspection_requests": requests,
        "can_request_inspection": can_request,
        "can_dispatch": access.can(request.user, application.municipality_id, queries.DISPATCH),
    }


def register() -> None:
    pages.register_section(
        pages.Section(
            page="application",
            name="requests",
            label=_("Inspection requests"),
            template="scheduling/sections/application_requests.html",
            context=_application_requests,
            order=15,
        )
    )

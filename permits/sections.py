"""The Work view of an application, a page other apps add sections to (see core.pages):
the application's header and details and its history are the permits app's; Inspections and
Occupancy come from the apps above. Registered in PermitsConfig.ready()."""

from core import pages
from permits.queries import application_history

# Notes other apps add next to the application's status, e.g. "outstanding matters" on an
# Occupied application: the status alone would not say what is true.
STATUS_NOTES = "application_status_notes"


def application_page_context(request, *, application) -> dict:
    return {
        "application": application,
        "history": application_history(application=application),
        "status_notes": pages.links(STATUS_NOTES, [application]).get(application.pk, []),
    }


def register() -> None:
    pages.register_page(
        pages.Page("application", "permits/application_detail.html", application_page_context)
    )

"""The Work view of an application, a page other apps add sections to (see core.pages):
the application's header and details and its history are the permits app's; Inspections and
Occupancy come from the apps above. Registered in PermitsConfig.ready()."""

from core import access, pages
from permits.queries import application_deliveries, application_history

# Who may resend an e-mail about an application: whoever may change it (clerks and up).
RESEND = "permits.change_application"

# Notes other apps add next to the application's status, e.g. "outstanding matters" on an
# Occupied application: the status alone would not say what is true.
STATUS_NOTES = "application_status_notes"


# The History lists the latest changes; "Show all changes" (?history=all) lists every one
# (issue 16: a long audit trail rendered in full made the Work view slow).
LATEST_CHANGES = 20


def application_page_context(request, *, application) -> dict:
    show_all = request.GET.get("history") == "all"
    # One more than shown, to know whether there are more: no count query.
    limit = None if show_all else LATEST_CHANGES + 1
    history = list(application_history(application=application, limit=limit))
    more = not show_all and len(history) > LATEST_CHANGES
    return {
        "application": application,
        "history": history[:LATEST_CHANGES] if more else history,
        "more_history": more,
        "all_history_shown": show_all,
        "deliveries": application_deliveries(application=application),
        "may_resend": access.can(request.user, application.municipality_id, RESEND),
        "status_notes": pages.links(STATUS_NOTES, [application]).get(application.pk, []),
    }


def register() -> None:
    pages.register_page(
        pages.Page("application", "permits/application_detail.html", application_page_context)
    )

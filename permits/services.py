"""State changes of applications. Each function is the one place its rule lives."""

from django.utils import timezone

from core.audit import activity_record, record_text
from core.models import Activity
from permits.models import Application, ApplicationStatus


def application_record_activity(
    *, application: Application, actor, verb: str, summary: str
) -> Activity:
    """Write an audit entry and move the application to the top of "latest activity".

    Side effects: one Activity row; Application.last_activity_at updated.
    """
    activity = activity_record(
        municipality_id=application.municipality_id,
        application=application,
        actor=actor,
        verb=verb,
        summary=summary,
    )
    now = activity.at
    Application.objects.filter(pk=application.pk).update(last_activity_at=now)
    application.last_activity_at = now
    return activity


def application_set_status(
    *, application: Application, status: ApplicationStatus, actor, reason: str
) -> None:
    """Move an application to another status and record why.

    Side effects: Application.status (and occupied_on / completed_on) saved; one Activity.
    """
    if application.status == status:
        return
    # The history keeps what happened in English, whoever's language made the change: the
    # statuses' labels are translated (docs/french.md) and a summary is stored once.
    previous = record_text(application.get_status_display)
    application.status = status
    fields = ["status", "updated_at"]
    today = timezone.localdate()
    if status == ApplicationStatus.OCCUPIED and application.occupied_on is None:
        application.occupied_on = today
        fields.append("occupied_on")
    if status == ApplicationStatus.FINISHED and application.completed_on is None:
        application.completed_on = today
        fields.append("completed_on")
    application.save(update_fields=fields)
    current = record_text(application.get_status_display)
    application_record_activity(
        application=application,
        actor=actor,
        verb="status_changed",
        summary=f"Status {previous} → {current}: {reason}",
    )


def application_add_other_number(*, application: Application, number: str) -> None:
    """Make the application found by a number another record gives it (an occupancy
    permit's), in any form the search accepts (permits.search).

    Side effects: Application.other_numbers and search_text saved (one UPDATE, nothing
    else of the row written); nothing when the number is there already.
    """
    numbers = application.other_numbers.split()
    if number in numbers:
        return
    application.other_numbers = " ".join([*numbers, number])
    application.search_text = application.build_search_text()
    Application.objects.filter(pk=application.pk).update(
        other_numbers=application.other_numbers, search_text=application.search_text
    )

"""State changes of applications. Each function is the one place its rule lives."""

from django.utils import timezone

from permits.models import Activity, Application, ApplicationStatus


def activity_record(
    *, municipality_id: int, actor, verb: str, summary: str, application=None
) -> Activity:
    """Write an audit entry: who did what, when.

    Side effects: one Activity row.
    """
    return Activity.objects.create(
        municipality_id=municipality_id,
        application=application,
        actor=actor,
        verb=verb,
        summary=summary[:300],
        at=timezone.now(),
    )


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
    previous = application.get_status_display()
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
    application_record_activity(
        application=application,
        actor=actor,
        verb="status_changed",
        summary=f"Status {previous} → {application.get_status_display()}: {reason}",
    )


def describe_changes(before: dict, after: dict) -> str:
    """'description: "a" → "b"; remark: no → yes' for the fields that changed."""

    def show(value):
        if isinstance(value, bool):
            return "yes" if value else "no"
        if value in (None, ""):
            return "—"
        text = str(value)
        return f"“{text[:60]}{'…' if len(text) > 60 else ''}”"

    changed = [
        f"{name}: {show(before[name])} → {show(after[name])}"
        for name in after
        if before.get(name) != after[name]
    ]
    return "; ".join(changed) or "no change"

"""The audit trail: who changed what, and when. Every service that changes state writes one
entry here; the entries are never edited nor deleted."""

from django.utils import timezone
from django.utils.text import Truncator

from core.models import Activity

SUMMARY_MAX_LENGTH = Activity._meta.get_field("summary").max_length


def excerpt(text: str, length: int) -> str:
    """`text` shortened to `length` characters for a summary, ending in "…" when it was cut:
    the summary says it is not the whole text (the record itself keeps all of it)."""
    return Truncator(text).chars(length)


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
        summary=excerpt(summary, SUMMARY_MAX_LENGTH),
        at=timezone.now(),
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

"""The audit trail: who changed what, and when. Every service that changes state writes one
entry here; the entries are never edited nor deleted."""

from django.conf import settings
from django.utils import timezone, translation
from django.utils.text import Truncator

from core.models import Activity

SUMMARY_MAX_LENGTH = Activity._meta.get_field("summary").max_length


def in_record_language():
    """Summaries are records, stored once, in the site's language (English) whatever the
    language of the person who acted (the messages they see are theirs): a translated label
    that enters a summary is written under this."""
    return translation.override(settings.LANGUAGE_CODE)


def record_text(label) -> str:
    """A translatable label (or a method returning one, like `get_status_display`) as a
    summary writes it."""
    with in_record_language():
        return str(label() if callable(label) else label)


def excerpt(text: str, length: int) -> str:
    """`text` shortened to `length` characters for a summary, ending in "…" when it was cut:
    the summary says it is not the whole text (the record itself keeps all of it)."""
    return Truncator(text).chars(length)


def activity_record(
    *,
    municipality_id: int,
    actor,
    verb: str,
    summary: str,
    application=None,
    changes: dict | None = None,
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
        changes=changes or {},
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


# Long texts (a permit template's body) are kept whole elsewhere (its versions); the audit
# entry keeps their beginning.
CHANGE_VALUE_MAX_LENGTH = 500
# Never written to the audit trail, whatever form they come from: these names, and any
# name with "password" in it (password1, new_password…). Exact names, so that a field such
# as sequence_key is recorded.
SECRET_FIELDS = frozenset(
    {"password", "password1", "password2", "secret", "key", "token", "otp_token"}
)


def is_secret_field(name: str) -> bool:
    return name in SECRET_FIELDS or "password" in name


def _recorded_value(value):
    if isinstance(value, str) and len(value) > CHANGE_VALUE_MAX_LENGTH:
        return excerpt(value, CHANGE_VALUE_MAX_LENGTH)
    return value


def _application_of(obj):
    """The application a record belongs to, when it belongs to one (its history shows the
    change); None for configuration."""
    from django.apps import apps

    application_model = apps.get_model("permits", "Application")
    if isinstance(obj, application_model):
        return obj
    application = getattr(obj, "application", None)
    return application if isinstance(application, application_model) else None


def admin_change_record(
    *, actor, obj, municipality_id: int | None, created: bool, before: dict, after: dict
) -> Activity | None:
    """The audit entry of a record added or changed in the admin, with the old and new value
    of every field that changed (secrets left out); None when nothing changed. `after` holds
    the fields to record: the changed ones for a change, every field for an addition (of
    which the non-empty values are recorded).

    Side effects: one Activity row, on the record's application when it has one (the Work
    view's history shows it), else on the municipality's trail.
    """
    changes = {
        name: [_recorded_value(before.get(name)), _recorded_value(value)]
        for name, value in after.items()
        if not is_secret_field(name)
        and (value not in (None, "", [], False) if created else before.get(name) != value)
    }
    if not changes and not created:
        return None
    # Stored text, in English whatever the administrator's language (as every summary).
    with in_record_language():
        label = f"{obj._meta.verbose_name} {obj}"
    if created:
        summary = f"Added in the admin: {label}"
    else:
        summary = f"Changed in the admin: {label}: " + describe_changes(
            {name: old for name, (old, _new) in changes.items()},
            {name: new for name, (_old, new) in changes.items()},
        )
    return activity_record(
        municipality_id=municipality_id,
        actor=actor,
        verb="admin_added" if created else "admin_changed",
        summary=summary,
        application=_application_of(obj),
        changes=changes,
    )


def admin_password_record(*, actor, user, municipality_id: int | None, usable: bool) -> Activity:
    """The audit entry of a person's password set (or password sign-in turned off) in the
    admin; never the password itself.

    Side effects: one Activity row.
    """
    what = "Password set" if usable else "Password sign-in turned off"
    return activity_record(
        municipality_id=municipality_id,
        actor=actor,
        verb="admin_password_changed",
        summary=f"{what} in the admin for {user}",
    )


def admin_deletion_record(*, actor, obj, municipality_id: int | None) -> Activity:
    """The audit entry of a record deleted in the admin (written before the deletion).

    Side effects: one Activity row.
    """
    with in_record_language():
        label = f"{obj._meta.verbose_name} {obj}"
    return activity_record(
        municipality_id=municipality_id,
        actor=actor,
        verb="admin_deleted",
        summary=f"Deleted in the admin: {label}",
        application=_application_of(obj),
    )

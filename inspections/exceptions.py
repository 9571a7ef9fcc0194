"""What the inspections app refuses, caught by type (never by message). Nothing changed when
one of these is raised; str(exc) is written for the user."""

from django.utils.timezone import localtime
from django.utils.translation import gettext

from core.people import person_name


class VisitError(Exception):
    """A change the rules refuse; str(exc) is the message the user sees."""


class VisitNotOpen(VisitError):
    """The visit was closed meanwhile (another tab, another inspector)."""

    def __init__(self, visit):
        closer = person_name(visit.closed_by) or gettext("another user")
        if visit.closed_at:
            at = localtime(visit.closed_at)
            message = gettext(
                "Visit %(sequence)s was already closed by %(closer)s on %(date)s at %(time)s; "
                "nothing was changed."
            ) % {
                "sequence": visit.sequence,
                "closer": closer,
                "date": f"{at:%Y-%m-%d}",
                "time": f"{at:%H:%M}",
            }
        else:
            message = gettext(
                "Visit %(sequence)s was already closed by %(closer)s; nothing was changed."
            ) % {"sequence": visit.sequence, "closer": closer}
        super().__init__(message)


class DuplicateInspection(VisitError):
    """The application already has an inspection of that type that is neither closed nor
    cancelled; a second one is added only when the user confirms (allow_duplicate=True)."""

    def __init__(self, existing):
        self.existing = existing
        super().__init__(
            gettext(
                "This application already has a %(type)s inspection (%(status)s); nothing was "
                "added."
            )
            % {"type": existing.inspection_type.name, "status": existing.get_status_display()}
        )


class CancelRefused(VisitError):
    """The inspection cannot be cancelled (visited, closed, already cancelled, no reason)."""

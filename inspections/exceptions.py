"""What the inspections app refuses, caught by type (never by message). Nothing changed when
one of these is raised; str(exc) is written for the user."""

from django.utils.timezone import localtime

from core.people import person_name


class VisitError(Exception):
    """A change the rules refuse; str(exc) is the message the user sees."""


class VisitNotOpen(VisitError):
    """The visit was closed meanwhile (another tab, another inspector)."""

    def __init__(self, visit):
        closer = person_name(visit.closed_by) or "another user"
        when = f" on {localtime(visit.closed_at):%Y-%m-%d at %H:%M}" if visit.closed_at else ""
        super().__init__(
            f"Visit {visit.sequence} was already closed by {closer}{when}; nothing was changed."
        )


class DuplicateInspection(VisitError):
    """The application already has an inspection of that type that is neither closed nor
    cancelled; a second one is added only when the user confirms (allow_duplicate=True)."""

    def __init__(self, existing):
        self.existing = existing
        super().__init__(
            f"This application already has a {existing.inspection_type.name} inspection "
            f"({existing.get_status_display()}); nothing was added."
        )


class CancelRefused(VisitError):
    """The inspection cannot be cancelled (visited, closed, already cancelled, no reason)."""

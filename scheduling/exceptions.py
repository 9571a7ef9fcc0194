"""What the scheduling app refuses, caught by type (never by message). Nothing changed when
one of these is raised; str(exc) is written for the user."""

from django.utils.translation import gettext


class SchedulingError(Exception):
    """A change the rules refuse; str(exc) is the message the user sees."""


class RequestRefused(SchedulingError):
    """The rules refuse the request or the assignment: `refusals` says why, by form field."""

    def __init__(self, refusals: dict[str, str]):
        self.refusals = refusals
        super().__init__(" ".join(refusals.values()))


class RequestNotOpen(SchedulingError):
    """The request was declined, done or cancelled meanwhile (another dispatcher, a visit)."""

    def __init__(self, request):
        super().__init__(
            gettext("This request is %(status)s already; nothing was changed.")
            % {"status": request.get_status_display().lower()}
        )

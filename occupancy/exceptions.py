"""What the occupancy app refuses or fails at, caught by type (never by message). Nothing
changed when one of these is raised; str(exc) is written for the user."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext


class OccupancyError(Exception):
    """Base of the occupancy app's refusals and failures."""


class CloseError(OccupancyError):
    """Finish and Close did not happen (e.g. a document could not be rendered)."""


class VisitAlreadyClosed(CloseError):
    """The visit was closed meanwhile (another tab, another inspector): nothing changed."""


class CloseInProgress(CloseError):
    """Another close of the municipality holds the permit-number lock longer than the close
    waits for it (PostgreSQL's lock_timeout, occupancy.services): nothing changed, the
    inspector tries again in a moment."""

    def __init__(self, message: str = ""):
        super().__init__(
            message
            or gettext("Another close is in progress for this municipality; try again in a moment.")
        )


class DraftChanged(CloseError):
    """The draft is no longer the one the confirmation page showed (saved meanwhile in
    another tab or by another inspector; occupancy.confirmation): nothing was closed, the
    inspector confirms the draft as it is now."""


class GrantRefused(CloseError):
    """The grant rules (occupancy.rules.grant_refusals) refuse the close; `refusals` maps
    each form field to its message, so a view can show them at the fields."""

    def __init__(self, refusals: dict[str, str]):
        self.refusals = dict(refusals)
        super().__init__(" ".join(str(message) for message in self.refusals.values()))


class RevocationRefused(OccupancyError):
    """The revocation was refused or failed; the permit is unchanged. `refusals` maps each
    form field to its message (occupancy.rules.revocation_refusals; the whole form for the
    permit itself or a failure: NON_FIELD_ERRORS), so a view can show them at the fields."""

    def __init__(self, refusals: dict[str, str] | str):
        if isinstance(refusals, str):
            refusals = {NON_FIELD_ERRORS: refusals}
        self.refusals = dict(refusals)
        super().__init__(" ".join(str(message) for message in self.refusals.values()))

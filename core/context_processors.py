"""What every page's header needs to say who is signed in and as what."""

from itertools import groupby

from django.http import HttpRequest
from django.utils.translation import gettext

from core import access
from core.models import Role


def signed_in_as(user) -> str:
    """The user's role and municipality as the header shows it: "Inspector, Town of Alpha";
    several memberships grouped by role ("Inspector, Town of Alpha and Township of Beta ·
    Viewer, City of Gamma"); a superuser is "Administrator"."""
    if access.is_superuser(user):
        return gettext("Administrator")
    roles = list(Role)  # Inspector, Clerk, Viewer
    by_role = sorted(access.memberships(user), key=lambda m: (roles.index(m[1]), m[0]))
    parts = []
    for role, group in groupby(by_role, key=lambda m: m[1]):
        names = [name for name, _ in group]
        if len(names) == 1:
            listed = names[0]
        else:
            listed = gettext("%(names)s and %(last)s") % {
                "names": ", ".join(names[:-1]),
                "last": names[-1],
            }
        parts.append(f"{role.label}, {listed}")
    return " · ".join(parts) or gettext("No municipality")


def who_am_i(request: HttpRequest) -> dict:
    """`signed_in_as` for templates, computed only when a template shows it, from the access
    data core.access caches for the request (no query when a view has checked access)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # A callable: the template calls it when it renders the header, not before.
    return {"signed_in_as": lambda: signed_in_as(user)}


def language_switch(request: HttpRequest) -> dict:
    """The header's switch: each other language, named in itself ("Français", "English")."""
    from django.conf import settings
    from django.utils.translation import get_language

    current = get_language()
    return {
        "other_languages": [(code, name) for code, name in settings.LANGUAGES if code != current]
    }

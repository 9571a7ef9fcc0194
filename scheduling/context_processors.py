"""The navigation's Dispatch and My today entries, for whom they are."""

from django.http import HttpRequest

from core import access

DISPATCH = "scheduling.dispatch"
INSPECTS = "inspections.add_visit"


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Callables: read from core.access's per-request cache when the header renders.
    return {
        "nav_dispatch": lambda: access.can_somewhere(user, DISPATCH),
        "nav_my_today": lambda: access.can_somewhere(user, INSPECTS),
    }

"""Read functions for pages: every one scoped to the user's municipalities."""

from django.db.models import QuerySet

from permits import access
from permits.models import Application, ApplicationStatus

MAX_SEARCH_TERMS = 6


def search_terms(query: str) -> list[str]:
    """Upper-cased words of a search box entry, as matched against Application.search_text."""
    return [term for term in query.upper().split() if term][:MAX_SEARCH_TERMS]


def application_search(user, *, query: str = "", status: str = "") -> QuerySet[Application]:
    """Applications matching every word of `query` in number, address, roll number, applicant
    or owner, newest activity first. On PostgreSQL each word is a LIKE '%word%' that the
    trigram index on search_text serves."""
    applications = access.scope(Application.objects.all(), user).select_related("municipality")
    for term in search_terms(query):
        applications = applications.filter(search_text__contains=term)
    if status in ApplicationStatus.values:
        applications = applications.filter(status=status)
    return applications.order_by("-last_activity_at", "-id")


def application_history(*, application, limit: int = 100):
    """The audit trail of an application, newest first."""
    return application.activities.select_related("actor").order_by("-at", "-id")[:limit]

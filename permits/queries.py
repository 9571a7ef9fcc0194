"""Read functions for pages: every one scoped to the user's municipalities."""

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404

from core import access, list_filters
from permits.models import Application, ApplicationStatus

MAX_SEARCH_TERMS = 6


def search_terms(query: str) -> list[str]:
    """Upper-cased words of a search box entry, as matched against Application.search_text."""
    return [term for term in query.upper().split() if term][:MAX_SEARCH_TERMS]


def application_search(
    user, *, query: str = "", status: str = "", show: str = ""
) -> QuerySet[Application]:
    """Applications matching every word of `query` in number, address, roll number, applicant
    or owner, newest activity first. On PostgreSQL each word is a LIKE '%word%' that the
    trigram index on search_text serves. `show` names a filter another app registered for
    the list (core.list_filters), e.g. "overdue_matters"."""
    applications = access.scope(
        Application.objects.all(), user, perm="permits.view_application"
    ).select_related("municipality")
    terms = search_terms(query)
    for term in terms:
        applications = applications.filter(search_text__contains=term)
    if status in ApplicationStatus.values:
        applications = applications.filter(status=status)
    applications = list_filters.apply_filter("applications", show, applications)
    if terms:
        # The same order, as an expression the last_activity_at indexes cannot serve: with
        # them, PostgreSQL may walk the table newest first and read nearly all of it when the
        # matches are old (0.45 s for "BP-2008-01" at 200000 applications). This way the
        # trigram index finds every match (the paginator counts them anyway) and a top-N
        # sort picks the page.
        newest = Coalesce("last_activity_at", "created_at").desc()
        return applications.order_by(newest, "-id")
    return applications.order_by("-last_activity_at", "-id")


def application_history(*, application, limit: int = 100):
    """The audit trail of an application, newest first."""
    return application.activities.select_related("actor").order_by("-at", "-id")[:limit]


def get_application(user, municipality_slug: str, number: str, *, perm: str | None = None):
    application = (
        Application.objects.select_related("municipality")
        .filter(municipality__slug=municipality_slug, number=number)
        .first()
    )
    if application is None:
        raise Http404("No such application.")
    access.check(user, application.municipality_id, perm)
    return application

"""Read functions for pages: every one scoped to the user's municipalities."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext

from core import access, list_filters
from core.models import Delivery
from permits.models import Application, ApplicationStatus
from permits.search import query_terms


def application_search(
    user, *, query: str = "", status: str = "", show: str = ""
) -> QuerySet[Application]:
    """Applications matching every term of `query` (permits.search: number, occupancy
    permit numbers, address, roll number, applicant, owner, legal description), newest
    activity first. On PostgreSQL each term is a LIKE '%TERM%' that the trigram index on
    search_text serves. `show` names a filter another app registered for the list
    (core.list_filters), e.g. "overdue_matters". The list reads it through
    permits.search.ApplicationResults, which bounds the count and the page."""
    applications = access.scope(
        Application.objects.all(), user, perm="permits.view_application"
    ).select_related("municipality")
    for term in query_terms(query):
        applications = applications.filter(search_text__contains=term)
    if status in ApplicationStatus.values:
        applications = applications.filter(status=status)
    applications = list_filters.apply_filter("applications", show, applications)
    return applications.order_by("-last_activity_at", "-id")


def sees_several_municipalities(user) -> bool:
    """Whether the application list can show another municipality's applications to the
    user: each row then names its municipality (a shared-services inspector, a superuser)."""
    visible = access.municipality_ids(user, perm="permits.view_application")
    return visible is None or len(visible) > 1


def application_history(*, application, limit: int | None = 100):
    """The audit trail of an application, newest first (`limit` None: all of it)."""
    return application.activities.select_related("actor").order_by("-at", "-id")[:limit]


def application_deliveries(*, application, limit: int = 50):
    """The e-mails sent (or being sent) about an application, newest first, with their
    outcome (core.Delivery) and whether a queued one is stranded (its Resend): one query,
    whatever their number, and one more when one of them is queued."""
    return application.deliveries.order_by("-queued_at", "-id")[:limit].list_with_stranded()


def get_application_delivery(application, delivery_id: str) -> Delivery:
    """A delivery of `application` by the id a form posted (404 for any other: the
    application was scoped to the user already)."""
    delivery = None
    if delivery_id.isdigit():
        delivery = application.deliveries.filter(pk=int(delivery_id)).first()
    if delivery is None:
        raise Http404(gettext("No such e-mail."))
    return delivery


def get_application(user, municipality_slug: str, number: str, *, perm: str | None = None):
    # get(): a number is unique in its municipality, and first() would sort by the model's
    # default ordering for nothing (issue 16: compiling it cost about a millisecond a page).
    try:
        application = Application.objects.select_related("municipality").get(
            municipality__slug=municipality_slug, number=number
        )
    except Application.DoesNotExist:
        raise Http404(gettext("No such application.")) from None
    access.check(user, application.municipality_id, perm)
    return application

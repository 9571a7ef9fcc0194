from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from core import pages
from core.mail import DeliveryError, delivery_resend
from permits.forms import ApplicationSearchForm
from permits.queries import (
    application_search,
    get_application,
    get_application_delivery,
    sees_several_municipalities,
)
from permits.result_rows import result_rows
from permits.search import ApplicationResults
from permits.sections import RESEND

PAGE_SIZE = 25
VIEW = "permits.view_application"


@require_GET
def application_list(request: HttpRequest) -> HttpResponse:
    form = ApplicationSearchForm(request.GET or None)
    query = status = show = ""
    if form.is_valid():
        query, status = form.cleaned_data["q"], form.cleaned_data["status"]
        show = form.cleaned_data["show"]
    applications = application_search(request.user, query=query, status=status, show=show)
    # Counted up to 1,000 and read in bounded passes, however broad the search (permits.search).
    results = ApplicationResults(applications)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {k: v for k, v in {"q": query, "status": status, "show": show}.items() if v}
    return render(
        request,
        "permits/application_list.html",
        {
            "form": form,
            "page_obj": page,
            "rows": result_rows(page.object_list),
            "query": query,
            "is_filtered": bool(filters),
            "show_municipality": sees_several_municipalities(request.user),
            "querystring_base": urlencode(filters) + "&" if filters else "",
        },
    )


@require_GET
def application_detail(request: HttpRequest, municipality: str, number: str) -> HttpResponse:
    """The Work view: the application's header, its Inspections and its Occupancy permits."""
    application = get_application(request.user, municipality, number, perm=VIEW)
    return pages.render_page(request, "application", application=application)


@require_POST
def application_delivery_resend(
    request: HttpRequest, municipality: str, number: str
) -> HttpResponse:
    """Resend, in the application's history: the same e-mail (recipient, subject, body and
    stored documents) queued again for the job worker. Allowed to whoever may change the
    application (permits.change_application: clerks, inspectors, chief building officials):
    answering the applicant who lost the mail is the counter's work, not only the
    inspector's. 404 for another municipality's application, 403 for a viewer."""
    application = get_application(request.user, municipality, number, perm=RESEND)
    delivery = get_application_delivery(application, request.POST.get("delivery", ""))
    try:
        fresh = delivery_resend(delivery=delivery, actor=request.user)
    except DeliveryError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(
            request,
            gettext("The e-mail to %(recipient)s is queued to be sent again.")
            % {"recipient": fresh.recipient},
        )
    return redirect(application.get_absolute_url() + "#history")

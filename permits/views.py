from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from core import pages
from permits.forms import ApplicationSearchForm
from permits.queries import application_search, get_application

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
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {k: v for k, v in {"q": query, "status": status, "show": show}.items() if v}
    return render(
        request,
        "permits/application_list.html",
        {
            "form": form,
            "page_obj": page,
            "query": query,
            "is_filtered": bool(filters),
            "querystring_base": urlencode(filters) + "&" if filters else "",
        },
    )


@require_GET
def application_detail(request: HttpRequest, municipality: str, number: str) -> HttpResponse:
    """The Work view: the application's header, its Inspections and its Occupancy permits."""
    application = get_application(request.user, municipality, number, perm=VIEW)
    return pages.render_page(request, "application", application=application)

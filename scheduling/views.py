"""Request inspection (from the Work view), Dispatch, My today and the calendar feed."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import access
from core.language import supported_language, user_language
from permits import queries as permits_queries
from scheduling import calendar_feed, queries, rules, services
from scheduling.exceptions import RequestRefused, SchedulingError
from scheduling.forms import AssignForm, CancelForm, DeclineForm, InspectionRequestForm

PAGE_SIZE = 25
# The session key of a calendar address just made: shown once on My today, never stored.
NEW_CALENDAR_TOKEN = "scheduling_new_calendar_token"


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    """Where signing in leads: an inspector to My today, everyone else to the applications."""
    if access.can_somewhere(request.user, queries.INSPECTS) and not access.is_superuser(
        request.user
    ):
        return redirect("scheduling:my_today")
    return redirect("permits:application_list")


@require_http_methods(["GET", "POST"])
def request_inspection(request: HttpRequest, municipality: str, number: str) -> HttpResponse:
    application = permits_queries.get_application(
        request.user, municipality, number, perm=queries.REQUEST
    )
    form = InspectionRequestForm(
        request.POST if request.method == "POST" else None, application=application
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_create(
                application=application, actor=request.user, **form.cleaned_data
            )
        except RequestRefused as exc:
            form.add_refusals(exc.refusals)
        else:
            messages.success(
                request,
                gettext("%(type)s inspection requested for %(day)s, %(half_day)s.")
                % {
                    "type": created.inspection_type.name,
                    "day": rules.day_label(created.requested_date),
                    "half_day": created.get_half_day_display().lower(),
                },
            )
            return redirect(application.get_absolute_url() + "#requests")
    return render(
        request,
        "scheduling/request_inspection.html",
        {"application": application, "form": form},
        status=400 if form.errors else 200,
    )


def _dispatch_forms(request_obj, inspectors, bound=None, *, user) -> dict:
    bound = bound or {}
    may_cancel = rules.cancel_refusal(request=request_obj, user=user) is None
    return {
        "assign_form": bound.get("assign_form")
        or AssignForm(request=request_obj, inspectors=inspectors),
        "decline_form": bound.get("decline_form") or DeclineForm(request=request_obj),
        "cancel_form": CancelForm(request=request_obj, initial={"back": "dispatch"})
        if may_cancel
        else None,
    }


@require_GET
def dispatch(request: HttpRequest) -> HttpResponse:
    """Open requests by day, unassigned first, with each inspector's load of the day."""
    if not access.can_somewhere(request.user, queries.DISPATCH):
        raise PermissionDenied("Your role does not dispatch inspections.")
    page = Paginator(queries.dispatch_requests(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    requests = list(page.object_list)
    days = queries.dispatch_days(requests)
    by_municipality = {}
    for item in requests:
        if item.municipality_id not in by_municipality:
            by_municipality[item.municipality_id] = queries.inspectors([item.municipality_id])
        item.forms = _dispatch_forms(
            item, by_municipality[item.municipality_id], user=request.user
        )
    return render(
        request,
        "scheduling/dispatch.html",
        {"days": days, "page_obj": page, "today": rules.today(), "querystring_base": ""},
    )


def _request_page(request, item, *, status=200, **bound) -> HttpResponse:
    inspectors = queries.inspectors([item.municipality_id])
    item.forms = _dispatch_forms(item, inspectors, bound, user=request.user)
    return render(
        request, "scheduling/request_detail.html", {"item": item}, status=status
    )


@require_GET
def request_detail(request: HttpRequest, code: str) -> HttpResponse:
    item = queries.get_request(request.user, code, perm=queries.DISPATCH)
    return _request_page(request, item)


def _book(request: HttpRequest, code: str, service) -> HttpResponse:
    item = queries.get_request(request.user, code, perm=queries.DISPATCH)
    form = AssignForm(
        request.POST, request=item, inspectors=queries.inspectors([item.municipality_id])
    )
    if form.is_valid():
        try:
            booked = service(
                request=item,
                inspector=form.cleaned_data["inspector"],
                day=form.cleaned_data["day"],
                half_day=form.cleaned_data["half_day"],
                actor=request.user,
            )
        except RequestRefused as exc:
            form.add_refusals(exc.refusals)
        except SchedulingError as exc:
            messages.error(request, str(exc))
            return redirect("scheduling:dispatch")
        else:
            messages.success(
                request,
                gettext("%(type)s inspection of %(number)s booked: %(booking)s.")
                % {
                    "type": booked.inspection_type.name,
                    "number": booked.application.number,
                    "booking": services.booking_label(booked),
                },
            )
            return redirect(reverse("scheduling:dispatch") + f"#day-{booked.confirmed_date}")
    return _request_page(request, item, status=400, assign_form=form)


@require_POST
def request_assign(request: HttpRequest, code: str) -> HttpResponse:
    return _book(request, code, services.request_assign)


@require_POST
def request_move(request: HttpRequest, code: str) -> HttpResponse:
    return _book(request, code, services.request_move)


@require_POST
def request_decline(request: HttpRequest, code: str) -> HttpResponse:
    item = queries.get_request(request.user, code, perm=queries.DISPATCH)
    form = DeclineForm(request.POST, request=item)
    if form.is_valid():
        try:
            services.request_decline(
                request=item, reason=form.cleaned_data["reason"], actor=request.user
            )
        except RequestRefused as exc:
            form.add_error("reason", exc.refusals.get("reason", str(exc)))
        except SchedulingError as exc:
            messages.error(request, str(exc))
            return redirect("scheduling:dispatch")
        else:
            messages.success(
                request,
                gettext("%(type)s inspection request of %(number)s declined.")
                % {"type": item.inspection_type.name, "number": item.application.number},
            )
            return redirect("scheduling:dispatch")
    return _request_page(request, item, status=400, decline_form=form)


@require_POST
def request_cancel(request: HttpRequest, code: str) -> HttpResponse:
    """Cancel a request with its reason, from the Work view or Dispatch (and back there)."""
    item = queries.get_request(request.user, code, perm=queries.CANCEL)
    form = CancelForm(request.POST, request=item)
    if request.POST.get("back") == "dispatch":
        back = reverse("scheduling:dispatch")
    else:
        back = item.application.get_absolute_url() + "#requests"
    if form.is_valid():
        try:
            services.request_cancel(
                request=item, reason=form.cleaned_data["reason"], actor=request.user
            )
        except RequestRefused as exc:
            form.add_error("reason", exc.refusals.get("reason", str(exc)))
        except SchedulingError as exc:
            messages.error(request, str(exc))
            return redirect(back)
        else:
            messages.success(
                request,
                gettext("%(type)s inspection request of %(number)s cancelled.")
                % {"type": item.inspection_type.name, "number": item.application.number},
            )
            return redirect(back)
    return render(
        request, "scheduling/request_cancel.html", {"item": item, "form": form}, status=400
    )


@require_GET
def my_today(request: HttpRequest) -> HttpResponse:
    """The inspector's day in their order, their next working day's list (after any day
    between that is closed yet has bookings, to be moved) and what is overdue."""
    if not access.can_somewhere(request.user, queries.INSPECTS):
        raise PermissionDenied("My today is for inspectors.")
    today = rules.today()
    next_day = rules.next_working_day(
        municipalities=queries.inspecting_municipalities(request.user), after=today
    )
    *closed_days, next_booked = queries.my_days_ahead(
        request.user, today=today, next_day=next_day
    )
    new_token = request.session.pop(NEW_CALENDAR_TOKEN, None)
    return render(
        request,
        "scheduling/my_today.html",
        {
            "today": today,
            "closed_days": closed_days,
            "next_day": next_day,
            "next_day_is_tomorrow": next_day == today + datetime.timedelta(days=1),
            "today_requests": queries.my_day(request.user, today),
            "next_day_requests": next_booked.requests,
            "overdue_requests": queries.my_overdue(request.user, today),
            "has_calendar": queries.has_calendar_feed(request.user),
            "new_calendar_url": request.build_absolute_uri(
                reverse("scheduling:calendar_feed", args=[new_token])
            )
            if new_token
            else "",
        },
    )


@require_POST
def request_reorder(request: HttpRequest, code: str) -> HttpResponse:
    item = queries.get_request(request.user, code, perm=queries.INSPECTS)
    try:
        services.request_reorder(
            request=item, up=request.POST.get("direction") == "up", actor=request.user
        )
    except SchedulingError as exc:
        messages.error(request, str(exc))
    return redirect(reverse("scheduling:my_today") + f"#request-{item.code}")


@require_POST
def calendar_reset(request: HttpRequest) -> HttpResponse:
    if not access.can_somewhere(request.user, queries.INSPECTS):
        raise PermissionDenied("The calendar of inspections is for inspectors.")
    request.session[NEW_CALENDAR_TOKEN] = services.calendar_feed_reset(user=request.user)
    messages.success(
        request,
        gettext("Your calendar address is below. Any address you made before no longer works."),
    )
    return redirect(reverse("scheduling:my_today") + "#calendar")


@login_not_required
@never_cache
@require_GET
def calendar(request: HttpRequest, token: str) -> HttpResponse:
    """The inspector's confirmed inspections as iCalendar, for a phone's calendar app (which
    has no session: the secret address is the key)."""
    user = services.calendar_feed_user(token)
    if user is None:
        raise Http404("No such calendar.")
    since = rules.today() - datetime.timedelta(days=30)
    # A calendar app says nothing of its user's language: the one chosen in their profile,
    # else English.
    with translation.override(supported_language(user_language(user)) or "en-ca"):
        body = calendar_feed.render(
            user=user,
            requests=queries.calendar_requests(user, since),
            base_url=request.build_absolute_uri("/"),
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="inspections.ics"'
    return response

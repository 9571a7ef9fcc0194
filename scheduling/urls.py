from django.urls import path

from scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("start", views.landing, name="landing"),
    path(
        "applications/<slug:municipality>/<str:number>/request-inspection",
        views.request_inspection,
        name="request_inspection",
    ),
    path("dispatch/", views.dispatch, name="dispatch"),
    path("requests/<str:code>/", views.request_detail, name="request_detail"),
    path("requests/<str:code>/assign", views.request_assign, name="request_assign"),
    path("requests/<str:code>/move", views.request_move, name="request_move"),
    path("requests/<str:code>/decline", views.request_decline, name="request_decline"),
    path("requests/<str:code>/cancel", views.request_cancel, name="request_cancel"),
    path("requests/<str:code>/reorder", views.request_reorder, name="request_reorder"),
    path("today/", views.my_today, name="my_today"),
    path("today/calendar/reset", views.calendar_reset, name="calendar_reset"),
    path("calendar/<str:token>.ics", views.calendar, name="calendar_feed"),
]

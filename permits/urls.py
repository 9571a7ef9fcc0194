from django.urls import path

from permits import views

app_name = "permits"

urlpatterns = [
    path("", views.application_list, name="application_list"),
    path(
        "applications/<slug:municipality>/<str:number>/",
        views.application_detail,
        name="application_detail",
    ),
    path(
        "applications/<slug:municipality>/<str:number>/emails/resend/",
        views.application_delivery_resend,
        name="application_delivery_resend",
    ),
]

from django.urls import path

from occupancy import views

app_name = "occupancy"

urlpatterns = [
    path(
        "occupancy/<slug:municipality>/<str:number>.pdf",
        views.permit_pdf,
        name="permit_pdf",
    ),
]

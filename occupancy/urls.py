from django.urls import path

from occupancy import views

app_name = "occupancy"

urlpatterns = [
    path("occupancy/inspections/<str:code>/result", views.visit_result, name="visit_result"),
    path("occupancy/inspections/<str:code>/confirm", views.visit_confirm, name="visit_confirm"),
    path("occupancy/inspections/<str:code>/close", views.visit_close, name="visit_close"),
    # The addresses before issue 12, for pages left open across the upgrade.
    path("inspections/<str:code>/result", views.moved_permanently("occupancy:visit_result")),
    path("inspections/<str:code>/confirm", views.moved_permanently("occupancy:visit_confirm")),
    path("inspections/<str:code>/close", views.moved_permanently("occupancy:visit_close")),
    path(
        "occupancy/<slug:municipality>/<str:number>.pdf",
        views.permit_pdf,
        name="permit_pdf",
    ),
]

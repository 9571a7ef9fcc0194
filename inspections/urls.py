from django.urls import path

from inspections import views

app_name = "inspections"

urlpatterns = [
    path(
        "applications/<slug:municipality>/<str:number>/inspections/add",
        views.inspection_add,
        name="inspection_add",
    ),
    path("inspections/<str:code>/", views.inspection_detail, name="inspection_detail"),
    path("inspections/<str:code>/cancel", views.inspection_cancel, name="inspection_cancel"),
    path("inspections/<str:code>/visits/start", views.visit_start, name="visit_start"),
    path(
        "inspections/<str:code>/visits/follow-up",
        views.visit_start_follow_up,
        name="visit_start_follow_up",
    ),
    path("inspections/<str:code>/findings/add", views.finding_add, name="finding_add"),
    path("inspections/<str:code>/orders/add", views.order_add, name="order_add"),
    path("inspections/<str:code>/photos/add", views.photos_add, name="photos_add"),
    path(
        "inspections/<str:code>/visits/<int:sequence>/report.pdf",
        views.visit_report,
        name="visit_report",
    ),
    path("findings/<str:code>/edit", views.finding_edit, name="finding_edit"),
    path("findings/<str:code>/delete", views.finding_delete, name="finding_delete"),
    path("findings/<str:code>/corrected", views.finding_corrected, name="finding_corrected"),
    path("orders/<str:code>/edit", views.order_edit, name="order_edit"),
    path("orders/<str:code>/delete", views.order_delete, name="order_delete"),
    path("orders/<str:code>/complied", views.order_complied, name="order_complied"),
    path("photos/<str:code>/delete", views.photo_delete, name="photo_delete"),
    path("photos/<str:code>/image", views.photo_image, name="photo_image"),
    path("photos/<str:code>/thumbnail", views.photo_thumbnail, name="photo_thumbnail"),
]

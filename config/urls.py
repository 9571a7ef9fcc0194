from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Threshold administration"
admin.site.site_title = "Threshold"

urlpatterns = [
    path("", include("permits.urls")),
    path("", include("inspections.urls")),
    path("", include("occupancy.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]

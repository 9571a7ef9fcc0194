from django.urls import path

from bench import views
from config.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("bench/bare", views.bare_view, name="bench_bare_view"),
    path("bench/weasyprint", views.bare_weasyprint, name="bench_bare_weasyprint"),
    *app_urlpatterns,
]

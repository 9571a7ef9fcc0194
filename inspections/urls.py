from django.urls import path

app_name = "inspections"

urlpatterns: list = []

from django.urls import path

app_name = "occupancy"

urlpatterns: list = []

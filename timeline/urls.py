from django.urls import path

from . import views

app_name = "timeline"

urlpatterns = [
    path("timeline/", views.timeline, name="index"),
    path("timeline.json", views.timeline_json, name="json"),
]

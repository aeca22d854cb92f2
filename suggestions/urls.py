from django.urls import path

from . import views

app_name = "suggestions"

urlpatterns = [
    path("suggestions/", views.queue, name="queue"),
    path("suggestions/<int:pk>/<str:action>/", views.decide, name="decide"),
]

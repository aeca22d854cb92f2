from django.urls import path

from . import views

app_name = "alignment"

urlpatterns = [
    path("episodes/<slug:slug>/review/", views.review, name="review"),
    path("episodes/<slug:slug>/review/<int:pk>/", views.review_start, name="review_start"),
]

from django.urls import path

from . import views
from .feeds import NotesFeed

app_name = "notes"

urlpatterns = [
    path("episodes/<slug:slug>/notes/", views.note_list, name="list"),
    path("episodes/<slug:slug>/notes/new/", views.note_create, name="create"),
    path("episodes/<slug:slug>/notes.atom", NotesFeed(), name="feed"),
    path("episodes/<slug:slug>/annotations.jsonld", views.annotation_collection, name="annotations"),
    path("episodes/<slug:slug>/notes/highlights.json", views.note_highlights, name="highlights"),
    path("notes/<int:pk>/", views.note_thread, name="thread"),
    path("notes/mine/", views.my_notes, name="mine"),
    path("notes/<int:pk>/reply/", views.note_reply, name="reply"),
    path("notes/<int:pk>/edit/", views.note_edit, name="edit"),
    path("notes/<int:pk>/delete/", views.note_delete, name="delete"),
    path("notes/<int:pk>/flag/", views.note_flag, name="flag"),
    path("notes/<int:pk>/annotation.jsonld", views.note_annotation, name="annotation"),
    path("moderation/", views.moderation_queue, name="moderation"),
    path("moderation/notes/", views.moderation_bulk, name="moderation_bulk"),
    path("moderation/notes/<int:pk>/<str:action>/", views.moderation_act, name="moderation_act"),
]

from django.urls import path

from . import editing, views
from .feeds import chapters, podcast

app_name = "episodes"

urlpatterns = [
    path("", views.home, name="home"),
    path("episodes/", views.episode_list, name="episode_list"),
    path("series/", views.series_list, name="series_list"),
    path("series/<slug:slug>/", views.series_detail, name="series_detail"),
    path("episodes/<slug:slug>/", views.episode_detail, name="detail"),
    path("episodes/<slug:slug>/audio/", views.episode_audio, name="audio"),
    # The staff's transcript editor (episodes/editing.py).
    path("episodes/<slug:slug>/edit/", editing.edit_transcript, name="edit"),
    path("episodes/<slug:slug>/edit/<int:pk>/", editing.edit_sentence_view, name="edit_sentence"),
    path("episodes/<slug:slug>/edit/<int:pk>/link/", editing.link_view, name="link_words"),
    path("episodes/<slug:slug>/words.json", views.episode_words, name="words"),
    path(
        "episodes/<slug:slug>/transcript.<str:extension>",
        views.transcript_export,
        name="transcript_export",
    ),
    path("glossary/", views.term_list, name="term_list"),
    path("glossary/<slug:slug>/", views.term_detail, name="term_detail"),
    path("people/", views.person_list, name="person_list"),
    path("people/<slug:slug>/", views.person_detail, name="person_detail"),
    path("sources/", views.source_list, name="source_list"),
    path("sources/<slug:slug>/", views.source_detail, name="source_detail"),
    path("search/", views.search_page, name="search"),
    # Our podcast feed and each episode's chapters file (episodes/feeds/).
    path("feed.xml", podcast.podcast_feed, name="podcast_feed"),
    path("episodes/<slug:slug>/chapters.json", chapters.chapters_json, name="chapters"),
]

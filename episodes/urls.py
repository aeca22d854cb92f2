from django.urls import path

from . import browse, discussion, moderation, review, views
from . import timeline

app_name = "episodes"

urlpatterns = [
    path("", views.home, name="home"),
    # The catalogue (episodes/browse.py)
    path("episodes/", browse.episode_list, name="episode_list"),
    path("series/", browse.series_list, name="series_list"),
    path("series/<slug:slug>/", browse.series_detail, name="series_detail"),
    path("episodes/<slug:slug>/", views.episode_detail, name="detail"),
    path("episodes/<slug:slug>/audio/", views.episode_audio, name="audio"),
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
    # The timeline (episodes/timeline.py)
    path("timeline/", timeline.timeline, name="timeline"),
    path("timeline.json", timeline.timeline_json, name="timeline_json"),
    # Discussion notes (episodes/discussion.py)
    path("episodes/<slug:slug>/notes/", discussion.note_list, name="notes"),
    path("episodes/<slug:slug>/notes/new/", discussion.note_create, name="note_create"),
    path("episodes/<slug:slug>/notes.atom", discussion.NotesFeed(), name="notes_feed"),
    path("notes/<int:pk>/reply/", discussion.note_reply, name="note_reply"),
    path("notes/<int:pk>/edit/", discussion.note_edit, name="note_edit"),
    path("notes/<int:pk>/delete/", discussion.note_delete, name="note_delete"),
    path("notes/<int:pk>/flag/", discussion.note_flag, name="note_flag"),
    path("notes/<int:pk>/annotation.jsonld", discussion.note_annotation, name="note_annotation"),
    # Moderation (episodes/moderation.py)
    path("moderation/", moderation.queue, name="moderation"),
    path("moderation/notes/<int:pk>/<str:action>/", moderation.act, name="moderation_act"),
    # Reviewing timings after an alignment (episodes/review.py)
    path("episodes/<slug:slug>/review/", review.review, name="review"),
    path("episodes/<slug:slug>/review/<int:pk>/", review.review_start, name="review_start"),
]

# Our podcast feed and each episode's chapters file (episodes/podcast_feed.py, episodes/chapters.py).
from . import chapters, podcast_feed  # noqa: E402

urlpatterns += [
    path("feed.xml", podcast_feed.podcast_feed, name="podcast_feed"),
    path("episodes/<slug:slug>/chapters.json", chapters.chapters_json, name="chapters"),
]

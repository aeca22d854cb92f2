"""The editor's home and the rest of the show in the admin: counts with links, every part registered, labels for people."""

import pytest
from django.urls import reverse

from alignment.models import AlignmentRun
from episodes.feeds.parse import series_from_title
from episodes.models import Chapter, Credit, Episode, Mention, Series, TranscriptLink
from notes.models import Note
from tests.factories import make_episode, make_note, make_sentences, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def work():
    """One episode of each kind of work: to review, untimed, failed, running; and two notes waiting."""
    doubtful = make_episode(number=1, title="Doubtful", slug="1-doubtful")
    make_sentences(doubtful, "One.", "Two.")
    doubtful.save_timings([(0.0, 1.0, []), (1.0, 2.0, [])], Episode.Timing.ALIGNED)
    doubtful.sentences.filter(position=2).update(confidence=0.1)
    lost = make_episode(number=2, title="Lost a time", slug="2-lost")
    make_sentences(lost, "Three.", "Four.")
    lost.save_timings([(0.0, 1.0, []), (None, None, [])], Episode.Timing.TIMED)
    untimed = make_episode(number=3, title="Untimed", slug="3-untimed")
    make_sentences(untimed, "Five.")
    make_episode(number=4, title="Empty", slug="4-empty", is_draft=True)  # no transcript: nothing to time yet
    AlignmentRun.objects.create(episode=untimed, audio="a.mp3", status=AlignmentRun.Status.DONE)
    AlignmentRun.objects.create(episode=untimed, audio="a.mp3", status=AlignmentRun.Status.FAILED)
    AlignmentRun.objects.create(episode=doubtful, audio="a.mp3", status=AlignmentRun.Status.FAILED)
    AlignmentRun.objects.create(episode=doubtful, audio="a.mp3", status=AlignmentRun.Status.RUNNING)
    author = make_user("listener")
    make_note(untimed, author, status=Note.Status.PENDING)
    make_note(untimed, author, body="Another.", status=Note.Status.PENDING)
    make_note(untimed, author, body="Fine.", status=Note.Status.APPROVED)


def counts(html):
    import re

    return {key: int(count) for key, count in re.findall(r'id="desk-(\w+)"[^>]*>\s*<span class="count">(\d+)', html)}


def test_the_admin_home_counts_what_needs_doing(admin_client, work):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "The editor’s desk" in html and "Background tasks" in html
    assert "Tasks Database Backend" not in html
    assert counts(html) == {"notes": 2, "review": 2, "failed": 1, "running": 1, "drafts": 1, "untimed": 1}


@pytest.mark.parametrize("needs, titles", [
    ("review", {"Doubtful", "Lost a time"}), ("untimed", {"Untimed"}), ("failed", {"Untimed"}),
])
def test_each_count_links_to_its_list(admin_client, work, needs, titles):
    response = admin_client.get(reverse("admin:episodes_episode_changelist") + f"?needs={needs}")
    assert {episode.title for episode in response.context["cl"].result_list} == titles


def test_an_empty_desk_says_zero(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert set(counts(html).values()) == {0}


def test_series_credits_chapters_and_transcript_links_have_admin_pages(admin_client, small_episode):
    episode = small_episode["episode"]
    Credit.objects.create(episode=episode, name="Ryan Gaw", role="host")
    Credit.objects.create(name="The Whole Crew", role="producer")
    Chapter.objects.create(episode=episode, start=754.0, title="The trials")
    TranscriptLink.objects.create(episode=episode, url="https://example.com/t.vtt", type="text/vtt",
                                  error="The timing file does not match this transcript.")
    pages = {
        "series": ("The Soviet Union", "138"),
        "credit": ("Ryan Gaw", "The whole podcast"),
        "chapter": ("The trials", "12:34", "?t=754"),
        "transcriptlink": ("text/vtt", "does not match this transcript"),
    }
    for model, expected in pages.items():
        html = admin_client.get(reverse(f"admin:episodes_{model}_changelist")).content.decode()
        for text in expected:
            assert text in html, (model, text)


def test_a_chapter_edit_re_renders_its_episode(admin_client, small_episode, django_capture_on_commit_callbacks):
    episode = small_episode["episode"]
    chapter = Chapter.objects.create(episode=episode, start=10.0, title="Opening")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:episodes_chapter_change", args=[chapter.pk]), {
            "episode": episode.pk, "start": "12.5", "title": "Opening, renamed", "url": "", "img": "", "sentence": "",
        })
    assert response.status_code == 302
    chapter.refresh_from_db()
    assert chapter.start == 12.5


def test_a_mention_added_in_the_admin_is_the_editors(admin_client):
    html = admin_client.get(reverse("admin:episodes_mention_add")).content.decode()
    assert f'<option value="{Mention.Kind.ADDED}" selected>' in html
    assert "Linked automatically (a relink may change it)" in html


@pytest.mark.parametrize("title, expected", [
    ("The Soviet Union Part 9 - The Military Purges", ("The Soviet Union", 9)),
    ("The Soviet Union Part 8", ("The Soviet Union", 8)),
    ("The Soviet Union, Part 8: Terror", ("The Soviet Union", 8)),
    ("The Great Purges", (None, None)),
])
def test_series_and_part_are_found_anywhere_in_a_title(title, expected):
    assert series_from_title(title) == expected


def test_the_align_form_does_not_show_the_servers_file_path(admin_client, small_episode):
    from django.core.files.base import ContentFile

    episode = small_episode["episode"]
    episode.audio.save("secret-name.wav", ContentFile(b"RIFF"), save=True)
    html = admin_client.get(reverse("admin:episodes_episode_align", args=[episode.pk])).content.decode()
    assert "the episode’s own uploaded file" in html and "secret-name" not in html


def test_series_admin_lists_numbers(admin_client):
    series = Series.objects.create(title="Interwar", slug="interwar")
    make_episode(number=5, title="A", slug="5-a", series=series)
    make_episode(number=9, title="B", slug="9-b", series=series)
    html = admin_client.get(reverse("admin:episodes_series_changelist")).content.decode()
    assert "5–9" in html

"""Episode pages: ETags, 304s, and the shared cache for anonymous readers (the page memory: test_shared_pages.py)."""

import pytest
from django.core.cache import caches

from notes.models import Note
from tests.factories import make_sentences


@pytest.fixture
def episode(small_episode):
    return small_episode["episode"]


def get(client, episode, **headers):
    return client.get(episode.get_absolute_url(), headers=headers)


def test_an_episode_page_sends_an_etag_and_answers_304_when_it_matches(client, episode):
    first = get(client, episode)
    assert first.status_code == 200 and first["ETag"]
    again = get(client, episode, if_none_match=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_the_anonymous_page_is_public_and_the_signed_in_one_private(client, episode, django_user_model):
    anonymous = get(client, episode)
    assert anonymous["Cache-Control"].startswith("public, max-age=")
    client.force_login(django_user_model.objects.create_user("flo", password="pw-long-enough-1"))
    signed_in = get(client, episode)
    assert signed_in["Cache-Control"] == "private, no-cache"
    assert "Cookie" in signed_in["Vary"]


def test_a_second_anonymous_request_is_served_from_the_page_cache(client, episode, django_assert_max_num_queries):
    first = get(client, episode)
    assert "X-Page-Cache" not in first
    with django_assert_max_num_queries(3):  # the episode, its neighbours, its note counts
        second = get(client, episode)
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content


def test_a_transcript_change_changes_the_etag_and_the_page(client, episode):
    first = get(client, episode)
    make_sentences(episode, "A sentence added by the editor.", paragraph=3)
    episode.render_transcript()
    second = get(client, episode, if_none_match=first["ETag"])
    assert second.status_code == 200
    assert second["ETag"] != first["ETag"]
    assert "A sentence added by the editor." in second.content.decode()


def test_an_edit_of_the_episode_itself_changes_the_page(client, episode):
    first = get(client, episode)
    episode.title = "The Great Purges, revised"
    episode.save()
    second = get(client, episode, if_none_match=first["ETag"])
    assert second.status_code == 200
    assert "The Great Purges, revised" in second.content.decode()


def test_an_approved_note_changes_the_anonymous_page(client, episode, django_user_model):
    first = get(client, episode)
    author = django_user_model.objects.create_user("ada", password="pw-long-enough-1")
    sentence = episode.sentences.first()
    with episode.writing():
        Note.objects.create(
            episode=episode, author=author, body="Worth a look.", body_html="<p>Worth a look.</p>",
            first_sentence=sentence, last_sentence=sentence, quote_exact=sentence.text[:10],
            status=Note.Status.APPROVED,
        )
    second = get(client, episode, if_none_match=first["ETag"])
    assert second.status_code == 200
    assert second["ETag"] != first["ETag"]


def test_an_edit_of_the_show_changes_the_page_at_once(client, episode):
    from episodes.models import Podcast

    first = get(client, episode)
    podcast = Podcast.objects.create(title="The Companion Show", image_url="https://example.com/show.jpg")
    second = get(client, episode, if_none_match=first["ETag"])
    assert second.status_code == 200
    assert "https://example.com/show.jpg" in second.content.decode()
    podcast.title = "The Companion Show, renamed"
    podcast.save()
    third = get(client, episode, if_none_match=second["ETag"])
    assert third.status_code == 200 and "The Companion Show, renamed" in third.content.decode()
    podcast.delete()
    assert get(client, episode, if_none_match=third["ETag"]).status_code == 200


def test_each_worker_reads_the_show_once_a_minute(episode, django_assert_num_queries, monkeypatch):
    """A change saved by another process (no signal here) shows within SHOW_MEMORY_SECONDS."""
    from episodes.models import Podcast, show

    with django_assert_num_queries(1):
        Podcast.objects.current()
    Podcast.objects.bulk_create([Podcast(title="Saved elsewhere")])
    with django_assert_num_queries(0):
        assert Podcast.objects.current().title != "Saved elsewhere"
    now = show.time.monotonic()
    monkeypatch.setattr(show.time, "monotonic", lambda: now + show.SHOW_MEMORY_SECONDS)
    assert Podcast.objects.current().title == "Saved elsewhere"


def test_a_moment_link_is_a_different_page(client, episode):
    plain = get(client, episode)
    moment = client.get(episode.get_absolute_url() + "?t=5")
    assert plain["ETag"] != moment["ETag"]


def test_anonymous_pages_carry_no_csrf_token_and_set_no_cookie(client, episode):
    response = get(client, episode)
    assert "X-CSRFToken" not in response.content.decode()
    assert "csrftoken" not in response.cookies


def test_pages_nobody_shares_still_carry_the_token_for_htmx(client, db):
    response = client.get("/accounts/signup/")
    assert "X-CSRFToken" in response.content.decode()


def test_signed_in_readers_get_their_own_page_never_the_shared_one(client, episode, django_user_model):
    get(client, episode)  # fills the shared cache
    user = django_user_model.objects.create_user("bea", password="pw-long-enough-1", display_name="Bea")
    client.force_login(user)
    response = get(client, episode)
    assert "X-Page-Cache" not in response
    assert "private" in response["Cache-Control"]
    page = response.content.decode()
    assert "X-CSRFToken" in page and "Bea" in page


def test_the_etag_differs_per_reader(client, episode, django_user_model):
    anonymous = get(client, episode)["ETag"]
    client.force_login(django_user_model.objects.create_user("cy", password="pw-long-enough-1"))
    assert get(client, episode)["ETag"] != anonymous


def test_a_flash_message_is_never_answered_with_304(client, episode):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    first = get(client, episode)
    storage = CookieStorage(HttpRequest())
    client.cookies[storage.cookie_name] = storage._encode([Message(constants.SUCCESS, "Your note was posted.")])
    second = get(client, episode, if_none_match=first["ETag"])
    assert second.status_code == 200
    assert "Your note was posted." in second.content.decode()


def test_pages_are_not_cached_when_the_view_fails(client, episode, monkeypatch):
    import episodes.views

    stored = []
    monkeypatch.setattr(caches["pages"], "set", lambda *args, **kwargs: stored.append(args))

    def broken_render(*args, **kwargs):
        from django.http import HttpResponseServerError

        return HttpResponseServerError("no")

    monkeypatch.setattr(episodes.views, "render", broken_render)
    assert get(client, episode).status_code == 500
    assert stored == []
    monkeypatch.undo()
    assert get(client, episode).status_code == 200


def test_a_new_neighbour_changes_the_page(client, episode):
    from tests.factories import make_episode

    first = get(client, episode)
    make_episode(number=139, slug="139-next", title="The Winter War")
    second = get(client, episode, if_none_match=first["ETag"])
    assert second.status_code == 200 and "The Winter War" in second.content.decode()


def test_a_worker_reads_each_stored_transcript_once_until_it_is_rendered_again(client, episode, django_user_model):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(django_user_model.objects.create_user("ed", password="pw-long-enough-1"))
    get(client, episode)

    def transcript_queries():
        with CaptureQueriesContext(connection) as captured:
            page = get(client, episode).content.decode()
        return page, [query for query in captured if "transcript_html" in query["sql"]]

    page, queries = transcript_queries()
    assert queries == [] and "Stalin signed the lists." in page
    make_sentences(episode, "A sentence added by the editor.", paragraph=3)
    episode.render_transcript()
    page, queries = transcript_queries()
    assert len(queries) == 1 and "A sentence added by the editor." in page
    assert transcript_queries()[1] == []


def test_the_transcript_memory_keeps_the_latest_episodes_only(episode):
    from episodes.models import Episode
    from episodes.page_cache import TranscriptMemory
    from tests.factories import make_episode

    memory = TranscriptMemory(size=2)
    others = [make_episode(number=n, slug=f"e-{n}", title=f"E{n}") for n in (1, 2)]
    for each in [episode, *others]:
        memory.fill(Episode.objects.defer("transcript_html", "transcript_plain").get(pk=each.pk))
    assert [pk for pk, _ in memory.kept] == [others[0].pk, others[1].pk]
    reloaded = Episode.objects.defer("transcript_html", "transcript_plain").get(pk=episode.pk)
    memory.fill(reloaded)
    assert "signed the lists." in reloaded.transcript_html
    assert "Stalin signed the lists." in reloaded.transcript_plain

"""Drafts: an editor sees them, listeners, the feed, the sitemap and search don't; feed imports arrive as drafts."""

import pytest
from django.urls import reverse

from episodes.feeds.imports import import_feed
from episodes.models import Chapter, Episode
from tests.factories import make_episode, make_mention, make_sentences, make_user
from tests.testdata import FEEDS

pytestmark = pytest.mark.django_db

SLUG = "139-the-soviet-union"


@pytest.fixture
def draft(small_episode):
    """Episode 139, a draft in the same series as the published 138, naming Stalin, timed, with a chapter."""
    published = small_episode["episode"]
    episode = make_episode(number=139, title="The Military Purges", slug=SLUG, series=published.series, part=9,
                           is_draft=True)
    sentence = make_sentences(episode, "Stalin turned on the Red Army's officers in Smolensk.")[0]
    make_mention(sentence, small_episode["stalin"], 0, 6)
    episode.save_timings([(0.0, 4.0, [])], Episode.Timing.TIMED)
    Chapter.objects.create(episode=episode, start=0.0, title="The officers")
    return episode


LISTENER_404 = [
    f"/episodes/{SLUG}/", f"/episodes/{SLUG}/transcript.vtt", f"/episodes/{SLUG}/transcript.txt",
    f"/episodes/{SLUG}/chapters.json", f"/episodes/{SLUG}/notes/", f"/episodes/{SLUG}/notes.atom",
    f"/episodes/{SLUG}/notes/highlights.json", f"/episodes/{SLUG}/annotations.jsonld",
]


@pytest.mark.parametrize("url", LISTENER_404)
def test_a_listener_cannot_reach_a_draft(client, draft, url):
    client.force_login(make_user("listener"))
    assert client.get(url).status_code == 404


def test_an_editor_sees_a_draft_marked_as_one(client, draft):
    client.force_login(make_user("editor", is_staff=True))
    html = client.get(f"/episodes/{SLUG}/").content.decode()
    assert "Draft: only editors can see this episode." in html


PUBLIC = ["/", "/episodes/", "/series/the-soviet-union/", "/feed.xml", "/sitemap.xml",
          "/search/?q=Smolensk", "/people/joseph-stalin/", "/episodes/138-the-great-purges/"]


@pytest.mark.parametrize("url", PUBLIC)
def test_no_public_page_names_a_draft(client, draft, url):
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert "Military Purges" not in html and SLUG not in html, url


@pytest.mark.parametrize("url", PUBLIC)
def test_once_published_the_same_pages_name_it(client, draft, url):
    Episode.objects.filter(pk=draft.pk).update(is_draft=False)
    html = client.get(url).content.decode()
    assert "Military Purges" in html or SLUG in html, url


def test_the_series_list_counts_only_published_episodes(client, draft):
    html = client.get("/series/").content.decode()
    assert "1 episode" in html and "2 episodes" not in html


def test_publishing_shows_it(admin_client, client, draft):
    admin_client.post(reverse("admin:episodes_episode_changelist"),
                      {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert not draft.is_draft
    assert "Military Purges" in client.get("/episodes/").content.decode()


def test_a_feed_import_makes_drafts_unless_told_to_publish():
    report = import_feed((FEEDS / "hsww.xml").read_bytes(), fetch=False)
    assert report.created and "(as drafts: listeners see them once published)" in str(report)
    assert not Episode.objects.filter(is_draft=False).exists()
    Episode.objects.all().delete()
    import_feed((FEEDS / "hsww.xml").read_bytes(), fetch=False, publish=True)
    assert not Episode.objects.filter(is_draft=True).exists()


def test_search_counts_no_draft_moments(draft):
    """Not only the moments shown: the count a listener sees leaves a draft's sentences out too (both engines)."""
    from episodes.search import search

    moments = next(group for group in search("Smolensk").groups if group.key == "moments")
    assert moments.count == 0 and not moments.items
    Episode.objects.filter(pk=draft.pk).update(is_draft=False)
    moments = next(group for group in search("Smolensk").groups if group.key == "moments")
    assert moments.count == 1 and len(moments.items) == 1

"""An episode's visible notes as a W3C Web Annotation AnnotationCollection, paged."""

import pytest
from django.test import Client

from episodes.models import Episode
from notes import views
from notes.models import Note
from tests.factories import make_anchored_note, make_reply, make_user

pytestmark = pytest.mark.django_db

SLUG = "138-the-great-purges"
COLLECTION = f"/episodes/{SLUG}/annotations.jsonld"
PROFILE = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'


@pytest.fixture
def episode(small_episode):
    episode = small_episode["episode"]
    episode.save_timings([(0.0, 2.5, []), (2.8, 4.9, []), (5.2, 11.75, [])], Episode.Timing.TIMED)
    return episode


@pytest.fixture
def ann():
    return make_user("ann", display_name="Ann")


def test_the_collection_names_its_total_and_pages(client, episode, ann, monkeypatch):
    monkeypatch.setattr(views, "ANNOTATIONS_PER_PAGE", 2)
    for position in (1, 2, 3):
        make_anchored_note(episode, ann, position)
    response = client.get(COLLECTION)
    assert response["Content-Type"] == PROFILE
    data = response.json()
    assert data["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert data["type"] == "AnnotationCollection" and data["total"] == 3
    assert data["id"] == f"http://testserver{COLLECTION}"
    assert data["first"] == f"http://testserver{COLLECTION}?page=1"
    assert data["last"] == f"http://testserver{COLLECTION}?page=2"


def test_a_page_holds_annotations_with_quote_and_moment(client, episode, ann, monkeypatch):
    monkeypatch.setattr(views, "ANNOTATIONS_PER_PAGE", 2)
    first = make_anchored_note(episode, ann, 1)
    make_anchored_note(episode, ann, 2)
    third = make_anchored_note(episode, ann, 3, exact="barbaric methods", body="*Which* methods?")
    page = client.get(COLLECTION, {"page": 1}).json()
    assert page["type"] == "AnnotationPage" and page["startIndex"] == 0
    assert page["partOf"]["total"] == 3 and page["next"] == f"http://testserver{COLLECTION}?page=2"
    assert "prev" not in page and len(page["items"]) == 2
    assert page["items"][0]["id"] == f"http://testserver/notes/{first.pk}/annotation.jsonld"
    last = client.get(COLLECTION, {"page": 2}).json()
    assert last["startIndex"] == 2 and "next" not in last and last["prev"].endswith("?page=1")
    (item,) = last["items"]
    assert item["type"] == "Annotation" and item["motivation"] == "commenting"
    assert item["creator"] == {"type": "Person", "name": "Ann"}
    assert item["body"] == {"type": "TextualBody", "value": "*Which* methods?", "format": "text/markdown"}
    assert item["target"]["source"] == f"http://testserver/episodes/{SLUG}/"
    quote, position, moment = item["target"]["selector"]
    assert quote == {"type": "TextQuoteSelector", "exact": "barbaric methods",
                     "prefix": third.quote_prefix, "suffix": third.quote_suffix}
    assert position["type"] == "TextPositionSelector"
    assert moment == {"type": "FragmentSelector", "conformsTo": "http://www.w3.org/TR/media-frags/",
                      "value": "t=5.2,11.75"}


def test_replies_target_their_thread(client, episode, ann):
    thread = make_anchored_note(episode, ann, 1)
    make_reply(thread, make_user(), "Agreed", status=Note.Status.APPROVED)
    items = client.get(COLLECTION, {"page": 1}).json()["items"]
    reply = next(item for item in items if item["motivation"] == "replying")
    assert reply["target"] == f"http://testserver/notes/{thread.pk}/annotation.jsonld"


def test_only_visible_notes_are_annotations(client, episode, ann):
    shown = make_anchored_note(episode, ann, 1, body="Shown")
    make_anchored_note(episode, ann, 2, body="Pending", status=Note.Status.PENDING)
    make_anchored_note(episode, ann, 2, body="Rejected", status=Note.Status.REJECTED)
    make_anchored_note(episode, ann, 2, body="Hidden", status=Note.Status.SPAM)
    orphan = make_anchored_note(episode, ann, 3, body="Orphan")
    Note.objects.filter(pk=orphan.pk).update(orphaned=True)
    deleted = make_anchored_note(episode, ann, 3, body="Deleted")
    Note.objects.filter(pk=deleted.pk).update(deleted_at=deleted.created)
    signed_in = Client()
    signed_in.force_login(ann)  # even the author's pending note stays out: the collection is public
    for reader in (client, signed_in):
        data = reader.get(COLLECTION, {"page": 1}).json()
        assert [item["body"]["value"] for item in data["items"]] == ["Shown"]
        assert data["partOf"]["total"] == 1
    assert client.get(f"/notes/{shown.pk}/annotation.jsonld").status_code == 200


@pytest.mark.parametrize("page", ["0", "2", "-1", "1.0", "one", "١", " 1", "99999999999999999999999"])
def test_the_page_is_parsed_strictly(client, episode, ann, page):
    make_anchored_note(episode, ann, 1)
    response = client.get(COLLECTION, {"page": page})
    assert response.status_code == 400
    assert "page" in response.content.decode()


def test_an_episode_without_notes_has_an_empty_collection(client, episode):
    data = client.get(COLLECTION).json()
    assert data["total"] == 0 and "first" not in data
    assert client.get(COLLECTION, {"page": 1}).json()["items"] == []


def test_the_collection_takes_the_same_queries_for_any_number_of_notes(client, episode, ann,
                                                                      django_assert_max_num_queries):
    for n in range(30):
        make_reply(make_anchored_note(episode, ann, 1 + n % 3), make_user(), status=Note.Status.APPROVED)
    with django_assert_max_num_queries(3):
        assert len(client.get(COLLECTION, {"page": 1}).json()["items"]) == 60


def test_the_episode_page_links_its_collection(client, episode):
    html = client.get(f"/episodes/{SLUG}/").content.decode()
    assert ('<link rel="alternate" type="application/ld+json; profile=&quot;http://www.w3.org/ns/anno.jsonld&quot;" '
            f'title="Listeners’ notes as Web Annotations" href="{COLLECTION}">') in html


def test_an_unknown_episode_has_no_collection(client):
    assert client.get("/episodes/nope/annotations.jsonld").status_code == 404


# ---- the episode page's highlights ------------------------------------------------------

HIGHLIGHTS = f"/episodes/{SLUG}/notes/highlights.json"


def test_highlights_place_each_visible_thread_within_its_sentences(client, episode, ann):
    note = make_anchored_note(episode, ann, 1, last=2, exact="thousands. Stalin signed")
    make_reply(note, make_user(), "Yes", status=Note.Status.APPROVED)
    make_reply(note, make_user(), "Waiting", status=Note.Status.PENDING)
    make_anchored_note(episode, ann, 3, status=Note.Status.PENDING, body="Not yet")
    (shown,) = client.get(HIGHLIGHTS).json()["notes"]
    assert shown == {
        "id": note.pk, "first": 1, "last": 2, "start": len("The NKVD arrested "), "end": len("Stalin signed"),
        "quote": "thousands. Stalin signed", "moment": 0.0, "mine": False, "pending": False,
        "replies": 1, "author": "Ann",
    }


def test_a_reader_sees_their_own_waiting_notes_highlighted_as_theirs(client, episode, ann):
    pending = make_anchored_note(episode, ann, 3, exact="barbaric methods", status=Note.Status.PENDING)
    client.force_login(ann)
    (shown,) = client.get(HIGHLIGHTS).json()["notes"]
    assert shown["id"] == pending.pk and shown["mine"] and shown["pending"]
    start = len("Kopelev wrote: “We were forced to resort to ")
    assert (shown["start"], shown["end"]) == (start, start + len("barbaric methods"))


def test_orphaned_and_deleted_threads_are_not_highlighted(client, episode, ann):
    orphan = make_anchored_note(episode, ann, 1)
    deleted = make_anchored_note(episode, ann, 2)
    Note.objects.filter(pk=orphan.pk).update(orphaned=True)
    Note.objects.filter(pk=deleted.pk).update(deleted_at=deleted.created)
    assert client.get(HIGHLIGHTS).json()["notes"] == []


def test_highlights_take_the_same_queries_for_any_number_of_notes(client, episode, ann,
                                                                 django_assert_max_num_queries):
    for n in range(30):
        make_reply(make_anchored_note(episode, ann, 1 + n % 3), make_user(), status=Note.Status.APPROVED)
    with django_assert_max_num_queries(3):
        assert len(client.get(HIGHLIGHTS).json()["notes"]) == 30


def test_a_thread_is_served_to_the_side_panel(client, episode, ann):
    note = make_anchored_note(episode, ann, 1, body="In the panel")
    response = client.get(f"/notes/{note.pk}/", headers={"HX-Request": "true"})
    assert f'id="note-{note.pk}"' in response.content.decode() and "In the panel" in response.content.decode()
    assert client.get(f"/notes/{note.pk}/").url == f"/episodes/{SLUG}/notes/#note-{note.pk}"
    hidden = make_anchored_note(episode, ann, 1, status=Note.Status.SPAM)
    assert client.get(f"/notes/{hidden.pk}/", headers={"HX-Request": "true"}).status_code == 404


def test_a_thread_names_its_moment_and_opens_the_page_at_the_note(client, episode, ann):
    note = make_anchored_note(episode, ann, 3, exact="barbaric methods")
    html = client.get(f"/episodes/{SLUG}/notes/").content.decode()
    assert (f'<a class="note-moment" href="/episodes/{SLUG}/?t=5.2#note-{note.pk}" data-moment="5.2">'
            'Listen from <time datetime="PT5S">0:05</time></a>') in html


def test_highlights_are_shared_like_the_page_for_anonymous_readers_and_private_when_signed_in(client, episode, ann):
    """A moderator's decision reaches anonymous readers within the shared page's lifetime."""
    make_anchored_note(episode, ann, 1)
    assert client.get(HIGHLIGHTS)["Cache-Control"].startswith("public, max-age=")
    client.force_login(ann)
    assert "private" in client.get(HIGHLIGHTS)["Cache-Control"]

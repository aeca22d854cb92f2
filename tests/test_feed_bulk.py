"""
A big feed imports in bulk: a fixed number of queries whatever its size,
nothing written when nothing changed, and the episodes it changes locked in
id order before any write.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from episodes.feeds import imports
from episodes.feeds.imports import CATALOGUE_FIELDS, import_feed
from episodes.models import Chapter, Credit, Episode, Podcast, Series, TranscriptLink
from episodes.models.episode import EpisodeQuerySet

pytestmark = pytest.mark.django_db


def feed(count, *, title_suffix=""):
    """A feed of count numbered items, each with two credits and a transcript link."""
    items = "".join(
        f"<item><title>Episode {n} - The Soviet Union Part {n}{title_suffix}</title><guid>g-{n}</guid>"
        f"<pubDate>Mon, 14 Nov 2022 10:00:00 GMT</pubDate><itunes:duration>{n * 60}</itunes:duration>"
        f'<enclosure url="https://media.example.org/{n}.mp3" length="{n * 1000}" type="audio/mpeg"/>'
        f"<podcast:person>Host</podcast:person><podcast:person role=\"guest\">Guest {n}</podcast:person>"
        f'<podcast:transcript url="https://media.example.org/{n}.html" type="text/html"/></item>'
        for n in range(count, 0, -1)
    )
    return (
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>Big</title>'
        f"<podcast:person>Host</podcast:person>{items}</channel></rss>"
    ).encode()


def queries_for(data):
    """Statements the import sends, savepoints aside (they cost nothing and write nothing)."""
    with CaptureQueriesContext(connection) as queries:
        report = import_feed(data, fetch=False)
    return sum(1 for query in queries if "SAVEPOINT" not in query["sql"]), report


def test_a_first_import_costs_the_same_queries_for_20_items_as_for_200():
    small, _ = queries_for(feed(20))
    for model in (Episode, Series, Credit, Podcast):
        model.objects.all().delete()
    large, report = queries_for(feed(200))
    assert report.created == 200 and large == small
    assert Credit.objects.filter(episode__isnull=False).count() == 400
    assert TranscriptLink.objects.count() == 200
    assert Episode.objects.get(guid="g-7").series.title == "The Soviet Union"


def test_an_unchanged_reimport_reads_a_few_times_and_writes_nothing():
    import_feed(feed(200), fetch=False)
    before = list(Episode.objects.order_by("pk").values_list("pk", "updated"))
    count, report = queries_for(feed(200))
    assert (report.unchanged, report.updated, report.created) == (200, 0, 0)
    assert count <= 8
    assert list(Episode.objects.order_by("pk").values_list("pk", "updated")) == before


def test_changed_episodes_are_locked_in_id_order_before_any_write(monkeypatch):
    import_feed(feed(30), fetch=False)
    locked = []
    real = EpisodeQuerySet.writing

    def recording(queryset):
        locked.append(list(queryset.values_list("pk", flat=True)))
        return real(queryset)

    monkeypatch.setattr(EpisodeQuerySet, "writing", recording)
    report = import_feed(feed(30, title_suffix=" (remastered)"), fetch=False)
    assert report.updated == 30
    # One Episode.writing() for all thirty, before the writes (it locks them in id order itself).
    assert sorted(locked[0]) == sorted(Episode.objects.values_list("pk", flat=True))


def test_an_edit_made_while_the_import_planned_is_kept(monkeypatch):
    """
    Another writer saved an episode after the import read it and before the
    import locked it: the import sees the lock found it changed, plans again
    from what is stored, and keeps the editor's value.
    """
    import_feed(feed(3), fetch=False)
    as_read = Episode.objects.only(*CATALOGUE_FIELDS).get(guid="g-2")
    Episode.objects.filter(pk=as_read.pk).update(title="The editor's title", updated=timezone.now())
    real = imports._Catalogue.__init__
    reads = []

    def first_read_is_stale(catalogue):
        real(catalogue)
        reads.append(catalogue)
        if len(reads) == 1:
            catalogue.episodes = [as_read if e.pk == as_read.pk else e for e in catalogue.episodes]
            catalogue.by_guid[as_read.guid] = catalogue.by_number[as_read.number] = as_read

    monkeypatch.setattr(imports._Catalogue, "__init__", first_read_is_stale)
    report = import_feed(feed(3, title_suffix=" (remastered)"), fetch=False)
    assert len(reads) == 2
    assert Episode.objects.get(pk=as_read.pk).title == "The editor's title"
    assert report.updated == 3 and any(line.startswith("title of 2 The editor's title") for line in report.kept)


def test_chapters_credits_and_links_follow_the_feed_in_one_pass():
    import_feed(feed(5), fetch=False)
    episode = Episode.objects.get(guid="g-3")
    Chapter.objects.create(episode=episode, start=0, title="Editor's chapter")
    data = feed(5).replace(b'<podcast:person role="guest">Guest 3</podcast:person>', b"").replace(
        b"https://media.example.org/3.html", b"https://media.example.org/3-new.html")
    report = import_feed(data, fetch=False)
    assert (report.updated, report.unchanged) == (1, 4)
    assert list(episode.credits.values_list("name", flat=True)) == ["Host"]
    assert list(episode.transcript_links.values_list("url", flat=True)) == ["https://media.example.org/3-new.html"]
    assert episode.chapters.get().title == "Editor's chapter"

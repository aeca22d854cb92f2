"""Importing a podcast's RSS feed: what is read, what is kept, what is refused."""

import io
import re
import socket
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError

from episodes.models import Chapter, Credit, Podcast, Series, TranscriptLink
from companion.fetch import download
from episodes.feeds.imports import import_feed, read_feed_source
from episodes.feeds.parse import FeedError, parse_date, parse_duration, parse_feed
from episodes.models import Episode
from tests.factories import make_episode, make_sentences
from tests.servers import serve_folder
from tests.testdata import FEEDS, PODCASTING2

NAMESPACE_EXAMPLE = PODCASTING2 / "example.xml"


@pytest.fixture
def server(settings):
    """tests/data/feeds served on 127.0.0.1 (the fetcher may reach it for the test's length)."""
    settings.FETCH_ALLOW_PRIVATE = True
    with serve_folder(FEEDS) as url:
        yield url


def closed_port_url(path="/"):
    """A URL on a local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


UNREACHABLE = closed_port_url("/unreachable.vtt")


def feed_bytes(name, server):
    data = (FEEDS / name).read_bytes()
    return data.replace(b"http://FEEDHOST", server.encode()).replace(
        b"http://DEADHOST/unreachable.vtt", UNREACHABLE.encode()
    )


def nothing_written():
    return not (Episode.objects.exists() or Podcast.objects.exists() or Credit.objects.exists()
                or Series.objects.exists() or TranscriptLink.objects.exists())


@pytest.fixture
def imported(db, server):
    report = import_feed(feed_bytes("hsww.xml", server), source_url=f"{server}/hsww.xml")
    return report


# --- What a feed becomes ---------------------------------------------------


def test_channel_becomes_the_podcast_with_its_credits(imported):
    """The channel fills the one Podcast row; its podcast:person tags are show-wide credits."""
    podcast = Podcast.objects.get()
    assert podcast.title == "History of the Second World War"
    assert podcast.author == "Wesley Livesay"
    assert podcast.guid == "8d2b5ad6-1c5e-5a0e-9d2f-3f1f2c5e7a10"
    assert podcast.feed_url.endswith("/hsww.xml")
    assert "<script" not in podcast.description and "<em>episode by episode</em>" in podcast.description
    show_credits = Credit.objects.filter(episode=None)
    assert [(c.name, c.role, c.group) for c in show_credits] == [
        ("Wesley Livesay", "host", "cast"), ("Sam Example", "audio editor", "audio post-production")]


def test_items_become_episodes(imported):
    """Numbers from itunes:episode or the title, titles without the number, dates, enclosures, durations."""
    assert imported.created == 5
    great_purges = Episode.objects.get(guid="hsww-138")
    assert (great_purges.number, great_purges.title, great_purges.slug) == (138, "The Great Purges", "138-the-great-purges")
    assert great_purges.published_title == "Episode 138 - The Great Purges"
    assert great_purges.published == date(2022, 11, 14)
    assert great_purges.duration == timedelta(hours=1, minutes=2, seconds=3)
    assert (great_purges.audio_url, great_purges.audio_type, great_purges.audio_length) == (
        "https://media.example.org/hsww/138.mp3", "audio/mpeg", 59580000)
    part_seven = Episode.objects.get(guid="hsww-137")
    assert (part_seven.number, part_seven.title) == (137, "The Soviet Union Part 7")
    assert part_seven.published == date(2022, 11, 6)  # "Sunday, 06 November 2022 …"
    assert part_seven.duration == timedelta(minutes=59, seconds=30)
    part_six = Episode.objects.get(guid="hsww-136")
    assert (part_six.number, part_six.published, part_six.audio_length) == (136, date(2022, 10, 30), None)


def test_series_and_part_come_from_titles(imported):
    """"The Soviet Union Part 7" is part 7 of the series "The Soviet Union"; other titles join none."""
    soviet_union = Series.objects.get(title="The Soviet Union")
    assert list(soviet_union.episodes.order_by("part").values_list("number", "part")) == [(136, 6), (137, 7)]
    assert Episode.objects.get(guid="hsww-138").series is None


def test_trailer_keeps_no_number_and_odd_values_are_left_empty(imported):
    """A trailer has no number; an unreadable date, duration or length is empty, with a warning."""
    trailer = Episode.objects.get(guid="hsww-trailer")
    assert (trailer.number, trailer.published, trailer.duration, trailer.audio_length) == (None, None, None, None)
    warnings = "\n".join(imported.warnings)
    assert "'not a date' is not a date" in warnings
    assert "'two minutes' is not seconds" in warnings
    assert "'lots' is not a byte count" in warnings


def test_item_without_guid_is_known_by_its_enclosure(imported):
    """No guid: the enclosure URL stands in for it, so a re-import still finds the episode."""
    bonus = Episode.objects.get(title="Bonus: Listener Questions")
    assert bonus.guid == "https://media.example.org/hsww/bonus-questions.mp3"
    assert bonus.published == date(2008, 6, 3)


def test_duplicate_guid_and_unidentifiable_items_are_skipped(imported):
    """A repeated guid keeps the first item; an item with no guid, enclosure or title is skipped."""
    assert Episode.objects.filter(guid="hsww-137").get().title == "The Soviet Union Part 7"
    skipped = "\n".join(imported.skipped)
    assert "its guid 'hsww-137' repeats an earlier item's (the first is kept)" in skipped
    assert "item 7: no guid and no enclosure URL" in skipped
    assert Episode.objects.count() == 5
    assert "\nSkipped item 6 (“Episode 137 - The Soviet Union Part 7 (repeat)”): its guid" in str(imported)


def test_descriptions_are_sanitised(imported):
    """Show notes keep paragraphs and safe links; scripts, handlers, javascript: links and images go."""
    notes = Episode.objects.get(guid="hsww-138").description
    assert "<strong>Ryutin platform</strong>" in notes
    assert '<a href="https://www.example.org/sources" rel="nofollow noopener">on the site</a>' in notes
    for hostile in ("<script", "document.cookie", "onclick", "javascript:", "<img", "target="):
        assert hostile not in notes
    plain = Episode.objects.get(guid="hsww-137").description
    assert plain == ("<p>Collectivisation &amp; the famine.</p>"
                     "<p>A second paragraph of plain text &lt;with angle brackets&gt;.</p>")
    assert Episode.objects.get(guid="hsww-136").description == "<p>Escaped HTML, the <em>old</em> way.</p>"


def test_every_transcript_link_is_kept(imported):
    """Each podcast:transcript becomes a TranscriptLink with its type, language and rel."""
    links = TranscriptLink.objects.filter(episode__guid="hsww-138")
    assert [(link.type, link.language, link.rel) for link in links] == [
        ("text/vtt", "en", "captions"), ("application/x-subrip", "en", ""),
        ("text/html", "en", ""), ("text/plain", "ru", "")]


def test_timed_transcript_gives_a_new_episode_its_text_and_timings(imported):
    """The WebVTT file is fetched, its cues become sentences, and the sentences are timed."""
    episode = Episode.objects.get(guid="hsww-138")
    assert episode.timing == Episode.Timing.TIMED
    sentences = list(episode.sentences.order_by("position"))
    assert sentences[1].text == "In December 1934 Sergei Kirov was shot dead in Leningrad."
    assert (sentences[1].start, sentences[1].end) == (4.0, 9.5)
    assert [s.paragraph for s in sentences] == [1, 1, 1, 2, 2]  # a new paragraph after the pause
    vtt = episode.transcript_links.get(type="text/vtt")
    assert vtt.imported_at is not None and vtt.error == ""
    assert episode.transcript_links.get(type="application/x-subrip").imported_at is None  # one is enough
    assert "Kirov" in episode.transcript_html


def test_srt_and_json_transcripts_are_imported(imported):
    """SubRip and Podcasting 2.0 JSON go through the same timed importers."""
    part_seven = Episode.objects.get(guid="hsww-137")
    assert part_seven.timing == Episode.Timing.TIMED
    assert part_seven.sentences.get(position=2).start == 3.0
    part_six = Episode.objects.get(guid="hsww-136")
    assert part_six.sentences.get(position=2).text == "The struggle to succeed him lasted years."
    assert part_six.sentences.get(position=2).end == 8.0


def test_unreachable_transcripts_keep_their_url_and_the_error(imported):
    """A 404 or a closed port is noted on the link; the import goes on."""
    missing = TranscriptLink.objects.get(url__endswith="/files/missing.vtt")
    assert "404" in missing.error and missing.imported_at is None
    unreachable = TranscriptLink.objects.get(url__endswith="/unreachable.vtt")
    assert "could not be reached" in unreachable.error
    assert imported.transcripts_imported == 3 and imported.transcripts_failed == 2


def test_chapters_file_becomes_chapters(imported):
    """Chapters in time order; hidden, untimed and unsafe values are left out."""
    chapters = Chapter.objects.filter(episode__guid="hsww-138")
    assert [(c.start, c.title) for c in chapters] == [
        (0.0, "Introduction"), (420.5, "Kirov"), (1200.0, "The Moscow Trials"), (3000.0, "Yezhov's Fall")]
    kirov = chapters.get(title="Kirov")
    assert (kirov.url, kirov.img) == ("https://www.example.org/kirov", "")
    # The transcript (20 seconds of it) heads the chapters it reaches.
    html = Episode.objects.get(guid="hsww-138").transcript_html
    assert re.findall(r'<h3 class="chapter-title" id="chapter-\d+">([^<]+)</h3>', html) == ["Introduction"]


def test_episode_credits_keep_role_group_and_link(imported):
    """podcast:person on an item: lower-cased taxonomy role and group, href kept."""
    credits = Credit.objects.filter(episode__guid="hsww-138")
    assert [(c.name, c.role, c.group, c.href) for c in credits] == [
        ("Wesley Livesay", "host", "cast", "https://www.example.org/wesley"),
        ("Sam Example", "producer", "creative direction", ""),
    ]


# --- Re-imports --------------------------------------------------------------


def test_reimport_is_idempotent(imported, server):
    """The same feed again changes nothing and fetches nothing it already has."""
    before = list(Episode.objects.order_by("pk").values())
    fetched = []

    def counting_fetch(url, **kwargs):
        fetched.append(url)
        return download(url, **kwargs)

    report = import_feed(feed_bytes("hsww.xml", server), source_url=f"{server}/hsww.xml", fetcher=counting_fetch)
    assert (report.created, report.updated, report.unchanged, report.kept_editor_changes) == (0, 0, 5, 0)
    assert report.podcast == "unchanged"
    after = list(Episode.objects.order_by("pk").values())
    assert [{k: (v, a[k]) for k, v in b.items() if a[k] != v} for b, a in zip(before, after)] == [{}] * 5
    assert Chapter.objects.count() == 4 and Credit.objects.count() == 4
    # Episode 138 is timed and chaptered already: only the untimed episode's
    # unreachable file is tried again. (File names only: a port may contain "138".)
    assert [url.rsplit("/", 1)[1] for url in fetched] == ["unreachable.vtt"]


def test_reimport_keeps_editor_changes_and_takes_the_feeds(imported, server):
    """A field the editor changed stays; a field only the feed changed is updated."""
    episode = Episode.objects.get(guid="hsww-137")
    episode.title = "Collectivisation and Famine"
    episode.save()
    Credit.objects.get(episode__guid="hsww-138", role="producer").delete()
    chapter = Chapter.objects.get(title="Kirov")
    chapter.title = "The Kirov Murder"
    chapter.save()
    data = feed_bytes("hsww.xml", server)
    data = data.replace(b"Collectivisation &amp; the famine.", b"Collectivisation and the famine of 1932-33.")
    data = data.replace(b"Collectivisation & the famine.", b"Collectivisation and the famine of 1932-33.")
    data = data.replace(b"Part 7</title>\n      <guid>hsww-137", b"Part Seven</title>\n      <guid>hsww-137")
    data = data.replace(b"138-chapters.json", b"138-chapters-v2.json")

    report = import_feed(data)

    episode.refresh_from_db()
    assert episode.title == "Collectivisation and Famine"
    assert episode.description.startswith("<p>Collectivisation and the famine of 1932-33.</p>")
    assert not Credit.objects.filter(episode__guid="hsww-138", role="producer").exists()
    assert Chapter.objects.filter(title="The Kirov Murder").exists()
    assert (report.created, report.updated, report.unchanged, report.kept_editor_changes) == (0, 1, 4, 2)
    assert "title of 137 Collectivisation and Famine" in report.kept
    assert "credits, chapters of 138 The Great Purges" in report.kept


def test_reimport_updates_what_the_editor_left_alone(imported, server):
    """A new pubDate and an added person reach an untouched episode."""
    data = feed_bytes("hsww.xml", server).replace(
        b"Mon, 14 Nov 2022 10:00:00 GMT", b"Tue, 15 Nov 2022 10:00:00 GMT"
    ).replace(
        b'<podcast:person role="Producer"',
        b'<podcast:person role="guest">Anna Historian</podcast:person><podcast:person role="Producer"',
    )
    report = import_feed(data)
    episode = Episode.objects.get(guid="hsww-138")
    assert episode.published == date(2022, 11, 15)
    assert list(episode.credits.values_list("name", flat=True)) == [
        "Wesley Livesay", "Anna Historian", "Sam Example"]
    assert (report.updated, report.kept_editor_changes) == (1, 0)


def test_a_new_chapters_file_replaces_untouched_chapters(imported, server):
    """A chapters URL the feed changed is fetched again; chapters the editor left alone follow it."""
    rendered = Episode.objects.get(guid="hsww-138").transcript_rendered_at
    report = import_feed(feed_bytes("hsww.xml", server).replace(b"138-chapters.json", b"138-chapters-v2.json"))
    assert list(Chapter.objects.values_list("title", flat=True)) == [
        "Introduction", "The Ryutin Platform", "The Moscow Trials"]
    assert (report.updated, report.chapters_imported) == (1, 1)
    # The stored transcript was rendered again with them (they are its headings).
    assert Episode.objects.get(guid="hsww-138").transcript_rendered_at > rendered


def test_import_adopts_a_hand_made_episode_and_times_its_sentences(small_episode, server):
    """An episode with the item's number and no guid is the item's: its text stays, its timings come in."""
    episode = small_episode["episode"]
    report = import_feed(feed_bytes("adopt.xml", server))
    episode.refresh_from_db()
    assert (report.created, report.updated) == (0, 1)
    assert episode.guid == "hsww-138" and episode.title == "The Great Purges"
    assert episode.description == "<p>The feed's notes for an episode an editor made by hand.</p>"
    assert episode.timing == Episode.Timing.TIMED
    assert list(episode.sentences.order_by("position").values_list("start", flat=True)) == [1.0, 3.0, 5.0]
    broken = episode.transcript_links.get(url__endswith="broken.vtt")
    assert "ends before it starts" in broken.error or "runs backwards" in broken.error
    assert episode.transcript_links.get(url__endswith="existing.vtt").imported_at is not None


def test_editors_text_is_not_overwritten_by_a_feed_transcript(db, server):
    """An episode already timed by the editor keeps its timings; the feed's file is not even fetched."""
    episode = make_episode(number=138, title="The Great Purges", timing=Episode.Timing.ALIGNED)
    make_sentences(episode, "The NKVD arrested thousands.")
    fetched = []
    import_feed(feed_bytes("adopt.xml", server), fetcher=lambda url, **kw: fetched.append(url) or b"")
    episode.refresh_from_db()
    assert episode.timing == Episode.Timing.ALIGNED and fetched == []


def test_a_taken_number_is_not_given_twice(db, server):
    """A second item with a number another episode holds is imported without it, with a warning."""
    make_episode(number=137, title="Made by hand", guid="someone-elses")
    report = import_feed(feed_bytes("hsww.xml", server), fetch=False)
    assert Episode.objects.get(guid="hsww-137").number is None
    assert any("number 137 already belongs to “Made by hand”" in w for w in report.warnings)
    assert Episode.objects.get(guid="hsww-137").title == "Episode 137 - The Soviet Union Part 7"


def test_dry_run_writes_nothing_but_reports(db, server):
    report = import_feed(feed_bytes("hsww.xml", server), dry_run=True, fetch=False)
    assert report.created == 5 and report.dry_run
    assert nothing_written()


def test_the_whole_import_is_one_transaction(db, server, monkeypatch):
    """A failure after the episodes were written leaves nothing of them."""
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        raise DatabaseError("disk full")

    monkeypatch.setattr(TranscriptLink.objects, "bulk_create", failing)
    with pytest.raises(FeedError, match="disk full.*nothing was written"):
        import_feed(feed_bytes("hsww.xml", server), fetch=False)
    assert calls  # it failed after the episodes and credits were written
    assert nothing_written()


def test_namespace_example_feed(db):
    """The Podcasting 2.0 namespace's own example: three episodes, a named season, credits, links."""
    report = import_feed(NAMESPACE_EXAMPLE.read_bytes(), fetch=False)
    assert report.created == 3  # the podcast:liveItem is not an episode
    assert list(Episode.objects.order_by("number").values_list("number", "title")) == [
        (1, "The Past"), (2, "The Present"), (3, "The Future")]
    assert Series.objects.get().title == "Podcasting 2.0"
    future = Episode.objects.get(number=3)
    assert future.transcript_links.count() == 2
    assert list(future.credits.values_list("name", "role", "group")) == [
        ("Adam Curry", "host", "cast"), ("Dave Jones", "guest", "cast"),
        ("Becky Smith", "cover art designer", "visuals")]
    assert Podcast.objects.get().guid == "y0ur-gu1d-g035-h3r3"


# --- Refused feeds: a clear error, nothing written ---------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("hostile/billion-laughs.xml", "declares XML entities"),
        ("hostile/external-entity.xml", "declares XML entities"),
        ("hostile/external-dtd.xml", "declares XML entities"),
        ("hostile/not-xml.html", "HTML page, not a feed"),
        ("hostile/svg.xml", "neither an RSS 2.0 nor an Atom feed: its root element is <svg>"),
        ("lenient/unknown-prefix.xml", "uses wibble: without declaring its namespace .* line 7 \\(<wibble:rating"),
        ("hostile/empty.xml", "The feed is empty"),
        ("hostile/latin1-undeclared.xml", "not UTF-8 .* does not declare its encoding"),
    ],
)
def test_bad_feeds_are_refused_with_nothing_written(db, name, message):
    with pytest.raises(FeedError, match=message):
        import_feed((FEEDS / name).read_bytes())
    assert nothing_written()


def test_external_entity_never_leaks_the_file(db):
    """Even a DOCTYPE naming a local file, with no entity, reads nothing from it."""
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "file:///etc/passwd">\n'
            b'<rss version="2.0"><channel><title>T</title><item><title>Secret</title><guid>g</guid>'
            b"<description>Nothing here.</description></item></channel></rss>")
    import_feed(data, fetch=False)
    stored = str(list(Episode.objects.values())) + str(list(Podcast.objects.values()))
    assert "root:" not in stored and "/bin/" not in stored


def test_non_xml_bytes_are_refused(db):
    with pytest.raises(FeedError, match="not well-formed XML: .* line 1"):
        import_feed(b"Title,Episode\nThe Great Purges,138\n")


def test_declared_latin1_feed_is_read(db):
    """An encoding the XML declaration names is honoured."""
    import_feed((FEEDS / "latin1-declared.xml").read_bytes())
    assert Podcast.objects.get().title == "Café history"
    assert Episode.objects.get().title == "Été"


def test_feed_over_50_mb_is_refused(db, tmp_path):
    big = tmp_path / "big.xml"
    with big.open("wb") as out:
        out.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>')
        out.write(b"<item><title>x</title><guid>y</guid></item>" * (51 * 1024 * 1024 // 41))
        out.write(b"</channel></rss>")
    with pytest.raises(FeedError, match="the limit is 50 MB"):
        read_feed_source(big)
    with pytest.raises(FeedError, match="the limit is 50 MB"):
        import_feed(big.read_bytes())
    assert nothing_written()


def test_missing_fields_are_tolerated_or_reported(db):
    """An item needs something to know it by; the rest may be missing."""
    data = (b'<rss version="2.0"><channel><title>Sparse</title>'
            b"<item><guid>only-a-guid</guid><title>Just a title</title></item>"
            b"<item><enclosure url='https://media.example.org/a.mp3'/><description>No title.</description></item>"
            b"<item><guid>no-title-or-notes</guid></item>"
            b"</channel></rss>")
    report = import_feed(data)
    sparse = Episode.objects.get(guid="only-a-guid")
    assert (sparse.number, sparse.published, sparse.audio_url, sparse.description) == (None, None, "", "")
    assert Episode.objects.get(guid="https://media.example.org/a.mp3").title == "No title."
    assert any("no title and no description" in line for line in report.skipped)
    assert Episode.objects.count() == 2


# --- Fetching ------------------------------------------------------------------


def test_feed_from_a_url(db, server):
    data = read_feed_source(f"{server}/hsww.xml")
    assert parse_feed(data).channel.title == "History of the Second World War"


def test_unreachable_feed_url_is_a_clear_error(db, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    with pytest.raises(FeedError, match="could not be fetched: .*could not be reached"):
        read_feed_source(closed_port_url("/feed.xml"))


def test_missing_feed_url_is_a_clear_error(server):
    with pytest.raises(FeedError, match="answered 404"):
        read_feed_source(f"{server}/nowhere.xml")


def test_non_file_sources_are_refused(db):
    with pytest.raises(FeedError, match="give a file or an http"):
        read_feed_source("ftp://example.org/feed.xml")
    with pytest.raises(FeedError, match="No such file"):
        read_feed_source("/nonexistent/feed.xml")


# --- Values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 14 Nov 2022 10:00:00 GMT", date(2022, 11, 14)),
        ("Tue, 3 Jun 2008 11:05:30 +0200", date(2008, 6, 3)),
        ("Sunday, 06 November 2022 10:00:00 GMT", date(2022, 11, 6)),
        ("Fri, 09 Oct 20 04:30:38 EST", date(2020, 10, 9)),
        ("Tue, 10 Jun 2003 04:00:00 BST", date(2003, 6, 10)),
        ("2022-10-30T10:00:00Z", date(2022, 10, 30)),
        ("October 9, 2020", date(2020, 10, 9)),
        ("Mon, 31 Feb 2020 10:00:00 GMT", None),
        ("Fri, 09 Oct 99999 04:30:38 GMT", None),
        ("not a date", None),
        ("", None),
    ],
)
def test_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3600", 3600), ("59:30", 3570), ("1:02:03", 3723), ("01:02:03.5", 3723.5),
     ("1:61:00", None), ("12:75", None), ("abc", None), ("", None), ("-5", None)],
)
def test_durations(text, seconds):
    result = parse_duration(text)
    assert (result.total_seconds() if result else None) == seconds


# --- The command ------------------------------------------------------------------


def test_command_imports_and_reports(db, server):
    out = io.StringIO()
    call_command("import_feed", f"{server}/adopt.xml", stdout=out)
    assert "Podcast created. Episodes: 1 created" in out.getvalue()
    assert Episode.objects.get().guid == "hsww-138"


def test_command_dry_run(db, server):
    out = io.StringIO()
    call_command("import_feed", str(FEEDS / "hsww.xml"), "--dry-run", stdout=out)
    assert out.getvalue().startswith("Dry run: nothing was written.")
    assert "5 created" in out.getvalue()
    assert nothing_written()


def test_command_error_for_a_bad_feed(db):
    with pytest.raises(CommandError, match="Feed not imported: .*declares XML entities"):
        call_command("import_feed", str(FEEDS / "hostile" / "billion-laughs.xml"))


# --- The admin page -------------------------------------------------------------

IMPORT_URL = "/admin/episodes/podcast/import/"


@pytest.fixture
def editor_client(client, db):
    from tests.factories import make_user

    client.force_login(make_user("editor", is_staff=True, is_superuser=True))
    return client


def test_podcast_list_links_to_the_import_page(editor_client):
    html = editor_client.get("/admin/episodes/podcast/").content.decode()
    assert f'href="{IMPORT_URL}">Import feed</a>' in html


def test_admin_import_from_an_upload(editor_client, server):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("hsww.xml", feed_bytes("hsww.xml", server), "application/rss+xml")
    response = editor_client.post(IMPORT_URL, {"upload": upload, "fetch": "on"}, follow=True)
    assert response.redirect_chain == [(IMPORT_URL, 302)]
    shown = [str(message) for message in response.context["messages"]]
    assert shown[0].startswith("Podcast created. Episodes: 5 created (as drafts: listeners see them once published), 0 updated, 0 unchanged, 2 skipped")
    assert any(line.startswith("Skipped item 6") and "repeats an earlier item's" in line for line in shown)
    assert '<a href="/admin/episodes/episode/?is_draft__exact=1">See the 5 new episodes</a>.' in shown
    assert Episode.objects.get(guid="hsww-138").timing == Episode.Timing.TIMED


def test_admin_import_from_a_url_dry_run(editor_client, server):
    response = editor_client.post(IMPORT_URL, {"url": f"{server}/adopt.xml", "dry_run": "on"}, follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert shown[0].startswith("Dry run, nothing written. Podcast created. Episodes: 1 created")
    assert nothing_written()


def test_admin_import_refuses_a_bad_feed_with_its_reason(editor_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("bomb.xml", (FEEDS / "hostile" / "billion-laughs.xml").read_bytes())
    response = editor_client.post(IMPORT_URL, {"upload": upload})
    assert response.status_code == 200
    assert "Feed not imported: The feed declares XML entities" in response.content.decode()
    assert nothing_written()


def test_admin_import_needs_a_source(editor_client):
    response = editor_client.post(IMPORT_URL, {"fetch": "on"})
    assert "Give the feed&#x27;s URL or upload the feed." in response.content.decode()
    response = editor_client.post(IMPORT_URL, {"url": "file:///etc/passwd"})
    assert "Enter a valid URL." in response.content.decode()


def test_admin_import_needs_permission(client, db):
    from tests.factories import make_user

    client.force_login(make_user("helper", is_staff=True))
    assert client.get(IMPORT_URL).status_code == 403


def test_import_page_is_labelled(editor_client):
    html = editor_client.get(IMPORT_URL).content.decode()
    assert '<label for="id_url">Feed URL:</label>' in html
    assert '<label for="id_upload">Or upload the feed:</label>' in html
    assert 'enctype="multipart/form-data"' in html


def test_reimport_keeps_the_editors_podcast_title(imported, server):
    podcast = Podcast.objects.get()
    podcast.title = "HSWW"
    podcast.save()
    report = import_feed(feed_bytes("hsww.xml", server).replace(
        b"<itunes:author>Wesley Livesay</itunes:author>", b"<itunes:author>W. Livesay</itunes:author>"))
    podcast.refresh_from_db()
    assert (podcast.title, podcast.author) == ("HSWW", "W. Livesay")
    assert report.podcast == "updated" and "podcast title" in report.kept

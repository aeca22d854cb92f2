"""
Feeds podcast apps play though they bend the rules: each is read, and the
report says what was read past. Numbers come only from where they are
numbers. Safety stays strict.
"""

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from episodes.feeds.imports import import_feed
from episodes.feeds.numbering import bare_number, named_number, titles_are_numbered
from episodes.feeds.parse import FeedError, parse_feed
from episodes.models import Episode, Podcast
from tests.testdata import FEEDS

LENIENT = FEEDS / "lenient"
pytestmark = pytest.mark.django_db


def import_fixture(name, **kwargs):
    return import_feed((LENIENT / name).read_bytes(), fetch=False, **kwargs)


def stored(*fields):
    return list(Episode.objects.order_by("pk").values_list(*fields))


# --- Numbers only where they are numbers ------------------------------------------


def test_a_date_at_the_start_of_a_title_is_no_number():
    """ "18.03.2022 – …" is a date: every title is kept whole, and distinct."""
    import_fixture("dated-titles.xml")
    assert stored("number", "title") == [
        (None, "18.03.2022 – Langsam gesprochene Nachrichten"),
        (None, "17.03.2022 – Langsam gesprochene Nachrichten"),
        (None, "16.03.2022 – Langsam gesprochene Nachrichten"),
        (None, "2022-03-15: The news, slowly"),
        (None, "Episode 2022-03-14 – The news, slowly"),
    ]


def test_a_decimal_at_the_start_of_a_title_is_no_number():
    import_fixture("decimals.xml")
    assert stored("number", "title") == [
        (None, "0.00000015: How wide is a virus?"),
        (None, "1.5: Half again as much"),
        (None, "3.14159: The circle's number"),
    ]


def test_bare_numbers_count_when_most_titles_rise_with_them():
    """ "14: …" and "13 – …" number a feed whose titles mostly start that way, rising over time."""
    import_fixture("bare-numbers.xml")
    assert stored("number", "title", "published_title") == [
        (14, "The Winter War", "14: The Winter War"),
        (None, "Bonus: Questions and answers", "Bonus: Questions and answers"),
        (13, "The Baltic states", "13 – The Baltic states"),
        (12, "Poland divided", "12: Poland divided"),
    ]


def test_a_lone_bare_number_is_not_trusted():
    """One "1939: …" among unnumbered titles is a year, not an episode."""
    feed = parse_feed(
        b'<rss version="2.0"><channel><title>Years</title>'
        b"<item><title>1939: Poland</title><guid>a</guid></item>"
        b"<item><title>The phoney war</title><guid>b</guid></item>"
        b"<item><title>Norway</title><guid>c</guid></item></channel></rss>"
    )
    assert [(item.number, item.title) for item in feed.items] == [
        (None, "1939: Poland"), (None, "The phoney war"), (None, "Norway")]


def test_the_feeds_own_number_wins_and_a_matching_title_number_is_trimmed_for_pages():
    feed = parse_feed(
        b'<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>T</title>'
        b"<item><title>138: The Great Purges</title><guid>a</guid><itunes:episode>138</itunes:episode></item>"
        b"<item><title>#12 Something else</title><guid>b</guid><itunes:episode>40</itunes:episode></item>"
        b"</channel></rss>"
    )
    assert [(item.number, item.title, item.published_title) for item in feed.items] == [
        (138, "The Great Purges", "138: The Great Purges"),
        (40, "#12 Something else", "#12 Something else"),
    ]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Episode 138 - The Great Purges", (138, "The Great Purges")),
        ("Ep. 138: The Great Purges", (138, "The Great Purges")),
        ("EP 7 | Short", (7, "Short")),
        ("#138 The Great Purges", (138, "The Great Purges")),
        ("Episode 138", (138, "")),
        ("Episode 18.03.2022 – News", (None, "Episode 18.03.2022 – News")),
        ("Episode 1.5: Halfway", (None, "Episode 1.5: Halfway")),
        ("Epilogue 2: After", (None, "Epilogue 2: After")),
        ("Episodes 1-3 recap", (None, "Episodes 1-3 recap")),
    ],
)
def test_named_numbers(title, expected):
    assert named_number(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("138: The Great Purges", 138),
        ("138 – The Great Purges", 138),
        ("138 - The Great Purges", 138),
        ("18.03.2022 – News", None),
        ("0.00000015: Small", None),
        ("10:30 Meeting", None),
        ("2022-03-15: News", None),
    ],
)
def test_bare_numbers(title, expected):
    assert bare_number(title)[0] == expected


def test_bare_numbers_must_rise():
    assert titles_are_numbered(["1: a", "2: b", "3: c"])
    assert not titles_are_numbered(["3: a", "1: b", "2: c", "1: d"])  # not a sequence
    assert not titles_are_numbered(["1: a", "b", "c"])  # not most


def test_a_number_clash_keeps_the_whole_title():
    """The second claim to a number gets none, keeps its title as published and is reported."""
    report = import_fixture("number-clash.xml")
    assert stored("number", "title") == [
        (7, "The Invasion of Norway"), (None, "Episode 7 - Norway, Again")]
    assert any("item 2 (“Episode 7 - Norway, Again”): episode number 7 already belongs to "
               "“The Invasion of Norway”" in line for line in report.warnings)


# --- Enclosures by type ---------------------------------------------------------------


def test_the_audio_is_chosen_over_an_image_enclosed_before_it():
    report = import_fixture("image-before-audio.xml")
    assert stored("guid", "audio_url", "audio_type") == [
        ("pf-1", "https://pictures.example.org/1.mp3", "audio/mpeg"),
        ("pf-2", "https://pictures.example.org/2.m4a", "audio/mp4"),  # untyped: judged by its name
        ("pf-3", "https://pictures.example.org/3.mp3", "audio/mpeg"),  # audio before video
        ("pf-4", "", ""),  # an image is never the audio
        ("pf-5", "https://pictures.example.org/5.ogg", "audio/ogg"),
    ]
    assert Episode.objects.get(guid="pf-5").duration == timedelta(seconds=1805)
    passed_over = [line for line in report.warnings if "not the episode's audio" in line]
    assert len(passed_over) == 4
    assert passed_over[0].startswith("item 1 (“Cover before the MP3”): the enclosure "
                                     "https://pictures.example.org/1.jpg is an image (image/jpeg)")


def test_video_is_taken_when_there_is_no_audio():
    feed = parse_feed(
        b'<rss version="2.0"><channel><title>T</title><item><title>V</title><guid>v</guid>'
        b'<enclosure url="https://v.example.org/cover.jpg" type="image/jpeg" length="1"/>'
        b'<enclosure url="https://v.example.org/v.mp4" type="video/mp4" length="1"/></item></channel></rss>'
    )
    assert (feed.items[0].audio_url, feed.items[0].audio_type) == ("https://v.example.org/v.mp4", "video/mp4")


def test_media_rss_enclosures_are_read():
    """media:content (alone or in a media:group) with its size and duration; images passed over."""
    import_fixture("media-rss.xml")
    assert stored("number", "title", "audio_url", "audio_type", "audio_length", "duration") == [
        (2, "Grouped formats", "https://media-only.example.org/2.opus", "audio/ogg", 1500000,
         timedelta(seconds=600)),
        (1, "A single file", "https://media-only.example.org/1.mp3", "audio/mpeg", 2400000,
         timedelta(seconds=599.6)),
    ]


# --- Recovered errors ------------------------------------------------------------------


def test_undeclared_well_known_prefixes_are_recovered_and_named():
    report = import_fixture("undeclared-prefixes.xml")
    episode = Episode.objects.get()
    assert (episode.number, episode.duration, episode.audio_url) == (
        1, timedelta(minutes=10), "https://forgot.example.org/1.mp3")
    assert episode.transcript_links.get().url == "https://forgot.example.org/1.vtt"
    assert Podcast.objects.get().author == "A. Host"
    assert [line.split(" without")[0] for line in report.recovered] == [
        "The feed uses the prefix itunes:", "The feed uses the prefix media:", "The feed uses the prefix podcast:"]
    assert "Recovered: The feed uses the prefix itunes: without declaring it (xmlns:itunes)" in str(report)


def test_recovering_a_prefix_never_lets_an_entity_through():
    """The XML is read again after the fix, by the same safe parser."""
    data = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">]>'
            b'<rss version="2.0"><channel><title>&a;</title><itunes:author>x</itunes:author></channel></rss>')
    with pytest.raises(FeedError, match="declares XML entities"):
        import_feed(data)
    assert not Podcast.objects.exists()


def test_a_channel_without_a_title_is_named_after_its_host():
    report = import_fixture("no-channel-title.xml")
    assert Podcast.objects.get().title == "untitled.example.net"
    assert report.recovered == [
        "The feed's channel has no <title>; the podcast is named “untitled.example.net”, "
        "from the host of the address it was read from."]
    assert Episode.objects.get().title == "The first episode"


def test_without_any_address_the_first_items_host_names_the_show():
    data = (LENIENT / "no-channel-title.xml").read_bytes().replace(b"<atom:link", b"<atom:nolink")
    report = import_feed(data, fetch=False)
    assert Podcast.objects.get().title == "www.untitled.example.net"
    assert "from the host of its first item's link" in report.recovered[0]


def test_an_atom_podcast_is_read():
    report = import_fixture("atom.xml")
    podcast = Podcast.objects.get()
    assert (podcast.title, podcast.author, podcast.language, podcast.image_url, podcast.feed_url) == (
        "Atom Radio", "Ann Atom", "en-gb", "https://atom.example.org/cover.png",
        "https://atom.example.org/feed.atom")
    assert podcast.description == "<p>History, in Atom.</p>"
    assert stored("number", "title", "guid", "published", "audio_url", "audio_length", "duration") == [
        (2, "The second", "urn:uuid:0b1c2d3e-0000-4000-8000-000000000002", date(2022, 11, 14),
         "https://atom.example.org/2.mp3", 2000000, timedelta(minutes=31, seconds=7)),
        (1, "The first", "urn:uuid:0b1c2d3e-0000-4000-8000-000000000001", date(2022, 11, 7),
         "https://atom.example.org/1.mp3", 1900000, None),
    ]
    assert Episode.objects.get(number=2).description == "<p>The <em>second</em> episode.</p>"
    assert any("2.jpg is an image" in line for line in report.warnings)


# --- The report an editor reads --------------------------------------------------------


def test_the_report_counts_every_item_and_says_why_one_was_skipped():
    data = (LENIENT / "bare-numbers.xml").read_bytes().replace(
        b"</channel>", b"<item><title>Again</title><guid>nb-12</guid></item></channel>")
    first = import_feed(data, fetch=False)
    assert (first.created, first.updated, first.unchanged, len(first.skipped)) == (4, 0, 0, 1)
    assert first.skipped == ["item 5 (“Again”): its guid 'nb-12' repeats an earlier item's (the first is kept)."]
    second = import_feed(data.replace(b"Poland divided", b"Poland, divided"), fetch=False)
    assert (second.created, second.updated, second.unchanged, len(second.skipped)) == (0, 1, 3, 1)
    assert str(second).startswith(
        "Podcast unchanged. Episodes: 0 created, 1 updated, 3 unchanged, 1 skipped; editor's changes kept in 0.")


def test_the_command_prints_recovered_and_skipped_lines():
    out = io.StringIO()
    call_command("import_feed", str(LENIENT / "undeclared-prefixes.xml"), "--no-fetch", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == ("Podcast created. Episodes: 1 created (as drafts: listeners see them once published), 0 updated, 0 unchanged, 0 skipped; "
                        "editor's changes kept in 0.")
    assert sum(line.startswith("Recovered: The feed uses the prefix") for line in lines) == 3

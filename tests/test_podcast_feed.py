"""
/feed.xml and the chapters files: valid against the Podcasting 2.0 XSD, read
by gPodder's podcastparser and by feedparser, and every URL in them answers.
"""

import copy
import datetime
import io
import json
import uuid
from urllib.parse import urlsplit

import feedparser
import podcastparser
import pytest
from django.core.files.base import ContentFile
from django.test import override_settings
from lxml import etree

from episodes.models import Chapter, Credit, Podcast
from episodes.timings.formats import parse_podcast_html
from tests.factories import make_episode, make_sentences
from tests.testdata import PODCASTING2

pytestmark = pytest.mark.django_db

PODCAST = "https://podcastindex.org/namespace/1.0"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
NS = {"podcast": PODCAST, "itunes": ITUNES, "atom": "http://www.w3.org/2005/Atom"}
FEED = "/feed.xml"
ALL_TYPES = ["text/vtt", "application/x-subrip", "application/json", "text/html", "text/plain"]
UNTIMED_TYPES = ["text/html", "text/plain"]


@pytest.fixture
def show(db, small_episode):
    """
    Episode 138, timed, with an audio file and credits; an untimed episode
    with a feed guid and an external audio URL; one with no transcript yet.
    """
    episode = small_episode["episode"]
    episode.duration = datetime.timedelta(seconds=90)
    episode.published = datetime.date(2019, 8, 11)
    episode.audio.save("138.mp3", ContentFile(b"ID3" + b"\0" * 2045), save=False)
    episode.save()
    episode.estimate_timings()
    Podcast.objects.create(title="History of the Second World War", author="Wesley Livesay",
                           description="A history of the war, told in order.", language="en",
                           link="https://example.com/show", image_url="https://example.com/show.jpg")
    Credit.objects.create(name="Wesley Livesay", role="host", group="cast", href="https://example.com/wesley")
    Credit.objects.create(episode=episode, name="Wesley Livesay", role="host", group="cast",
                          img="https://example.com/wesley.jpg")
    Credit.objects.create(episode=episode, name="A. Producer", role="producer",
                          group="audio post-production", position=1)
    untimed = make_episode(number=137, slug="137-the-soviet-military", title="The Soviet Military",
                           guid="hsww-137", published=datetime.date(2019, 7, 28),
                           audio_url="https://cdn.example.com/137.m4a", audio_length=4321,
                           description="<p>Show notes with <b>HTML</b>.</p>")
    make_sentences(untimed, "Tukhachevsky wrote about deep battle.", "He was shot in 1937.")
    untimed.render_transcript()
    bare = make_episode(number=139, slug="139-poland", title="Poland", audio_url="https://cdn.example.com/139.mp3")
    return {"timed": episode, "untimed": untimed, "bare": bare}


def get_feed(client):
    response = client.get(FEED)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    return response.content


def items_by_link(content):
    root = etree.fromstring(content)
    return {item.findtext("link"): item for item in root.iter("item")}


def item_of(content, episode):
    return items_by_link(content)[f"http://testserver{episode.get_absolute_url()}"]


# --- The Podcasting 2.0 XSD ------------------------------------------------------


def podcast_schema():
    return etree.XMLSchema(etree.parse(str(PODCASTING2 / "podcast.xsd")))


def schema_element_names():
    xsd = etree.parse(str(PODCASTING2 / "podcast.xsd"))
    root = xsd.find("{http://www.w3.org/2001/XMLSchema}element[@name='root']")
    choice = root.find(".//{http://www.w3.org/2001/XMLSchema}choice")
    return {element.get("name") for element in choice.findall("{http://www.w3.org/2001/XMLSchema}element")}


def wrapped(elements):
    """
    The XSD declares no target namespace and keeps every tag local to a <root>
    element, so each podcast:* element is checked as an unqualified copy under <root>.
    """
    root = etree.Element("root")
    for element in elements:
        plain = copy.deepcopy(element)
        plain.tag = etree.QName(element).localname
        root.append(plain)
    return root


def podcast_elements(content):
    return [element for element in etree.fromstring(content).iter() if etree.QName(element).namespace == PODCAST]


def test_podcast_elements_validate_against_the_xsd(client, show):
    elements = podcast_elements(get_feed(client))
    known = schema_element_names()
    # podcast:guid came after this XSD; it is checked on its own below.
    checked = [element for element in elements if etree.QName(element).localname in known]
    assert {etree.QName(element).localname for element in elements} - known == {"guid"}
    assert {etree.QName(element).localname for element in checked} == {"transcript", "chapters", "person", "episode"}
    schema = podcast_schema()
    document = wrapped(checked)
    assert schema.validate(document), schema.error_log


def test_the_xsd_check_can_fail(client, show):
    """The wrapper really is validated: a transcript without its type is refused."""
    transcript = next(e for e in podcast_elements(get_feed(client)) if etree.QName(e).localname == "transcript")
    del transcript.attrib["type"]
    assert not podcast_schema().validate(wrapped([transcript]))


def test_podcast_guid_is_the_uuid5_of_the_feed_url(client, show):
    guid = etree.fromstring(get_feed(client)).findtext("channel/podcast:guid", namespaces=NS)
    namespace = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
    assert guid == str(uuid.uuid5(namespace, "testserver/feed.xml"))
    # The spec's own worked example.
    from episodes.feeds.podcast import podcast_guid

    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"


def test_podcast_person_names_are_cut_to_128_characters(client, show):
    Credit.objects.create(episode=show["timed"], name="N" * 200, role="guest", group="cast")
    names = [p.text for p in item_of(get_feed(client), show["timed"]).iterfind("podcast:person", NS)]
    assert "N" * 128 in names
    people = [e for e in podcast_elements(get_feed(client)) if etree.QName(e).localname == "person"]
    assert podcast_schema().validate(wrapped(people))
    # The XSD itself refuses a longer name.
    people[-1].text = "N" * 129
    assert not podcast_schema().validate(wrapped(people))


# --- What the feed says -------------------------------------------------------


def test_channel_comes_from_the_podcast_row(client, show):
    channel = etree.fromstring(get_feed(client)).find("channel")
    assert channel.findtext("title") == "History of the Second World War"
    assert channel.findtext("description") == "A history of the war, told in order."
    assert channel.findtext("itunes:author", namespaces=NS) == "Wesley Livesay"
    assert channel.find("itunes:image", NS).get("href") == "https://example.com/show.jpg"
    assert channel.findtext("link") == "http://testserver/"
    assert channel.find("atom:link", NS).get("href") == "http://testserver/feed.xml"
    people = channel.findall("podcast:person", NS)
    assert [(p.text, p.get("role"), p.get("href")) for p in people] == [
        ("Wesley Livesay", "host", "https://example.com/wesley")
    ]


def test_without_a_podcast_row_the_demo_show_stands_in(client, small_episode):
    channel = etree.fromstring(get_feed(client)).find("channel")
    assert channel.findtext("title") == "History of the Second World War"
    assert channel.findtext("itunes:author", namespaces=NS) == "Wesley Livesay"
    assert [(p.text, p.get("role")) for p in channel.findall("podcast:person", NS)] == [("Wesley Livesay", "host")]


def test_the_fallback_show_matches_the_demo_content(settings):
    import yaml

    from episodes.models.show import default_show

    demo = yaml.safe_load((settings.DEMO_CONTENT_DIR / "episode.yaml").read_text())
    show = default_show()
    assert (show.title, show.author) == (demo["podcast"], demo["host"])


def test_items_are_newest_first_with_itunes_tags(client, show):
    root = etree.fromstring(get_feed(client))
    items = root.findall("channel/item")
    assert [item.findtext("title") for item in items] == ["The Great Purges", "The Soviet Military", "Poland"]
    timed = items[0]
    assert timed.findtext("itunes:episode", namespaces=NS) == "138"
    assert timed.findtext("podcast:episode", namespaces=NS) == "138"
    assert timed.findtext("itunes:duration", namespaces=NS) == "90"
    assert timed.findtext("pubDate") == "Sun, 11 Aug 2019 00:00:00 +0000"


def test_guid_is_the_feeds_own_when_imported_else_our_page(client, show):
    content = get_feed(client)
    untimed = item_of(content, show["untimed"]).find("guid")
    assert (untimed.text, untimed.get("isPermaLink")) == ("hsww-137", "false")
    timed = item_of(content, show["timed"]).find("guid")
    assert (timed.text, timed.get("isPermaLink")) == ("http://testserver/episodes/138-the-great-purges/", "true")


def test_enclosure_for_an_uploaded_file_is_our_audio_view(client, show):
    enclosure = item_of(get_feed(client), show["timed"]).find("enclosure")
    assert enclosure.attrib == {
        "url": "http://testserver/episodes/138-the-great-purges/audio/", "length": "2048", "type": "audio/mpeg"
    }


def test_enclosure_for_an_audio_url_keeps_its_length_and_guesses_its_type(client, show):
    enclosure = item_of(get_feed(client), show["untimed"]).find("enclosure")
    assert enclosure.attrib == {"url": "https://cdn.example.com/137.m4a", "length": "4321", "type": "audio/mp4"}


def test_no_enclosure_without_audio(client, show):
    show["bare"].audio_url = ""
    show["bare"].save()
    assert item_of(get_feed(client), show["bare"]).find("enclosure") is None


def transcripts(item):
    return [(t.get("url"), t.get("type")) for t in item.iterfind("podcast:transcript", NS)]


def test_a_timed_episode_lists_every_export(client, show):
    found = transcripts(item_of(get_feed(client), show["timed"]))
    base = "http://testserver/episodes/138-the-great-purges/transcript."
    assert found == [(base + ext, mime) for ext, mime in zip(["vtt", "srt", "json", "html", "txt"], ALL_TYPES)]


def test_an_untimed_episode_lists_only_untimed_exports_and_no_chapters(client, show):
    item = item_of(get_feed(client), show["untimed"])
    assert [mime for _, mime in transcripts(item)] == UNTIMED_TYPES
    assert item.find("podcast:chapters", NS) is None


def test_an_episode_without_a_transcript_lists_none(client, show):
    item = item_of(get_feed(client), show["bare"])
    assert transcripts(item) == [] and item.find("podcast:chapters", NS) is None


def test_episode_credits_are_podcast_persons(client, show):
    people = item_of(get_feed(client), show["timed"]).findall("podcast:person", NS)
    assert [(p.text, p.get("role"), p.get("group"), p.get("img")) for p in people] == [
        ("Wesley Livesay", "host", "cast", "https://example.com/wesley.jpg"),
        ("A. Producer", "producer", "audio post-production", None),
    ]


def test_no_locked_tag_unless_an_owner_is_configured(client, show):
    assert etree.fromstring(get_feed(client)).find("channel/podcast:locked", NS) is None
    with override_settings(PODCAST_FEED_OWNER_EMAIL="owner@example.com"):
        locked = etree.fromstring(get_feed(client)).find("channel/podcast:locked", NS)
    assert (locked.text, locked.get("owner")) == ("yes", "owner@example.com")
    assert podcast_schema().validate(wrapped([locked]))


def test_hostile_and_broken_text_still_makes_a_well_formed_feed(client, show):
    episode = show["untimed"]
    episode.title = "Tricky \x0b title </title><script>alert(1)</script>\ufffe"
    episode.description = "Notes \x01 with <![CDATA[ ]]> & ampersands\uffff"
    episode.save()
    item = item_of(get_feed(client), episode)
    assert item.findtext("title") == "Tricky  title </title><script>alert(1)</script>"
    assert item.findtext("description") == "Notes  with <![CDATA[ ]]> & ampersands"


def test_the_feed_answers_conditional_gets_and_changes_with_credits(client, show):
    first = client.get(FEED)
    assert client.get(FEED, headers={"If-None-Match": first["ETag"]}).status_code == 304
    Credit.objects.create(episode=show["timed"], name="A Guest", role="guest")
    second = client.get(FEED, headers={"If-None-Match": first["ETag"]})
    assert second.status_code == 200 and second["ETag"] != first["ETag"]


def test_the_feed_keeps_its_query_count_flat(client, show, django_assert_max_num_queries):
    for number in range(200, 230):
        episode = make_episode(number=number, audio_url=f"https://cdn.example.com/{number}.mp3")
        make_sentences(episode, "A sentence.")
        Credit.objects.create(episode=episode, name="Wesley Livesay")
    with django_assert_max_num_queries(4):
        get_feed(client)


# --- Other people's parsers ----------------------------------------------------


def test_podcastparser_reads_every_episode(client, show):
    parsed = podcastparser.parse("http://testserver/feed.xml", io.BytesIO(get_feed(client)))
    assert parsed["title"] == "History of the Second World War"
    episodes = {episode["title"]: episode for episode in parsed["episodes"]}
    assert set(episodes) == {"The Great Purges", "The Soviet Military", "Poland"}
    purges = episodes["The Great Purges"]
    assert purges["guid"] == "http://testserver/episodes/138-the-great-purges/"
    assert purges["number"] == 138 and purges["total_time"] == 90
    assert purges["enclosures"] == [{"url": "http://testserver/episodes/138-the-great-purges/audio/",
                                     "file_size": 2048, "mime_type": "audio/mpeg"}]
    assert episodes["The Soviet Military"]["guid"] == "hsww-137"


def test_podcastparser_reads_persons_chapters_and_a_transcript(client, show, monkeypatch):
    """
    podcastparser 0.6.11 knows the namespace only by its other name, the spec's
    GitHub URL, which the spec says clients must treat as identical; taught that
    ours is the same, it reads every person, the chapters link and one transcript
    (it keeps one URL per item, the last).
    """
    monkeypatch.setitem(podcastparser.Namespace.NAMESPACES, PODCAST, "podcast")
    parsed = podcastparser.parse("http://testserver/feed.xml", io.BytesIO(get_feed(client)))
    purges = next(e for e in parsed["episodes"] if e["title"] == "The Great Purges")
    assert [(p["name"], p["role"], p["group"]) for p in purges["persons"]] == [
        ("Wesley Livesay", "host", "cast"), ("A. Producer", "producer", "audio post-production")
    ]
    assert purges["chapters_json_url"] == "http://testserver/episodes/138-the-great-purges/chapters.json"
    assert purges["transcript_url"] == "http://testserver/episodes/138-the-great-purges/transcript.txt"


def test_feedparser_reads_every_episode_and_the_podcast_tags(client, show):
    """
    feedparser keeps the attributes of the last podcast:* element of each name
    in an item (and drops person names), so it sees one transcript and one person.
    """
    parsed = feedparser.parse(get_feed(client))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.namespaces["podcast"] == PODCAST
    assert parsed.feed.title == "History of the Second World War"
    entries = {entry.title: entry for entry in parsed.entries}
    assert set(entries) == {"The Great Purges", "The Soviet Military", "Poland"}
    purges = entries["The Great Purges"]
    assert purges.link == "http://testserver/episodes/138-the-great-purges/"
    assert purges.itunes_duration == "90" and purges.itunes_episode == "138"
    assert [(e.href, e.type, e.length) for e in purges.enclosures] == [
        ("http://testserver/episodes/138-the-great-purges/audio/", "audio/mpeg", "2048")
    ]
    assert purges.podcast_transcript == {
        "url": "http://testserver/episodes/138-the-great-purges/transcript.txt", "type": "text/plain", "language": "en"
    }
    assert purges.podcast_chapters["type"] == "application/json+chapters"
    assert purges.podcast_person == {"role": "producer", "group": "audio post-production"}
    assert entries["The Soviet Military"].id == "hsww-137"


# --- Every link answers ---------------------------------------------------------


def feed_urls(content):
    root = etree.fromstring(content)
    urls = [root.findtext("channel/link"), root.find("channel/atom:link", NS).get("href")]
    for item in root.iter("item"):
        urls.append(item.findtext("link"))
        if item.find("guid").get("isPermaLink") == "true":
            urls.append(item.findtext("guid"))
        if (enclosure := item.find("enclosure")) is not None:
            urls.append(enclosure.get("url"))
        urls += [element.get("url") for element in item.iterfind("podcast:transcript", NS)]
        urls += [element.get("url") for element in item.iterfind("podcast:chapters", NS)]
    return urls


def test_every_url_of_ours_in_the_feed_answers_200(client, show):
    urls = feed_urls(get_feed(client))
    ours = [url for url in urls if urlsplit(url).netloc == "testserver"]
    assert len(ours) >= 16
    chapter_links = []
    for url in ours:
        parts = urlsplit(url)
        response = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        assert response.status_code == 200, url
        if parts.path.endswith("chapters.json"):
            chapter_links += [chapter["url"] for chapter in json.loads(response.content)["chapters"]]
    assert chapter_links
    for url in chapter_links:
        parts = urlsplit(url)
        assert client.get(f"{parts.path}?{parts.query}").status_code == 200, url
    assert [url for url in urls if url not in ours] == ["https://cdn.example.com/137.m4a",
                                                        "https://cdn.example.com/139.mp3"]


# --- The HTML transcript and the chapters file ---------------------------------


def test_html_transcript_is_podcasting_html_with_times(client, show):
    response = client.get("/episodes/138-the-great-purges/transcript.html")
    assert response["Content-Type"] == "text/html; charset=utf-8"
    cues = parse_podcast_html(response.content.decode())
    sentences = list(show["timed"].sentences.order_by("position"))
    assert [cue.text for cue in cues] == [
        f"{sentences[0].text} {sentences[1].text}", sentences[2].text
    ]
    assert [cue.start for cue in cues] == [int(sentences[0].start), int(sentences[2].start)]


def test_html_transcript_escapes_the_text(client, show):
    make_sentences(show["untimed"], "A <script>alert(1)</script> & more.", paragraph=2)
    html = client.get("/episodes/137-the-soviet-military/transcript.html").content.decode()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more." in html


def chapters_of(client, slug):
    response = client.get(f"/episodes/{slug}/chapters.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json+chapters"
    return json.loads(response.content)


def test_derived_chapters_are_one_per_paragraph(client, show):
    document = chapters_of(client, "138-the-great-purges")
    sentences = list(show["timed"].sentences.order_by("position"))
    assert document["version"] == "1.2.0" and document["title"] == "The Great Purges"
    assert [(c["startTime"], c["title"]) for c in document["chapters"]] == [
        (0.0, "The NKVD arrested thousands. Stalin signed the lists."),
        (round(sentences[2].start, 3), "Kopelev wrote: “We were forced to resort to…"),
    ]


def test_chapter_files_use_only_the_specs_fields(client, show):
    example = json.loads((PODCASTING2 / "chapters-example.json").read_text())
    allowed = {"startTime", "endTime", "title", "img", "url", "toc", "location"}
    assert set().union(*(chapter.keys() for chapter in example["chapters"])) <= allowed
    document = chapters_of(client, "138-the-great-purges")
    assert set(example) <= set(document)
    for chapter in document["chapters"]:
        assert set(chapter) <= allowed
        assert isinstance(chapter["startTime"], (int, float)) and isinstance(chapter["title"], str)
    starts = [chapter["startTime"] for chapter in document["chapters"]]
    assert starts == sorted(starts)


def test_a_chapter_link_lands_on_its_paragraph(client, show):
    chapter = chapters_of(client, "138-the-great-purges")["chapters"][1]
    parts = urlsplit(chapter["url"])
    html = client.get(f"{parts.path}?{parts.query}").content.decode()
    assert 'id="s-3" autofocus' in html


def test_an_editors_chapters_win(client, show):
    Chapter.objects.create(episode=show["timed"], start=30, title="The trials", url="https://example.com/trials")
    Chapter.objects.create(episode=show["timed"], start=0, title="Opening")
    chapters = chapters_of(client, "138-the-great-purges")["chapters"]
    assert chapters == [{"startTime": 0, "title": "Opening"},
                        {"startTime": 30, "title": "The trials", "url": "https://example.com/trials"}]


def test_an_untimed_episode_has_chapters_only_from_an_editor(client, show):
    assert client.get("/episodes/137-the-soviet-military/chapters.json").status_code == 404
    Chapter.objects.create(episode=show["untimed"], start=0, title="Deep battle")
    assert chapters_of(client, "137-the-soviet-military")["chapters"] == [{"startTime": 0, "title": "Deep battle"}]
    item = item_of(get_feed(client), show["untimed"])
    assert item.find("podcast:chapters", NS).get("url") == "http://testserver/episodes/137-the-soviet-military/chapters.json"


def test_chapters_answer_conditional_gets(client, show):
    url = "/episodes/138-the-great-purges/chapters.json"
    etag = client.get(url)["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_a_synthetic_narration_is_said_to_be_one(client, show):
    episode = show["timed"]
    assert "synthetic" not in item_of(get_feed(client), episode).findtext("description")
    episode.audio_is_synthetic = True
    episode.save()
    description = item_of(get_feed(client), episode).findtext("description")
    assert description.endswith("The audio is a synthetic narration standing in for the episode's recording.")


def test_the_episode_page_links_the_html_transcript(client, show):
    html = client.get("/episodes/138-the-great-purges/").content.decode()
    assert '<a href="/episodes/138-the-great-purges/transcript.html" type="text/html">Web page (HTML)</a>' in html

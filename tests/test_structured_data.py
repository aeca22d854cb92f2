"""
schema.org JSON-LD on episode, person, term and source pages, and the link
preview tags (Open Graph, Twitter cards) on every page, moments included.
"""

import datetime
import json
from html.parser import HTMLParser

import pytest
from django.core.files.base import ContentFile

from episodes.models import Podcast
from tests.factories import make_episode, make_sentences, make_source, make_term

pytestmark = pytest.mark.django_db

EPISODE = "/episodes/138-the-great-purges/"


class HeadReader(HTMLParser):
    """The page's meta tags, its JSON-LD blocks and its <title>."""

    def __init__(self):
        super().__init__()
        self.meta, self.json_ld, self.scripts, self.links = {}, [], [], []
        self.in_json_ld = False
        self.title, self.in_title = "", False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            key = attrs.get("property") or attrs.get("name")
            self.meta.setdefault(key, attrs.get("content"))
        elif tag == "script":
            self.scripts.append(attrs)
            self.in_json_ld = attrs.get("type") == "application/ld+json"
            if self.in_json_ld:
                self.json_ld.append("")
        elif tag == "title" and not self.title:
            self.in_title = True  # the page's; SVG <title>s come later
        elif tag == "link":
            self.links.append(attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_json_ld = False
        elif tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_json_ld:
            self.json_ld[-1] += data
        elif self.in_title:
            self.title += data


def read(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    reader = HeadReader()
    reader.feed(response.content.decode())
    return reader


def json_ld(client, url):
    blocks = read(client, url).json_ld
    assert len(blocks) == 1, url
    return json.loads(blocks[0])


@pytest.fixture
def timed(small_episode):
    episode = small_episode["episode"]
    episode.duration = datetime.timedelta(seconds=3725)
    episode.published = datetime.date(2019, 8, 11)
    episode.audio.save("138.mp3", ContentFile(b"ID3" + b"\0" * 100), save=False)
    episode.save()
    episode.estimate_timings()
    return small_episode


# --- JSON-LD --------------------------------------------------------------------


def test_episode_page_is_a_podcast_episode(client, timed):
    data = json_ld(client, EPISODE)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "PodcastEpisode"
    assert data["url"] == data["@id"] == "http://testserver/episodes/138-the-great-purges/"
    assert (data["name"], data["episodeNumber"], data["datePublished"]) == ("The Great Purges", 138, "2019-08-11")
    assert data["timeRequired"] == data["duration"] == "PT1H2M5S"
    assert data["description"] == "It was time to clean house."
    assert data["partOfSeries"] == {
        "@type": "PodcastSeries", "name": "History of the Second World War",
        "url": "http://testserver/", "webFeed": "http://testserver/feed.xml",
    }
    assert data["isPartOf"]["name"] == "The Soviet Union" and data["position"] == 8
    audio = data["associatedMedia"]
    assert audio["@type"] == "AudioObject"
    assert audio["contentUrl"] == "http://testserver/episodes/138-the-great-purges/audio/"
    assert audio["encodingFormat"] == "audio/mpeg" and audio["duration"] == "PT1H2M5S"
    assert audio["transcript"].startswith("The NKVD arrested thousands. Stalin signed the lists.\n\nKopelev wrote:")


def test_episode_series_comes_from_the_podcast_row(client, timed):
    Podcast.objects.create(title="HSWW", link="https://example.com/show", author="W. L.")
    series = json_ld(client, EPISODE)["partOfSeries"]
    assert (series["name"], series["url"]) == ("HSWW", "https://example.com/show")


def test_an_untimed_episode_without_audio_still_gives_its_transcript(client, small_episode):
    data = json_ld(client, EPISODE)
    assert "timeRequired" not in data and "contentUrl" not in data["associatedMedia"]
    assert "Stalin signed the lists." in data["associatedMedia"]["transcript"]


def test_person_page_is_a_person_with_years(client, small_episode):
    data = json_ld(client, "/people/joseph-stalin/")
    assert data["@type"] == "Person"
    assert (data["name"], data["birthDate"], data["deathDate"]) == ("Joseph Stalin", "1878", "1953")
    assert data["description"] == "General Secretary of the Communist Party."
    assert data["alternateName"] == ["Stalin"]
    assert data["url"] == "http://testserver/people/joseph-stalin/"


def test_term_page_is_a_defined_term_in_the_glossary(client, small_episode):
    data = json_ld(client, "/glossary/nkvd/")
    assert data["@type"] == "DefinedTerm"
    assert (data["name"], data["description"]) == ("NKVD", "The Soviet interior ministry and secret police.")
    assert data["inDefinedTermSet"]["@type"] == "DefinedTermSet"
    assert data["inDefinedTermSet"]["url"] == "http://testserver/glossary/"
    assert client.get("/glossary/").status_code == 200


def test_source_pages_are_books_or_creative_works(client, small_episode):
    make_source("Stalin's Letters", slug="letters", kind="document", author="", year=None)
    source = small_episode["source"]
    source.isbn, source.publisher = "978-0-00-000000-2", "Ardis"
    source.save()
    book = json_ld(client, "/sources/education-of-a-true-believer/")
    assert book["@type"] == "Book"
    assert book["author"] == {"@type": "Person", "name": "Lev Kopelev"}
    assert (book["name"], book["datePublished"], book["isbn"]) == (
        "The Education of a True Believer", "1980", "978-0-00-000000-2")
    assert book["publisher"] == {"@type": "Organization", "name": "Ardis"}
    document = json_ld(client, "/sources/letters/")
    assert document["@type"] == "CreativeWork" and "author" not in document and "isbn" not in document


def test_json_ld_cannot_break_out_of_its_script(client, small_episode):
    hostile = "</script><script>alert(1)</script><!-- & -->"
    make_term("Hostile", slug="hostile", definition=hostile)
    html = client.get("/glossary/hostile/").content.decode()
    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block and ">" not in block and "&" not in block
    assert json.loads(block)["description"] == hostile


def test_json_ld_needs_no_nonce(client, small_episode):
    """A data block is never run, so the CSP's nonce is left off (cached pages stay shareable)."""
    scripts = read(client, "/glossary/nkvd/").scripts
    assert [s for s in scripts if s.get("type") == "application/ld+json"] == [{"type": "application/ld+json"}]


@pytest.mark.parametrize("url", ["/", "/glossary/", "/people/", "/sources/", "/search/?q=nkvd"])
def test_list_pages_have_no_json_ld(client, small_episode, url):
    assert read(client, url).json_ld == []


# --- Open Graph and Twitter cards -------------------------------------------------

PAGES = [
    "/", EPISODE, "/glossary/", "/glossary/nkvd/", "/people/", "/people/joseph-stalin/",
    "/sources/", "/sources/education-of-a-true-believer/", "/search/?q=nkvd", "/accounts/login/",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_has_preview_tags_matching_its_title(client, small_episode, url):
    page = read(client, url)
    meta = page.meta
    for key in ["og:title", "og:description", "og:url", "og:type", "og:site_name",
                "twitter:card", "twitter:title", "twitter:description", "description"]:
        assert meta.get(key), (url, key)
    assert page.title == f"{meta['og:title']} · Companion"
    assert meta["twitter:title"] == meta["og:title"]
    assert meta["og:url"] == "http://testserver" + url.split("?")[0]
    feed_links = [link for link in page.links if link.get("type") == "application/rss+xml"]
    assert [link["href"] for link in feed_links] == ["/feed.xml"]


def test_page_descriptions_come_from_the_entry(client, small_episode):
    assert read(client, "/glossary/nkvd/").meta["og:description"] == "The Soviet interior ministry and secret police."
    person = read(client, "/people/joseph-stalin/").meta
    assert (person["og:type"], person["og:description"]) == ("profile", "General Secretary of the Communist Party.")
    book = read(client, "/sources/education-of-a-true-believer/").meta
    assert book["og:type"] == "book" and book["book:release_date"] == "1980"


def test_episode_preview_is_an_article_with_its_audio(client, timed):
    Podcast.objects.create(title="HSWW", image_url="https://example.com/show.jpg")
    meta = read(client, EPISODE).meta
    assert meta["og:type"] == "article"
    assert meta["og:title"] == "138: The Great Purges"
    assert meta["og:audio"] == "http://testserver/episodes/138-the-great-purges/audio/"
    assert meta["og:audio:type"] == "audio/mpeg"
    assert meta["og:image"] == "https://example.com/show.jpg"
    assert meta["article:published_time"] == "2019-08-11"
    assert meta["article:section"] == "The Soviet Union"


def test_episode_without_audio_has_no_og_audio(client, small_episode):
    """No audio, no og:audio; the picture is the show's cover (the demo's, with no Podcast row)."""
    meta = read(client, EPISODE).meta
    assert "og:audio" not in meta
    assert meta["og:image"] == "http://testserver/static/podcast/cover.png"


def test_a_shared_moment_previews_its_sentence_and_time(client, timed):
    second = timed["episode"].sentences.get(position=2)
    moment = int(second.start) + 1
    page = read(client, f"{EPISODE}?t={moment}")
    expected = f"“Stalin signed the lists.” — The Great Purges at {moment // 60}:{moment % 60:02d}"
    assert page.meta["og:title"] == page.meta["twitter:title"] == expected
    assert page.meta["og:url"] == f"http://testserver{EPISODE}?t={moment}"
    canonical = [link["href"] for link in page.links if link.get("rel") == "canonical"]
    assert canonical == [f"http://testserver{EPISODE}"]
    assert page.title == "138: The Great Purges · Companion"


def test_a_long_moment_sentence_is_cut_at_a_word(client, timed):
    episode = make_episode(number=140, slug="140-long", title="Long", duration=datetime.timedelta(seconds=60))
    make_sentences(episode, "word " * 60 + "end.")
    episode.estimate_timings()
    title = read(client, "/episodes/140-long/?t=1").meta["og:title"]
    quote = title.split("” — ")[0].removeprefix("“")
    assert quote.endswith("word…") and len(quote) <= 120
    assert title.endswith("” — Long at 0:01")


def test_an_untimed_moment_previews_only_the_time(client, small_episode):
    assert read(client, f"{EPISODE}?t=754").meta["og:title"] == "The Great Purges at 12:34"


def test_preview_text_is_escaped(client, small_episode):
    make_term("Quote", slug="quote", definition='He said "leave" & <b>went</b>.')
    html = client.get("/glossary/quote/").content.decode()
    assert 'content="He said &quot;leave&quot; &amp; went."' in html


def test_episode_page_queries_stay_bounded_with_a_moment(client, timed, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        read(client, f"{EPISODE}?t=5")


def test_a_page_rendered_without_its_request_still_renders(db):
    from django.template.loader import render_to_string

    html = render_to_string("429.html", {})
    assert "og:title" not in html and "<title>Too many attempts · Companion</title>" in html


def test_a_synthetic_narration_is_described_as_one(client, timed):
    assert "description" not in json_ld(client, EPISODE)["associatedMedia"]
    timed["episode"].audio_is_synthetic = True
    timed["episode"].save()
    assert "synthetic narration" in json_ld(client, EPISODE)["associatedMedia"]["description"]

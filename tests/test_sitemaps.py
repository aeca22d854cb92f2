"""/sitemap.xml names every public page and nothing that fails; /robots.txt points at it."""

import datetime
from urllib.parse import urlsplit

import pytest
from lxml import etree

from episodes.models import Series
from episodes.models import Episode
from tests.factories import make_episode, make_source, make_term

pytestmark = pytest.mark.django_db

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_paths(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    locations = etree.fromstring(response.content).xpath("//s:url/s:loc/text()", namespaces=SITEMAP_NS)
    assert all(urlsplit(url).netloc == "testserver" for url in locations)
    return [urlsplit(url).path for url in locations]


def test_sitemap_lists_every_episode_entry_and_list_page(client, small_episode):
    make_episode(number=139, slug="139-poland", title="Poland")
    paths = sitemap_paths(client)
    for path in ["/", "/glossary/", "/people/", "/sources/", "/episodes/138-the-great-purges/",
                 "/episodes/139-poland/", "/glossary/nkvd/", "/people/joseph-stalin/",
                 "/sources/education-of-a-true-believer/"]:
        assert path in paths
    assert len(paths) == len(set(paths))


def test_sitemap_lists_series_and_other_pages_when_they_exist(client, small_episode):
    paths = sitemap_paths(client)
    assert "/series/the-soviet-union/" in paths
    for name in ["/episodes/", "/series/", "/timeline/"]:
        assert name in paths


def test_every_sitemap_url_answers_200(client, small_episode):
    make_term("Gulag", definition="The camp system.")
    make_source("Kolyma Tales", slug="kolyma-tales", author="Varlam Shalamov", year=1978)
    Series.objects.create(title="The Road to War", slug="the-road-to-war")
    paths = sitemap_paths(client)
    assert len(paths) >= 14
    for path in paths:
        assert client.get(path).status_code == 200, path


def episode_lastmod(client):
    root = etree.fromstring(client.get("/sitemap.xml").content)
    url = root.xpath("//s:url[s:loc='http://testserver/episodes/138-the-great-purges/']", namespaces=SITEMAP_NS)[0]
    return url.findtext("s:lastmod", namespaces=SITEMAP_NS)


def test_sitemap_dates_an_episode_by_its_row_or_its_transcript(client, small_episode):
    episode = small_episode["episode"]
    later = episode.updated + datetime.timedelta(days=3)
    Episode.objects.filter(pk=episode.pk).update(transcript_rendered_at=later)
    assert episode_lastmod(client) == later.date().isoformat()
    Episode.objects.filter(pk=episode.pk).update(updated=later + datetime.timedelta(days=2))
    assert episode_lastmod(client) == (later + datetime.timedelta(days=2)).date().isoformat()


def test_sitemap_leaves_out_pages_whose_urls_do_not_exist(client, small_episode):
    from episodes import sitemaps

    assert sitemaps.url_exists("episodes:term_list")
    assert not sitemaps.url_exists("episodes:no_such_page")
    assert sitemaps.ListPages().items() == [name for name in sitemaps.LIST_PAGES if sitemaps.url_exists(name)]


def robots(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    return response.content.decode().splitlines()


def test_robots_keeps_crawlers_out_of_staff_and_account_pages(client, db):
    lines = robots(client)
    assert lines[0] == "User-agent: *"
    disallowed = {line.split(": ", 1)[1] for line in lines if line.startswith("Disallow:")}
    assert disallowed == {"/admin/", "/moderation/", "/accounts/", "/search/"}
    assert "Allow: /" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_robots_does_not_reveal_a_hidden_admin_path(client, db, settings):
    settings.ADMIN_PATH = "back-office-7f3a/"
    text = "\n".join(robots(client))
    assert "back-office" not in text and "/admin/" not in text
    assert "Disallow: /moderation/" in text


def test_robots_and_sitemap_paths_are_not_disallowed(client, small_episode):
    disallowed = [line.split(": ", 1)[1] for line in robots(client) if line.startswith("Disallow:")]
    for path in sitemap_paths(client):
        assert not any(path.startswith(prefix) for prefix in disallowed), path

"""Every page answers, shows what it should, and keeps its query count flat."""

import datetime

import pytest

from episodes.linking import relink_all
from tests.factories import make_episode, make_person, make_sentences, make_term

pytestmark = pytest.mark.django_db


def get(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response.content.decode()


def test_home_lists_episodes(client, small_episode):
    html = get(client, "/")
    assert "The Great Purges" in html
    assert 'href="/episodes/138-the-great-purges/"' in html


def test_episode_page_shows_header_and_anchored_sentences(client, small_episode):
    html = get(client, "/episodes/138-the-great-purges/")
    for text in ["Episode 138", "The Soviet Union, Part 8", "The Great Purges", "It was time to clean house."]:
        assert text in html
    assert 'id="s-1"' in html and 'id="s-3"' in html


def test_mentions_are_links_with_popovers(client, small_episode):
    html = get(client, "/episodes/138-the-great-purges/")
    assert '<a class="mention mention-term" href="/glossary/nkvd/" data-popover="pop-term-nkvd">NKVD</a>' in html
    assert 'href="/people/joseph-stalin/" data-popover="pop-person-joseph-stalin">Stalin</a>' in html
    assert 'id="pop-term-nkvd"' in html and "The Soviet interior ministry and secret police." in html
    assert "(1878–1953)" in html


def test_a_citation_marker_previews_its_source_and_falls_back_to_the_source_list(client, small_episode):
    html = get(client, "/episodes/138-the-great-purges/")
    assert ('barbaric methods.<sup class="fnref"><a href="#fn-1" id="fnref-1-1" data-popover="cite-1-1"'
            in html)
    preview = html.split('id="cite-1-1"')[1].split("</div>")[0]
    assert "<cite>The Education of a True Believer</cite>" in preview and "Lev Kopelev, 1980, p. 11" in preview
    assert '<blockquote class="source-quote">We were forced to resort to barbaric methods.</blockquote>' in preview
    assert 'href="/sources/education-of-a-true-believer/"' in preview
    # Without JavaScript the marker leads to the list, and the list back to the marker.
    assert 'id="fn-1"' in html and 'href="#fnref-1-1"' in html


def test_unknown_pages_are_404(client, small_episode):
    for url in ["/episodes/nope/", "/glossary/nope/", "/people/nope/", "/sources/nope/"]:
        assert client.get(url).status_code == 404


def test_glossary_lists_terms_a_to_z(client, small_episode):
    make_term("Gulag", definition="The camp system.")
    html = get(client, "/glossary/")
    assert html.index("Gulag") < html.index("NKVD")
    assert 'id="letter-G"' in html


def test_glossary_filter_works_as_a_plain_get(client, small_episode):
    make_term("Gulag", definition="The camp system.")
    html = get(client, "/glossary/?q=commissariat")
    assert "NKVD" in html and "Gulag" not in html
    assert "<html" in html


def test_glossary_filter_with_htmx_returns_only_the_results(client, small_episode):
    response = client.get("/glossary/?q=gul", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_glossary_filter_empty_state(client, small_episode):
    html = get(client, "/glossary/?q=zzzz")
    assert "No term matches “zzzz”" in html


def test_hostile_filter_input_is_escaped(client, small_episode):
    html = get(client, "/glossary/?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_control_characters_in_the_filter_are_dropped(client, small_episode):
    """PostgreSQL refuses a query holding NUL: the filter never sends one."""
    html = get(client, "/glossary/?q=NK%00VD%0B")
    assert "No term matches" not in html and 'value="NKVD"' in html


def test_term_page_lists_mentions_linking_to_sentences(client, small_episode):
    html = get(client, "/glossary/nkvd/")
    assert "The Soviet interior ministry and secret police." in html
    assert 'href="/episodes/138-the-great-purges/#s-1"' in html
    assert 'href="/episodes/138-the-great-purges/#s-3"' in html
    assert "<mark>NKVD</mark>" in html


def test_people_pages(client, small_episode):
    assert "Joseph Stalin" in get(client, "/people/")
    html = get(client, "/people/joseph-stalin/")
    assert "General Secretary of the Communist Party." in html
    assert 'href="/episodes/138-the-great-purges/#s-2"' in html


def test_people_filter_matches_aliases(client, small_episode):
    make_person("Nikolai Yezhov", aliases="Yezhov\nEzhov")
    html = get(client, "/people/?q=ezhov")
    assert "Nikolai Yezhov" in html and "Joseph Stalin" not in html


def test_source_pages_show_citations_in_context(client, small_episode):
    assert "The Education of a True Believer" in get(client, "/sources/")
    html = get(client, "/sources/education-of-a-true-believer/")
    assert "Lev Kopelev" in html
    assert 'href="/episodes/138-the-great-purges/#s-3"' in html


def test_pages_send_a_strict_content_security_policy(client, small_episode):
    """Scripts from our origin only: no inline script needs a nonce, so pages readers share carry none."""
    response = client.get("/episodes/138-the-great-purges/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "<script>" not in response.content.decode()


def test_pages_have_no_inline_handlers_or_hx_on(client, small_episode):
    for url in ["/", "/episodes/138-the-great-purges/", "/glossary/", "/people/joseph-stalin/"]:
        html = get(client, url)
        assert " onclick=" not in html and "hx-on" not in html
        assert '"includeIndicatorStyles": false' in html


def test_writes_are_refused_on_read_only_pages(client, small_episode):
    assert client.post("/glossary/").status_code == 405


def large_episode(sentence_count):
    episode = make_episode(number=500, slug="500-large", duration=datetime.timedelta(hours=1))
    make_sentences(episode, *[f"Stalin told the NKVD about Kirov, number {n}." for n in range(sentence_count)])
    make_term("NKVD")
    make_person("Joseph Stalin", aliases="Stalin")
    make_person("Sergei Kirov", aliases="Kirov")
    relink_all()
    episode.estimate_timings()
    return episode


@pytest.mark.parametrize(
    "url, limit",
    [
        ("/", 4),  # latest episodes, series, most-mentioned people, terms
        ("/episodes/500-large/", 5),  # + its previous/next neighbours, + the show and transcript text for JSON-LD
        ("/glossary/", 2),
        ("/glossary/nkvd/", 6),  # X-Ray strips (episodes/xray.py): + which episodes, + the page's episodes
        ("/people/", 2),
        ("/people/joseph-stalin/", 5),  # the same two for the strips
        ("/sources/", 2),
        ("/episodes/500-large/transcript.vtt", 3),
        ("/episodes/500-large/words.json", 3),
    ],
)
def test_query_counts_do_not_grow_with_sentences_or_mentions(client, django_assert_max_num_queries, url, limit):
    large_episode(300)
    with django_assert_max_num_queries(limit):
        get(client, url)


def test_the_favicon_is_where_browsers_look_for_it(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
